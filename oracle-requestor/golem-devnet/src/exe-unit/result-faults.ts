/**
 * The dishonest providers the devnet can play, by rewriting /golem/output/results.json
 * after a `run`:
 *
 * - `invalidResults`: a file the oracle must reject — each entry gets an unknown field
 *   and a schema version from the future, so @argus/protocol's ResultsFileSchema fails;
 * - `lie`: a file that passes every check the oracle can make without recomputing —
 *   schema, request ids, image CIDs, model, weights — but names the wrong classes: in
 *   each classification the (class, label) pairs are rotated against the scores, so the
 *   top-1 is the honest runner-up; detections get their classes rotated the same way
 *   (a single detection keeps its class but its box moves).
 *
 * - `oversizedResultsBytes`: results.json replaced by a (sparse) file that long, which
 *   the provider's transfer then streams at the oracle.
 *
 * The rewritten file is re-checked against the protocol before it is written, so a
 * change in the schema fails here loudly instead of silently testing nothing.
 */
import { readFile, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseBatchDescription, parseResultsFile, RESULTS_FILE_NAME, ResultsFileSchema, resultsFileBytes } from "@argus/protocol/batch";
import type { InferenceResult } from "@argus/protocol/result";

export class ResultFaultError extends Error {
  override name = "ResultFaultError";
}

function rotated<T>(items: readonly T[]): T[] {
  return items.length < 2 ? [...items] : [...items.slice(1), items[0]!];
}

function lieAbout(result: InferenceResult): InferenceResult {
  if ("top5" in result) {
    const classes = rotated(result.top5.map(({ classIndex, label }) => ({ classIndex, label })));
    return { ...result, top5: result.top5.map((entry, index) => ({ ...entry, ...classes[index]! })) };
  }
  if ("detections" in result) {
    if (result.detections.length === 1) {
      const [only] = result.detections;
      const box = { ...only!.box, x: only!.box.x + only!.box.width };
      return { ...result, detections: [{ ...only!, box }] };
    }
    const classes = rotated(result.detections.map(({ classIndex, label }) => ({ classIndex, label })));
    return { ...result, detections: result.detections.map((entry, index) => ({ ...entry, ...classes[index]! })) };
  }
  return result;
}

/** Rewrites `<outputDir>/results.json` if there is one; returns whether it did. */
export async function applyResultFaults(
  outputDir: string,
  inputDir: string,
  faults: { invalidResults?: boolean; lie?: boolean; oversizedResultsBytes?: number },
): Promise<boolean> {
  const path = join(outputDir, RESULTS_FILE_NAME);
  if (faults.oversizedResultsBytes !== undefined) {
    await writeFile(path, "");
    await truncate(path, faults.oversizedResultsBytes);
    return true;
  }
  if (!faults.invalidResults && !faults.lie) return false;
  const text = await readFile(path, "utf8").catch(() => undefined);
  if (text === undefined) return false;
  const honest = ResultsFileSchema.safeParse(JSON.parse(text));
  if (!honest.success) return false; // already invalid: nothing to fake

  if (faults.invalidResults) {
    const invalid = honest.data.map((result) => ({ ...result, schemaVersion: 999, devnetFault: "invalidResults" }));
    if (ResultsFileSchema.safeParse(invalid).success) throw new ResultFaultError("the invalid results file passes validation");
    await writeFile(path, JSON.stringify(invalid));
    return true;
  }

  const lies = honest.data.map(lieAbout);
  const batchText = await readFile(join(inputDir, "batch.json"), "utf8").catch(() => undefined);
  try {
    if (batchText === undefined) ResultsFileSchema.parse(lies);
    else parseResultsFile(lies, parseBatchDescription(JSON.parse(batchText)));
  } catch (error) {
    throw new ResultFaultError(`the lying results file does not validate: ${(error as Error).message}`);
  }
  await writeFile(path, resultsFileBytes(lies));
  return true;
}
