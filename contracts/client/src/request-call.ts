/**
 * The one place a prediction request's contract call is built: the SDK's
 * `requestPrediction`, and the web UI's payment paths and network-cost estimate, all take
 * it from here, so a change to the request's arguments (e.g. a fee bound) is made once.
 * Browser-safe.
 */
import type { Hex } from "viem";
import { predictionEscrowAbi } from "./abi.generated.ts";

/**
 * The most a request pays and the latest deadline it accepts (`requestBounds` in
 * @argus/escrow/request-terms): a price or window raised since the quote reverts it.
 */
export interface RequestBoundArgs {
  maxFee: bigint;
  latestDeadline: number;
}

/** An EIP-2612 permit as `requestPredictionWithPermit` takes it. */
export interface PermitArgs {
  deadline: bigint;
  v: number;
  r: Hex;
  s: Hex;
}

/** What a native-priced request sends: `requestPrediction(modelId, imageCid, maxFee, latestDeadline)` with the fee as value. */
export function nativeRequestCall(modelId: number, imageCid: Hex, fee: bigint, bounds: RequestBoundArgs) {
  return {
    abi: predictionEscrowAbi,
    functionName: "requestPrediction",
    args: [modelId, imageCid, bounds.maxFee, bounds.latestDeadline],
    value: fee,
  } as const;
}

/** What a token-priced request sends when the escrow's allowance already covers the fee: it is pulled with `transferFrom`. */
export function tokenRequestCall(modelId: number, imageCid: Hex, bounds: RequestBoundArgs) {
  return {
    abi: predictionEscrowAbi,
    functionName: "requestPrediction",
    args: [modelId, imageCid, bounds.maxFee, bounds.latestDeadline],
  } as const;
}

/** What a token-priced request sends: the permit (signed for `maxFee`) pulls the fee (no callback: gas limit 0). */
export function permitRequestCall(modelId: number, imageCid: Hex, bounds: RequestBoundArgs, permit: PermitArgs) {
  return {
    abi: predictionEscrowAbi,
    functionName: "requestPredictionWithPermit",
    args: [modelId, imageCid, 0, bounds.maxFee, bounds.latestDeadline, permit],
  } as const;
}
