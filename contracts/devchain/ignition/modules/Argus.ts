import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

/**
 * The Argus escrow with its roles: the deployer administers, `modelAdmin` registers
 * models, `oracle` settles requests. Parameters (all optional):
 *   treasury, protocolFeeBps, modelAdmin, oracle.
 */
export default buildModule("Argus", (m) => {
  const deployer = m.getAccount(0);
  const treasury = m.getParameter("treasury", deployer);
  const protocolFeeBps = m.getParameter("protocolFeeBps", 500);
  const modelAdmin = m.getParameter("modelAdmin", deployer);
  const oracle = m.getParameter("oracle", deployer);

  const escrow = m.contract("PredictionEscrow", [deployer, treasury, protocolFeeBps]);
  const modelAdminRole = m.staticCall(escrow, "MODEL_ADMIN_ROLE", [], 0, { id: "modelAdminRole" });
  const oracleRole = m.staticCall(escrow, "ORACLE_ROLE", [], 0, { id: "oracleRole" });
  m.call(escrow, "grantRole", [modelAdminRole, modelAdmin], { id: "grantModelAdmin" });
  m.call(escrow, "grantRole", [oracleRole, oracle], { id: "grantOracle" });

  return { escrow };
});
