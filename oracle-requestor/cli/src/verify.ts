/**
 * A request's answer, checked end to end: the result JSON is fetched by the CID the
 * on-chain digest names (fetchResult refuses bytes that do not hash to it), then
 * `verifyResult` — the check the web UI makes too — requires the recorded digest, the
 * result schema, this very request (its id, its model, its image) and the summary the
 * oracle posted with it (top class and score, from the fulfillBatch calldata — what
 * consumers' callbacks got — when readable). Anything else is reported as unverified,
 * never shown as the answer.
 */
import { type ResultVerification, verifyResult } from "@argus/protocol/verify-result";
import type { RequestRecord, Settlement } from "@argus/escrow/escrow-reads";
import { fetchResult } from "@argus/ipfs-node/client";
import { MAX_RESULT_BYTES } from "@argus/protocol/limits";
import type { CliContext } from "./context.ts";

export type Verification = { resultCid: string } & (
  | ResultVerification
  | { verified: false; failed: "fetch"; problem: string; result?: undefined }
);

export async function verifyAnswer(
  ctx: CliContext,
  request: RequestRecord,
  modelName: string,
  answer: Extract<Settlement, { kind: "fulfilled" }>,
  timeoutMs = 20_000,
): Promise<Verification> {
  const resultCid = answer.resultCid;
  let bytes: Uint8Array;
  try {
    bytes = await fetchResult(ctx.ipfs(), answer.resultDigest, { maxBytes: MAX_RESULT_BYTES, timeoutMs });
  } catch (error) {
    return {
      verified: false,
      failed: "fetch",
      resultCid,
      problem: `Cannot fetch the result ${resultCid} from ${ctx.ipfsApiUrl}: ${(error as Error).message}`,
    };
  }
  const verification = await verifyResult(bytes, { requestId: request.terms.requestId, modelName, imageCid: request.imageCid }, answer);
  return { resultCid, ...verification };
}
