/**
 * The one place a prediction request's contract call is built: the payment paths
 * (`actions.ts`) and the network-cost estimate (`PayPanel`) all take it from here, so a
 * change to the request's arguments (e.g. a fee bound) is made once.
 */
import type { Hex } from "viem";
import { predictionEscrowAbi } from "./escrow.ts";

/** An EIP-2612 permit as `requestPredictionWithPermit` takes it. */
export interface PermitArgs {
  deadline: bigint;
  v: number;
  r: Hex;
  s: Hex;
}

/** What a native-priced request sends: `requestPrediction(modelId, imageCid)` with the fee as value. */
export function nativeRequestCall(modelId: number, imageCid: Hex, fee: bigint) {
  return {
    abi: predictionEscrowAbi,
    functionName: "requestPrediction",
    args: [modelId, imageCid],
    value: fee,
  } as const;
}

/** What a token-priced request sends: the permit pulls the fee (no callback: gas limit 0). */
export function permitRequestCall(modelId: number, imageCid: Hex, permit: PermitArgs) {
  return {
    abi: predictionEscrowAbi,
    functionName: "requestPredictionWithPermit",
    args: [modelId, imageCid, 0, permit],
  } as const;
}
