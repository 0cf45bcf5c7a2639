/**
 * What a request committed to on-chain, and the one encoder of the escrow's packed
 * fulfilment items. Every settlement (fulfil, reject, reclaim) presents these terms;
 * they come from the request's `PredictionRequested` event.
 */
import type { Address, Hex } from "viem";

export interface RequestTerms {
  requestId: bigint;
  requester: Address;
  modelId: number;
  fee: bigint;
  deadline: bigint;
  callbackGasLimit: number;
}

/** The top prediction as the contract stores it (see `onChainSummary` in the result schema). */
export interface TopResult {
  topClass: number;
  topScore: number;
}

/** One `fulfillBatch` item: the escrow's four-word layout (IPredictionEscrow.Fulfillment). */
export interface PackedFulfillment {
  requestId: bigint;
  requesterAndFee: bigint;
  details: bigint;
  resultDigest: Hex;
}

const UINT16_MAX = 0xffff;

export function packFulfillment(terms: RequestTerms, resultDigest: Hex, top: TopResult): PackedFulfillment {
  if (!Number.isInteger(top.topClass) || top.topClass < 0 || top.topClass > UINT16_MAX) {
    throw new RangeError(`topClass ${top.topClass} does not fit in uint16`);
  }
  if (!Number.isInteger(top.topScore) || top.topScore < 0 || top.topScore > 10_000) {
    throw new RangeError(`topScore ${top.topScore} is not basis points`);
  }
  return {
    requestId: terms.requestId,
    requesterAndFee: (BigInt(terms.requester) << 96n) | terms.fee,
    details:
      (BigInt(terms.modelId) << 224n) |
      (terms.deadline << 184n) |
      (BigInt(terms.callbackGasLimit) << 152n) |
      (BigInt(top.topClass) << 16n) |
      BigInt(top.topScore),
    resultDigest,
  };
}

/** The escrow's reason codes for `rejectBatch` (IPredictionEscrow.RejectReason). */
export const RejectReason = {
  Unspecified: 0,
  NotAnImage: 1,
  TooLarge: 2,
  Unretrievable: 3,
  UnsupportedFormat: 4,
  InvalidCid: 5,
  DecodeFailed: 6,
} as const;
export type RejectReasonCode = (typeof RejectReason)[keyof typeof RejectReason];

/** The escrow's `SettlementSkipped` reasons (IPredictionEscrow.SkipReason). */
export const SkipReason = { NotPending: 0, TermsMismatch: 1, Expired: 2, NotExpired: 3 } as const;
