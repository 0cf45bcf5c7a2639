/**
 * A request's answer, checked end to end: the result JSON is fetched by the CID the
 * on-chain digest names and hashed (fetchResult refuses bytes that do not hash to it),
 * then it must follow the result schema, be about this very request — its id, its
 * model, its image — and agree with the summary the oracle posted with it (top class
 * and score, from the fulfillBatch calldata; consumers' callbacks got the same). Anything
 * else is reported as unverified, never shown as the answer.
 */
import { type InferenceResult, InferenceResultSchema, isErrorResult, onChainSummary } from "@argus/provider-image/protocol/result";
import { fetchResult } from "../ipfs/client.ts";
import type { CliContext } from "./context.ts";
import type { RequestRecord, Settlement } from "./escrow-reads.ts";

/** Results are single small blocks; anything bigger is not one. */
const MAX_RESULT_BYTES = 1024 * 1024;

export type Verification =
  | { verified: true; resultCid: string; result: InferenceResult }
  | { verified: false; resultCid: string; problem: string; result?: InferenceResult };

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
    return { verified: false, resultCid, problem: `cannot fetch the result ${resultCid} from ${ctx.ipfsApiUrl}: ${(error as Error).message}` };
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    return { verified: false, resultCid, problem: "the recorded result is not JSON text" };
  }
  const parsed = InferenceResultSchema.safeParse(json);
  if (!parsed.success) return { verified: false, resultCid, problem: "the recorded result does not follow the Argus result schema" };
  const result = parsed.data;
  const problem = mismatch(result, request, modelName, answer);
  return problem === undefined ? { verified: true, resultCid, result } : { verified: false, resultCid, problem, result };
}

function mismatch(result: InferenceResult, request: RequestRecord, modelName: string, answer: { topClass?: number | undefined; topScore?: number | undefined }): string | undefined {
  if (result.requestId !== request.terms.requestId.toString()) return `the recorded result is about request ${result.requestId}, not this one`;
  if (result.modelId !== modelName) return `the recorded result is from model ${result.modelId}, not ${modelName}`;
  if (result.imageCid !== request.imageCid) return `the recorded result is about image ${result.imageCid}, not ${request.imageCid}`;
  // The posted summary (from the fulfillBatch calldata) is checked when it could be read.
  if (!isErrorResult(result) && answer.topClass !== undefined) {
    const summary = onChainSummary(result);
    if (summary.topClass !== answer.topClass || summary.topScore !== answer.topScore) {
      return `the result's top prediction (${summary.topClass}, ${summary.topScore} bp) differs from the on-chain summary (${answer.topClass}, ${answer.topScore} bp)`;
    }
  }
  return undefined;
}
