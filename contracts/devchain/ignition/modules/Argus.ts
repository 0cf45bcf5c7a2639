import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

const NATIVE = "0x0000000000000000000000000000000000000000";

/**
 * The Argus escrow with its roles: the deployer administers (the role moves only by a
 * two-step transfer that waits `adminDelaySeconds`), `modelAdmin` registers models and
 * names their operators, and the native currency is allowed as a fee currency with a cap
 * on the callback gas price. Operators are named per model when models are registered.
 * Parameters (all optional): treasury, protocolFeeBps, modelAdmin, adminDelaySeconds,
 * nativeMaxCallbackGasPriceWei.
 */
export default buildModule("Argus", (m) => {
  const deployer = m.getAccount(0);
  const treasury = m.getParameter("treasury", deployer);
  const protocolFeeBps = m.getParameter("protocolFeeBps", 500);
  const modelAdmin = m.getParameter("modelAdmin", deployer);
  const adminDelaySeconds = m.getParameter("adminDelaySeconds", 2 * 24 * 3600);
  // 10,000 gwei: far above what gas costs on any chain Argus targets, and a bound all the same.
  const nativeMaxCallbackGasPrice = m.getParameter("nativeMaxCallbackGasPriceWei", 10n ** 13n);

  const escrow = m.contract("PredictionEscrow", [deployer, adminDelaySeconds, treasury, protocolFeeBps]);
  const modelAdminRole = m.staticCall(escrow, "MODEL_ADMIN_ROLE", [], 0, { id: "modelAdminRole" });
  m.call(escrow, "grantRole", [modelAdminRole, modelAdmin], { id: "grantModelAdmin" });
  m.call(escrow, "setFeeToken", [NATIVE, true, nativeMaxCallbackGasPrice], { id: "allowNative" });

  return { escrow };
});
