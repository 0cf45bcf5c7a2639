/**
 * What a request committed to on-chain, and the one encoder of the escrow's packed
 * fulfilment items. Every settlement (fulfil, reject, reclaim) presents these terms;
 * they come from the request's `PredictionRequested` event.
 */
import { type Address, decodeFunctionData, type Hex } from "viem";
import { imageCidText } from "@argus/protocol/cid";
import { predictionEscrowAbi } from "./abi.generated.ts";

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

/** The fields of a packed fulfilment item (the inverse of `packFulfillment`). */
export function unpackFulfillment(item: PackedFulfillment): RequestTerms & TopResult & { resultDigest: Hex } {
  const mask = (bits: bigint) => (1n << bits) - 1n;
  return {
    requestId: item.requestId,
    requester: `0x${(item.requesterAndFee >> 96n).toString(16).padStart(40, "0")}` as Address,
    fee: item.requesterAndFee & mask(96n),
    modelId: Number((item.details >> 224n) & mask(32n)),
    deadline: (item.details >> 184n) & mask(40n),
    callbackGasLimit: Number((item.details >> 152n) & mask(32n)),
    topClass: Number((item.details >> 16n) & mask(16n)),
    topScore: Number(item.details & mask(16n)),
    resultDigest: item.resultDigest,
  };
}

/**
 * The top result a fulfilment posted for `requestId`, read from the `fulfillBatch`
 * transaction's input (the `PredictionFulfilled` event carries only the digest).
 */
export function topResultFromCalldata(input: Hex, requestId: bigint): TopResult | undefined {
  const { functionName, args } = decodeFunctionData({ abi: predictionEscrowAbi, data: input });
  if (functionName !== "fulfillBatch") return undefined;
  const item = args[0].find((candidate) => candidate.requestId === requestId);
  if (!item) return undefined;
  const { topClass, topScore } = unpackFulfillment(item);
  return { topClass, topScore };
}

/** The arguments of a `PredictionRequested` event, as viem decodes them. */
export interface PredictionRequestedArgs {
  requestId: bigint;
  requester: Address;
  modelId: number;
  imageCid: Hex;
  fee: bigint;
  deadline: number;
  callbackGasLimit: number;
}

/**
 * A request's terms and image CID (as text; hex when the bytes are no CID) from its
 * event: the one decoder of `PredictionRequested`, for the oracle's intake and the
 * escrow reads alike.
 */
export function requestFromEvent(args: PredictionRequestedArgs): RequestTerms & { imageCid: string } {
  return {
    requestId: args.requestId,
    requester: args.requester,
    modelId: args.modelId,
    fee: args.fee,
    deadline: BigInt(args.deadline),
    callbackGasLimit: args.callbackGasLimit,
    imageCid: imageCidText(args.imageCid),
  };
}

/** EIP-2612's `Permit` typed-data definition, signed to pay a token-priced model in one transaction. */
export const PERMIT_TYPES = {
  Permit: [
    { name: "owner", type: "address" },
    { name: "spender", type: "address" },
    { name: "value", type: "uint256" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
} as const;
