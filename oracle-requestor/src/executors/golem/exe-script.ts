/**
 * The commands one attempt sends its provider, as a single ExeScript: clear the input
 * folder, upload `batch.json` and the images to /golem/input, run the provider image's
 * entry command and download /golem/output/results.json.
 *
 * golem-js 3.6 does not throw when a command fails: the command's result says
 * `result: "Error"` (a non-zero exit code is reported that way), and when one command of
 * a script fails the later ones have no result at all. Every command's result is
 * checked, and a missing one counts as a failure.
 */
import type { ExeUnit, Result } from "@golem-sdk/golem-js";
import { BATCH_FILE_NAME, GOLEM_INPUT_DIR, GOLEM_OUTPUT_DIR, RESULTS_FILE_NAME } from "@argus/protocol/batch";
import type { Chunk } from "../executor.ts";

/** A command of the script did not succeed (the provider, not the answer, is at fault). */
export class ExeScriptFailure extends Error {
  override name = "ExeScriptFailure";
}

/**
 * The files a chunk uploads: `batch.json`, then each image file the batch names, once —
 * each as a plain Uint8Array with an ArrayBuffer of its own. golem-js serves an upload's
 * gftp chunks as `data.slice(offset, offset + size)` and encodes them with flexbuffers,
 * which writes a view's whole underlying buffer: for a Node Buffer (what the spool
 * reads) `slice` is such a view, so every 40-KiB chunk a provider asked for would carry
 * the whole file, and the file would arrive that many times over.
 */
export function chunkInputFiles(chunk: Chunk): Map<string, Uint8Array> {
  if (chunk.batch.requests.some((request) => request.imageFile === BATCH_FILE_NAME)) {
    throw new Error(`chunk ${chunk.id} names an image ${BATCH_FILE_NAME}`);
  }
  const files = new Map<string, Uint8Array>([[BATCH_FILE_NAME, new TextEncoder().encode(JSON.stringify(chunk.batch))]]);
  const missing: string[] = [];
  for (const { imageFile } of chunk.batch.requests) {
    if (files.has(imageFile)) continue;
    const bytes = chunk.images.get(imageFile);
    if (bytes === undefined) missing.push(imageFile);
    else files.set(imageFile, new Uint8Array(bytes));
  }
  if (missing.length > 0) throw new Error(`chunk ${chunk.id} has no bytes for ${missing.join(", ")}`);
  return files;
}

/**
 * Runs the script on `exe`, leaving the results file at `downloadTo`, and returns the
 * entry command's summary line. Throws an ExeScriptFailure naming the step that failed.
 */
export async function runChunkScript(
  exe: ExeUnit,
  files: ReadonlyMap<string, Uint8Array>,
  entryCommand: readonly string[],
  downloadTo: string,
): Promise<string> {
  const [program, ...args] = entryCommand;
  if (program === undefined) throw new Error("the entry command is empty");
  const steps: string[] = [];
  const batch = exe.beginBatch();

  // A reused provider still holds the previous chunk's files; results.json is removed
  // by the entry command itself too, so a stale one can never be mistaken for this batch's.
  batch.run("/bin/sh", ["-c", `rm -rf ${GOLEM_INPUT_DIR}/* ${GOLEM_OUTPUT_DIR}/${RESULTS_FILE_NAME}`]);
  steps.push("clearing the input folder");
  for (const [name, bytes] of files) {
    batch.uploadData(bytes, `${GOLEM_INPUT_DIR}/${name}`);
    steps.push(`uploading ${name}`);
  }
  batch.run(program, args);
  const runStep = steps.push("running the entry command") - 1;
  batch.downloadFile(`${GOLEM_OUTPUT_DIR}/${RESULTS_FILE_NAME}`, downloadTo);
  steps.push(`downloading ${RESULTS_FILE_NAME}`);

  let results: (Result | undefined)[];
  try {
    results = await batch.end();
  } catch (error) {
    throw new ExeScriptFailure(`the script failed: ${(error as Error).message}`, { cause: error });
  }
  steps.forEach((step, index) => {
    const result = results[index];
    if (result?.result !== "Ok") throw new ExeScriptFailure(`${step} failed: ${describeResult(result)}`);
  });
  return text(results[runStep]?.stdout).trim().slice(0, 500);
}

function describeResult(result: Result | undefined): string {
  if (result === undefined) return "no result (an earlier command failed or the script stopped)";
  const stderr = text(result.stderr).trim();
  return [result.message ?? `result ${result.result}`, stderr && `stderr: ${stderr.slice(-500)}`].filter(Boolean).join("; ");
}

function text(output: string | ArrayBuffer | null | undefined): string {
  if (output === undefined || output === null) return "";
  return typeof output === "string" ? output : new TextDecoder().decode(output);
}
