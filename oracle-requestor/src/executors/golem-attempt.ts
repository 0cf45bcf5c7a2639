/**
 * One attempt at a chunk on one rented provider: a single ExeScript that clears the
 * input folder, uploads `batch.json` and the images to /golem/input, runs the provider
 * image's entry command and downloads /golem/output/results.json; then the file is
 * checked against the batch (providers are untrusted).
 *
 * golem-js 3.6 does not throw when a command fails: the command's result says
 * `result: "Error"` (a non-zero exit code is reported that way), and when one command of
 * a script fails the later ones have no result at all. Every command's result is
 * checked, and a missing one counts as a failure.
 */
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { ExeUnit, Result } from "@golem-sdk/golem-js";
import {
  BATCH_FILE_NAME,
  GOLEM_INPUT_DIR,
  GOLEM_OUTPUT_DIR,
  parseResultsFile,
  RESULTS_FILE_NAME,
} from "@argus/protocol/batch";
import type { InferenceResult } from "@argus/protocol/result";
import type { Chunk } from "./executor.ts";

/** A results file for 16 requests is tens of kilobytes; anything near this is not one. */
export const MAX_RESULTS_BYTES = 8 * 1024 * 1024;

/** Why an attempt failed: a command did not succeed, or what came back is not the answer to the batch. */
export type AttemptFailureKind = "command" | "results";

export class AttemptFailure extends Error {
  override name = "AttemptFailure";
  readonly kind: AttemptFailureKind;
  constructor(kind: AttemptFailureKind, message: string, options?: ErrorOptions) {
    super(message, options);
    this.kind = kind;
  }
}

/** The files a chunk uploads: `batch.json`, then each image file the batch names, once. */
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
    else files.set(imageFile, bytes);
  }
  if (missing.length > 0) throw new Error(`chunk ${chunk.id} has no bytes for ${missing.join(", ")}`);
  return files;
}

export interface AttemptOutput {
  results: InferenceResult[];
  /** The entry command's summary line. */
  summary: string;
}

/**
 * Runs the chunk on `exe` and returns its validated results. `workDir` is an empty
 * local folder for the downloaded file. Throws an AttemptFailure.
 */
export async function computeChunk(
  exe: ExeUnit,
  chunk: Chunk,
  files: ReadonlyMap<string, Uint8Array>,
  entryCommand: readonly string[],
  workDir: string,
): Promise<AttemptOutput> {
  const [program, ...args] = entryCommand;
  if (program === undefined) throw new Error("the entry command is empty");
  const downloaded = join(workDir, RESULTS_FILE_NAME);
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
  batch.downloadFile(`${GOLEM_OUTPUT_DIR}/${RESULTS_FILE_NAME}`, downloaded);
  steps.push(`downloading ${RESULTS_FILE_NAME}`);

  let results: (Result | undefined)[];
  try {
    results = await batch.end();
  } catch (error) {
    throw new AttemptFailure("command", `the script failed: ${(error as Error).message}`, { cause: error });
  }
  steps.forEach((step, index) => {
    const result = results[index];
    if (result?.result !== "Ok") throw new AttemptFailure("command", `${step} failed: ${describeResult(result)}`);
  });

  const parsed = await readResultsFile(downloaded);
  try {
    return {
      results: parseResultsFile(parsed, chunk.batch, { weightsSha256: chunk.weightsSha256 }),
      summary: text(results[runStep]?.stdout).trim().slice(0, 500),
    };
  } catch (error) {
    throw new AttemptFailure("results", (error as Error).message, { cause: error });
  }
}

async function readResultsFile(path: string): Promise<unknown> {
  let bytes: Buffer;
  try {
    const { size } = await stat(path);
    if (size > MAX_RESULTS_BYTES) throw new AttemptFailure("results", `${RESULTS_FILE_NAME} has ${size} bytes, more than ${MAX_RESULTS_BYTES}`);
    bytes = await readFile(path);
  } catch (error) {
    if (error instanceof AttemptFailure) throw error;
    throw new AttemptFailure("results", `no ${RESULTS_FILE_NAME} came back: ${(error as Error).message}`, { cause: error });
  }
  try {
    return JSON.parse(bytes.toString("utf8"));
  } catch (error) {
    throw new AttemptFailure("results", `${RESULTS_FILE_NAME} is not JSON: ${(error as Error).message}`, { cause: error });
  }
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
