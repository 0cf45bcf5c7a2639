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

/**
 * The layout of the two packed words (Fulfillment.sol), the one place TypeScript spells
 * it: each field's lowest bit and width. `requesterAndFee` is requester (160 bits) above
 * fee (uint96); `details` is, from the top, modelId (uint32), deadline (uint40),
 * callbackGasLimit (uint32), 120 unused bits, topClass (uint16), topScore (uint16).
 */
const REQUESTER_AND_FEE = {
  requester: { shift: 96n, bits: 160n },
  fee: { shift: 0n, bits: 96n },
} as const;
const DETAILS = {
  modelId: { shift: 224n, bits: 32n },
  deadline: { shift: 184n, bits: 40n },
  callbackGasLimit: { shift: 152n, bits: 32n },
  topClass: { shift: 16n, bits: 16n },
  topScore: { shift: 0n, bits: 16n },
} as const;
type Field = { shift: bigint; bits: bigint };

/** Most a topScore may be: basis points. */
const MAX_TOP_SCORE = 10_000;

function packWord<K extends string>(layout: Record<K, Field>, values: Record<K, bigint>): bigint {
  let word = 0n;
  for (const name of Object.keys(layout) as K[]) {
    const { shift, bits } = layout[name];
    const value = values[name];
    if (value < 0n || value >> bits !== 0n) throw new RangeError(`${name} ${value} does not fit in ${bits} bits`);
    word |= value << shift;
  }
  return word;
}

function unpackWord<K extends string>(layout: Record<K, Field>, word: bigint): Record<K, bigint> {
  const values = {} as Record<K, bigint>;
  for (const name of Object.keys(layout) as K[]) {
    const { shift, bits } = layout[name];
    values[name] = (word >> shift) & ((1n << bits) - 1n);
  }
  return values;
}

export function packFulfillment(terms: RequestTerms, resultDigest: Hex, top: TopResult): PackedFulfillment {
  if (!Number.isInteger(top.topClass)) throw new RangeError(`topClass ${top.topClass} does not fit in uint16`);
  if (!Number.isInteger(top.topScore) || top.topScore < 0 || top.topScore > MAX_TOP_SCORE) {
    throw new RangeError(`topScore ${top.topScore} is not basis points`);
  }
  return {
    requestId: terms.requestId,
    requesterAndFee: packWord(REQUESTER_AND_FEE, { requester: BigInt(terms.requester), fee: terms.fee }),
    details: packWord(DETAILS, {
      modelId: BigInt(terms.modelId),
      deadline: terms.deadline,
      callbackGasLimit: BigInt(terms.callbackGasLimit),
      topClass: BigInt(top.topClass),
      topScore: BigInt(top.topScore),
    }),
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
export const SkipReason = {
  NotPending: 0,
  TermsMismatch: 1,
  Expired: 2,
  NotExpired: 3,
  /** The caller does not operate the item's model. */
  NotOperator: 4,
  /** Too little gas was left to give its callback its whole limit: still pending. */
  InsufficientCallbackGas: 5,
} as const;

/** Where a request stands, as the escrow's `statusOf` says (IPredictionEscrow.RequestStatus). */
/** A request id written as people and URLs carry it (decimal or 0x-hex, a uint256, not 0); undefined otherwise. */
export function parseRequestIdText(text: string): bigint | undefined {
  if (!/^(0x[0-9a-fA-F]{1,64}|[0-9]{1,78})$/.test(text)) return undefined;
  const id = BigInt(text);
  return id > 0n && id < 1n << 256n ? id : undefined;
}

export const RequestStatus = { None: 0, Pending: 1, Fulfilled: 2, Rejected: 3, Expired: 4 } as const;

/**
 * Gas a fulfilment item with a callback needs beyond 64/63 of its limit: the escrow's
 * `CALLBACK_GAS_OVERHEAD` (a contract test checks the two agree).
 */
export const CALLBACK_GAS_OVERHEAD = 12_000n;

/**
 * The gas a batch must carry, on top of what it costs without its callbacks, for every
 * callback to get its whole limit: the escrow calls a callback only when
 * `limit × 64/63 + CALLBACK_GAS_OVERHEAD` is left, and skips it (pending) otherwise. So
 * `eth_estimateGas` cannot be trusted with callbacks — the cheapest way for a batch to
 * succeed is to skip them, and a callback may cost nothing when simulated and its whole
 * limit when mined — and an operator budgets estimate + this.
 */
export function callbackGasReserve(callbackGasLimits: Iterable<number | bigint>): bigint {
  let reserve = 0n;
  for (const limit of callbackGasLimits) {
    if (BigInt(limit) !== 0n) reserve += (BigInt(limit) * 64n) / 63n + CALLBACK_GAS_OVERHEAD;
  }
  return reserve;
}

/**
 * Seconds a request accepts its deadline to fall later than the quoted terms promise:
 * room for the transaction to wait in the mempool. Longer would let a model update that
 * lengthens its response window lock the fee longer than the requester was told.
 */
export const DEADLINE_SLACK_S = 3_600n;

/**
 * The bounds a request names (`maxFee`, `latestDeadline`): the fee the requester was
 * quoted, and the deadline the model's response window promised from `chainTime`, plus
 * `DEADLINE_SLACK_S`. A model update landing first (even in the same block) then makes
 * the request revert instead of charging more or locking the fee longer.
 */
export function requestBounds(quotedFee: bigint, responseWindowS: number | bigint, chainTime: bigint) {
  return { maxFee: quotedFee, latestDeadline: Number(chainTime + BigInt(responseWindowS) + DEADLINE_SLACK_S) };
}

/** The fields of a packed fulfilment item (the inverse of `packFulfillment`). */
export function unpackFulfillment(item: PackedFulfillment): RequestTerms & TopResult & { resultDigest: Hex } {
  const { requester, fee } = unpackWord(REQUESTER_AND_FEE, item.requesterAndFee);
  const details = unpackWord(DETAILS, item.details);
  return {
    requestId: item.requestId,
    requester: `0x${requester.toString(16).padStart(40, "0")}` as Address,
    fee,
    modelId: Number(details.modelId),
    deadline: details.deadline,
    callbackGasLimit: Number(details.callbackGasLimit),
    topClass: Number(details.topClass),
    topScore: Number(details.topScore),
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

/**
 * EIP-2612's `Permit` typed-data definition, signed to pay a token-priced model in one
 * transaction: its `value` is the request's `maxFee` (the escrow permits that much).
 */
export const PERMIT_TYPES = {
  Permit: [
    { name: "owner", type: "address" },
    { name: "spender", type: "address" },
    { name: "value", type: "uint256" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
} as const;
