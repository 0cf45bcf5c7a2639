/** Fetching a result from IPFS through the local cache, and verifying it. */
import { resultCidFromDigest } from "@argus/protocol/cid";
import { type RecordedAnswer, type RequestedInference, type ResultVerification, verifyResult } from "@argus/protocol/verify-result";
import { readResultBytes } from "../ipfs/block-read.ts";
import { cachedResult, cacheResult, resultStore } from "./result-cache.ts";

/** The recorded result from the IPFS node at `apiUrl`, checked against the request and the chain. */
export async function fetchAndVerifyResult(
  apiUrl: string,
  request: RequestedInference,
  answer: RecordedAnswer & { resultDigest: `0x${string}` },
): Promise<ResultVerification> {
  const cid = resultCidFromDigest(answer.resultDigest).toString();
  const store = resultStore();
  const cached = cachedResult(store, cid);
  if (cached !== undefined) {
    const checked = await verifyResult(cached, request, answer);
    if (checked.verified) return checked; // else: a stale or tampered copy, fetch the real one
  }
  const bytes = await readResultBytes(apiUrl, answer.resultDigest);
  const checked = await verifyResult(bytes, request, answer);
  if (checked.verified) cacheResult(store, cid, bytes);
  return checked;
}
