/**
 * One batch, folder to folder: what the entry command does inside the Golem VM, as a
 * function, for anything that keeps an engine alive between batches (the oracle's
 * local worker). Reads `batch.json` and the images it names from `inputDir`, writes
 * `results.json` atomically into `outputDir`.
 *
 * Any `results.json` already in `outputDir` is deleted first, so when this throws
 * (invalid batch.json, unusable model) no stale file can pass for this batch's answer.
 */
import { mkdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "@argus/protocol/atomic-write";
import type { Engine } from "./engine.ts";
import { BATCH_FILE_NAME, parseBatchDescription, RESULTS_FILE_NAME, resultsFileBytes } from "@argus/protocol/batch";
import type { InferenceResult } from "@argus/protocol/result";

export async function runBatchFolder(
  engine: Engine,
  inputDir: string,
  outputDir: string,
): Promise<{ modelId: string; results: InferenceResult[] }> {
  const resultsPath = join(outputDir, RESULTS_FILE_NAME);
  await mkdir(outputDir, { recursive: true });
  await rm(resultsPath, { force: true });

  const batchPath = join(inputDir, BATCH_FILE_NAME);
  let batchJson: unknown;
  try {
    batchJson = JSON.parse(await readFile(batchPath, "utf8"));
  } catch (error) {
    throw new Error(`cannot read ${batchPath}: ${(error as Error).message}`);
  }
  const batch = parseBatchDescription(batchJson);
  const results = await engine.runBatch(batch, inputDir);
  await writeFileAtomic(resultsPath, resultsFileBytes(results));
  return { modelId: batch.modelId, results };
}
