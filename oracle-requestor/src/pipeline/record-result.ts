/**
 * Turns one result of the engine into the request's next state: a prediction becomes
 * `computed` (its canonical bytes, digest and on-chain summary stored), an input fault
 * becomes `rejecting`, anything else is retried. Shared by fresh results and by
 * results reused from the cache.
 */
import { toHex } from "viem";
import { type InferenceResult, isErrorResult, onChainSummary, resultBytes, resultSha256 } from "@argus/protocol/result";
import type { RequestStore, StoredRequest } from "../store/request-store.ts";
import { rejectReasonFor } from "@argus/escrow/reject-reasons";

export type RecordedOutcome = "computed" | "rejecting" | "retry";

export async function recordResult(
  store: RequestStore,
  request: StoredRequest,
  result: InferenceResult,
  retryAt: number,
): Promise<RecordedOutcome> {
  if (isErrorResult(result)) {
    const reason = rejectReasonFor(result.error.code);
    const message = `${result.error.code}: ${result.error.message}`;
    if (reason === undefined) {
      store.retryLater(request.requestId, "ready", message, retryAt);
      return "retry";
    }
    store.markRejecting(request.requestId, reason, message);
    return "rejecting";
  }
  const json = resultBytes(result);
  const digest = toHex(await resultSha256(result));
  store.markComputed(request.requestId, { json, digest, ...onChainSummary(result) });
  return "computed";
}

/** A cached prediction re-addressed to another request for the same model and image. */
export function readdress(cached: InferenceResult, request: StoredRequest): InferenceResult {
  return { ...cached, requestId: request.requestId.toString(), imageCid: request.imageCid };
}
