/**
 * Checking a recorded result: the one check the web UI and the `argus` CLI make before
 * they show a result as a request's answer. The bytes (however they were fetched) must
 * hash (sha256) to the digest the escrow recorded, be UTF-8 JSON that follows the result
 * schema, be about this very request — its id, its model, its image — and agree with the
 * summary the oracle posted with the digest (top class and score), when that is known.
 *
 * A result from another model or about another image hashes just as well as the right
 * one: only the comparison with the request's terms shows it is not this request's
 * answer, so every reader must make it.
 *
 * Browser-safe: zod and multiformats only.
 */
import { type DigestInput, resultBytesMatchDigest } from "./cid.ts";
import { type InferenceResult, InferenceResultSchema, isErrorResult, onChainSummary } from "./result.ts";

/** What the request asked for, from its `PredictionRequested` event and the model registry. */
export interface RequestedInference {
  requestId: bigint;
  /** The registry's name of the requested model: its manifest id, which a result names as `modelId`. */
  modelName: string;
  /** The image CID as text, as `imageCidText` reads it from the event. */
  imageCid: string;
}

/** What the escrow recorded for a fulfilled request. */
export interface RecordedAnswer {
  /** sha256 of the result's bytes, from `PredictionFulfilled`. */
  resultDigest: DigestInput;
  /**
   * The summary posted with the digest (from the `fulfillBatch` calldata; the event does
   * not carry it). Undefined when it could not be read, e.g. a fulfilment made through
   * another contract: then only the digest binds the result.
   */
  topClass?: number | undefined;
  topScore?: number | undefined;
}

export type ResultVerification =
  | { verified: true; result: InferenceResult }
  /** The bytes are not the recorded result, or not a result at all: there is nothing to show. */
  | { verified: false; failed: "digest" | "json" | "schema"; problem: string; result?: undefined }
  /** A result, but not this request's answer: `result` is there to inspect, never to rely on. */
  | { verified: false; failed: "requestId" | "modelId" | "imageCid" | "summary"; problem: string; result: InferenceResult };

export async function verifyResult(bytes: Uint8Array, request: RequestedInference, answer: RecordedAnswer): Promise<ResultVerification> {
  if (!(await resultBytesMatchDigest(bytes, answer.resultDigest))) {
    return {
      verified: false,
      failed: "digest",
      problem: "The bytes served by IPFS do not hash to the digest the contract recorded: this is not the recorded answer.",
    };
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    return { verified: false, failed: "json", problem: "The recorded result is not JSON text." };
  }
  const parsed = InferenceResultSchema.safeParse(json);
  if (!parsed.success) {
    return { verified: false, failed: "schema", problem: "The recorded result does not follow the Argus result schema." };
  }
  const result = parsed.data;
  const mismatch = (failed: "requestId" | "modelId" | "imageCid" | "summary", problem: string): ResultVerification => ({
    verified: false,
    failed,
    problem,
    result,
  });
  if (result.requestId !== request.requestId.toString()) {
    return mismatch("requestId", `The recorded result is about request ${result.requestId}, not this one (${request.requestId}).`);
  }
  if (result.modelId !== request.modelName) {
    return mismatch("modelId", `The recorded result is from model ${result.modelId}, not the requested ${request.modelName}.`);
  }
  if (result.imageCid !== request.imageCid) {
    return mismatch("imageCid", `The recorded result is about image ${result.imageCid}, not the requested ${request.imageCid}.`);
  }
  // An error entry has no summary to compare; its digest alone binds it.
  if (!isErrorResult(result) && (answer.topClass !== undefined || answer.topScore !== undefined)) {
    const summary = onChainSummary(result);
    if (summary.topClass !== answer.topClass || summary.topScore !== answer.topScore) {
      return mismatch(
        "summary",
        `The result's top prediction (class ${summary.topClass}, ${summary.topScore} bp) differs from the summary the contract recorded (class ${answer.topClass}, ${answer.topScore} bp).`,
      );
    }
  }
  return { verified: true, result };
}
