import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import ArgusModule from "./Argus.ts";

/**
 * The Argus module plus what only a local chain has: tUSDC (contracts/mocks/TestUSDC.sol,
 * a USDC-like token with EIP-3009 transfers by signed authorization, 6 decimals, anyone
 * may mint) allowed as a fee currency, so a model priced in it can be paid by a holder
 * without ETH (`requestPredictionWithAuthorization`). `npm start` deploys this one; a real
 * chain deploys Argus.ts and allows its real tokens with `setFeeToken`.
 * Parameters: those of Argus.ts (under `Argus`), and `usdcMaxCallbackGasPrice`, the cap on
 * callback gas prices in tUSDC's smallest unit (default 1,000: 0.001 tUSDC a unit of gas).
 */
export default buildModule("ArgusLocal", (m) => {
  const { escrow } = m.useModule(ArgusModule);
  const usdcMaxCallbackGasPrice = m.getParameter("usdcMaxCallbackGasPrice", 1_000n);
  const usdc = m.contract("TestUSDC", []);
  m.call(escrow, "setFeeToken", [usdc, true, usdcMaxCallbackGasPrice], { id: "allowTestUSDC" });
  return { escrow, usdc };
});
