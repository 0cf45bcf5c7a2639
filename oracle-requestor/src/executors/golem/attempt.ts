/**
 * One attempt at a chunk on one rented provider: deploy on first use under the deploy
 * timer, then, under the attempt timer started once the exe-unit is ready, run the chunk's ExeScript (exe-script.ts), then check the downloaded results
 * file against the batch (providers are untrusted). The verdict is an outcome, never a
 * throw: the caller decides whether to try another provider.
 */
import { readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { ResourceRental } from "@golem-sdk/golem-js";
import { parseResultsFile, RESULTS_FILE_NAME } from "@argus/protocol/batch";
import type { InferenceResult } from "@argus/protocol/result";
import type { Chunk } from "../executor.ts";
import { createWorkDir } from "../work-dirs.ts";
import { runChunkScript } from "./exe-script.ts";
import { untilAborted } from "./promises.ts";
import type { AttemptOutcome, ExecutorLogger } from "./reporting.ts";

/** A results file for 16 requests is tens of kilobytes; anything near this is not one. */
export const MAX_RESULTS_BYTES = 8 * 1024 * 1024;

export interface AttemptResult {
  outcome: AttemptOutcome;
  results?: InferenceResult[];
  /** The entry command's summary line (untrusted: for logs only). */
  summary?: string;
  error?: string;
}

export interface AttemptOptions {
  entryCommand: readonly string[];
  /** Says whether a download was cut off for passing the results cap (transfers.ts). */
  downloads?: { receiveOverflow(path: string): { receivedBytes: number; maxBytes: number } | undefined };
  /** Getting the exe-unit ready: the image download and boot on a provider's first use. */
  deployTimeoutMs: number;
  /** The chunk on a ready exe-unit. */
  attemptTimeoutMs: number;
  logger: ExecutorLogger;
}

/** What came back is not the answer to the batch. */
class InvalidResults extends Error {
  override name = "InvalidResults";
}

export async function attemptOn(
  rental: ResourceRental,
  chunk: Chunk,
  files: ReadonlyMap<string, Uint8Array>,
  options: AttemptOptions,
  signal: AbortSignal,
): Promise<AttemptResult> {
  const deployTimer = AbortSignal.timeout(options.deployTimeoutMs);
  let timer: AbortSignal | undefined;
  const workDir = await createWorkDir("golem");
  try {
    // Without a timeout: in golem-js 3.6 a timeout given to getExeUnit stays attached to
    // the exe-unit and kills it when it elapses, even after success.
    const exe = await untilAborted(rental.getExeUnit(), AbortSignal.any([signal, deployTimer]));
    timer = AbortSignal.timeout(options.attemptTimeoutMs);
    const attemptSignal = AbortSignal.any([signal, timer]);
    const downloaded = join(workDir, RESULTS_FILE_NAME);
    const run = async () => {
      const summary = await runChunkScript(exe, files, options.entryCommand, downloaded);
      return { summary, results: await readResults(downloaded, chunk) };
    };
    const output = await untilAborted(run(), attemptSignal);
    options.logger.debug(
      { chunkId: chunk.id, provider: rental.agreement.provider.id, summary: output.summary },
      "the provider ran the chunk",
    );
    return { outcome: "ok", results: output.results, summary: output.summary };
  } catch (error) {
    if (signal.aborted) return { outcome: "aborted", error: "the run was aborted" };
    const overflow = options.downloads?.receiveOverflow(join(workDir, RESULTS_FILE_NAME));
    if (overflow !== undefined) {
      const message = `the provider sent more than ${overflow.maxBytes} bytes for ${RESULTS_FILE_NAME}: the download was cut off at ${overflow.receivedBytes}`;
      return { outcome: "invalid-results", error: message };
    }
    if (timer?.aborted) return { outcome: "timeout", error: `no answer within ${options.attemptTimeoutMs} ms` };
    if (!timer && deployTimer.aborted) return { outcome: "timeout", error: `not deployed within ${options.deployTimeoutMs} ms` };
    const message = (error as Error).message ?? String(error);
    return { outcome: error instanceof InvalidResults ? "invalid-results" : "failed", error: message };
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

/** The downloaded results, validated against the batch; throws InvalidResults. */
async function readResults(path: string, chunk: Chunk): Promise<InferenceResult[]> {
  const parsed = await readResultsFile(path);
  try {
    return parseResultsFile(parsed, chunk.batch, { weightsSha256: chunk.weightsSha256 });
  } catch (error) {
    throw new InvalidResults((error as Error).message, { cause: error });
  }
}

async function readResultsFile(path: string): Promise<unknown> {
  let bytes: Buffer;
  try {
    const { size } = await stat(path);
    if (size > MAX_RESULTS_BYTES) throw new InvalidResults(`${RESULTS_FILE_NAME} has ${size} bytes, more than ${MAX_RESULTS_BYTES}`);
    bytes = await readFile(path);
  } catch (error) {
    if (error instanceof InvalidResults) throw error;
    throw new InvalidResults(`no ${RESULTS_FILE_NAME} came back: ${(error as Error).message}`, { cause: error });
  }
  try {
    return JSON.parse(bytes.toString("utf8"));
  } catch (error) {
    throw new InvalidResults(`${RESULTS_FILE_NAME} is not JSON: ${(error as Error).message}`, { cause: error });
  }
}
