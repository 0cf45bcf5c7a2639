/**
 * Which engine error codes mean "the requester's input is unusable" (reject, refund)
 * and which mean "something on our side failed" (try again). The requester is refunded
 * only for the first kind; the second is retried until the deadline.
 */
import type { ErrorCode } from "@argus/protocol/result";
import { RejectReason, type RejectReasonCode } from "./request-terms.ts";

const INPUT_FAULTS: Partial<Record<ErrorCode, RejectReasonCode>> = {
  EMPTY: RejectReason.NotAnImage,
  NOT_AN_IMAGE: RejectReason.NotAnImage,
  TOO_LARGE_BYTES: RejectReason.TooLarge,
  TOO_MANY_PIXELS: RejectReason.TooLarge,
  UNSUPPORTED_FORMAT: RejectReason.UnsupportedFormat,
  DECODE_FAILED: RejectReason.DecodeFailed,
};

/** The on-chain reason for an engine error, or undefined when it is not the input's fault. */
export function rejectReasonFor(code: ErrorCode): RejectReasonCode | undefined {
  return INPUT_FAULTS[code];
}

const REASON_NAMES = Object.fromEntries(Object.entries(RejectReason).map(([name, code]) => [code, name])) as Record<number, string>;

export function rejectReasonName(code: number): string {
  return REASON_NAMES[code] ?? `Unknown(${code})`;
}
