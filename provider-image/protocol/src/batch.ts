/**
 * The files a batch travels in. The oracle writes `batch.json` next to the image files
 * in the input folder (`/golem/input` on Golem); the provider's entry command writes
 * `results.json` into the output folder (`/golem/output`): a JSON array with one
 * result per request, in the batch's order.
 *
 * Providers are untrusted, so `parseResultsFile` checks a returned results file
 * against the batch it answers, not just against the result schema.
 *
 * Browser-safe: zod and multiformats only.
 */
import { z } from "zod";
import { canonicalJsonBytes } from "./canonical-json.ts";
import { ImageCidSchema, ModelIdSchema, PlainFileNameSchema, RequestIdSchema } from "./ids.ts";
import { MAX_BATCH_SIZE } from "./limits.ts";
import { type InferenceResult, InferenceResultSchema, isErrorResult } from "./result.ts";

export const BATCH_SCHEMA_VERSION = 1;

export const BATCH_FILE_NAME = "batch.json";
export const RESULTS_FILE_NAME = "results.json";
/** The Golem VM's volumes; the entry command's defaults. */
export const GOLEM_INPUT_DIR = "/golem/input";
export const GOLEM_OUTPUT_DIR = "/golem/output";

export const BatchRequestSchema = z.strictObject({
  requestId: RequestIdSchema,
  imageCid: ImageCidSchema,
  /** The image's file name in the input folder (several requests may share one file). */
  imageFile: PlainFileNameSchema,
});
export type BatchRequest = z.infer<typeof BatchRequestSchema>;

export const BatchDescriptionSchema = z
  .strictObject({
    batchVersion: z.literal(BATCH_SCHEMA_VERSION),
    modelId: ModelIdSchema,
    requests: z.array(BatchRequestSchema).min(1).max(MAX_BATCH_SIZE),
  })
  .superRefine((batch, context) => {
    const seen = new Set<string>();
    batch.requests.forEach((request, index) => {
      if (seen.has(request.requestId)) {
        context.addIssue({ code: "custom", path: ["requests", index, "requestId"], message: `request ${request.requestId} appears twice` });
      }
      seen.add(request.requestId);
    });
  });
export type BatchDescription = z.infer<typeof BatchDescriptionSchema>;

/** `results.json`: one result per request, in the batch's order. */
export const ResultsFileSchema = z.array(InferenceResultSchema).max(MAX_BATCH_SIZE);

export class InvalidBatchFileError extends Error {
  override name = "InvalidBatchFileError";
}

export function parseBatchDescription(json: unknown): BatchDescription {
  const parsed = BatchDescriptionSchema.safeParse(json);
  if (!parsed.success) throw new InvalidBatchFileError(`${BATCH_FILE_NAME} is invalid:\n${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** The bytes of a `results.json`: the canonical JSON array, so it is reproducible too. */
export function resultsFileBytes(results: readonly InferenceResult[]): Uint8Array {
  return canonicalJsonBytes(results);
}

export interface ResultsCheckOptions {
  /** When given, every prediction must say it ran these weights (the registry's `weightsSha256`, hex). */
  weightsSha256?: string;
}

/**
 * Validates a results file returned for `batch`: the schema, one entry per request in
 * the same order, each naming its request's id, image CID and the batch's model, and
 * (optionally) the expected weights; none may name who computed it (the oracle does). Throws listing every discrepancy.
 */
export function parseResultsFile(json: unknown, batch: BatchDescription, options: ResultsCheckOptions = {}): InferenceResult[] {
  const parsed = ResultsFileSchema.safeParse(json);
  if (!parsed.success) throw new InvalidBatchFileError(`${RESULTS_FILE_NAME} is invalid:\n${z.prettifyError(parsed.error)}`);
  const results = parsed.data;
  const problems: string[] = [];
  if (results.length !== batch.requests.length) {
    problems.push(`it has ${results.length} results for ${batch.requests.length} requests`);
  }
  batch.requests.forEach((request, index) => {
    const result = results[index];
    if (result === undefined) return;
    const where = `result ${index}`;
    if (result.requestId !== request.requestId) problems.push(`${where} is for request ${result.requestId}, expected ${request.requestId}`);
    if (result.imageCid !== request.imageCid) problems.push(`${where} names image ${result.imageCid}, expected ${request.imageCid}`);
    if (result.modelId !== batch.modelId) problems.push(`${where} names model ${result.modelId}, expected ${batch.modelId}`);
    if (!isErrorResult(result) && result.computedBy !== undefined)
      problems.push(`${where} names who computed it, which only the oracle records`);
    if (options.weightsSha256 !== undefined && !isErrorResult(result) && result.weightsSha256 !== options.weightsSha256) {
      problems.push(`${where} ran weights ${result.weightsSha256}, expected ${options.weightsSha256}`);
    }
  });
  if (problems.length > 0) throw new InvalidBatchFileError(`${RESULTS_FILE_NAME} does not answer the batch: ${problems.join("; ")}`);
  return results;
}
