/**
 * The embedded default executor: runs the provider image's entry command on this
 * machine, as a child process per chunk, with the very same batch files a Golem
 * provider gets. Results are checked exactly as a provider's would be.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { BATCH_FILE_NAME, parseResultsFile, RESULTS_FILE_NAME } from "@argus/provider-image/protocol/batch";
import { type Chunk, type ChunkOutcome, type Executor, ExecutorError } from "./executor.ts";

export interface LocalExecutorOptions {
  /** Chunks run at once (each is one process using the engine's own parallelism). */
  concurrency: number;
  /** Where the ONNX models are (ARGUS_MODELS_DIR otherwise). */
  modelsDir?: string;
  /** A chunk's process is killed after this long. */
  timeoutMs?: number;
  /** Attempts per chunk before it fails. */
  attempts?: number;
}

const ENTRY = fileURLToPath(import.meta.resolve("@argus/provider-image/entry"));

export function createLocalExecutor(options: LocalExecutorOptions): Executor {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const attempts = options.attempts ?? 2;
  const children = new Set<ChildProcess>();

  async function runOnce(chunk: Chunk, signal?: AbortSignal): Promise<ChunkOutcome["results"]> {
    const work = await mkdtemp(join(tmpdir(), "argus-chunk-"));
    try {
      const input = join(work, "input");
      const output = join(work, "output");
      await Promise.all([mkdir(input), mkdir(output)]);
      await writeFile(join(input, BATCH_FILE_NAME), JSON.stringify(chunk.batch));
      await Promise.all([...chunk.images].map(([name, bytes]) => writeFile(join(input, name), bytes)));
      const args = [ENTRY, "--input", input, "--output", output, ...(options.modelsDir ? ["--models-dir", options.modelsDir] : [])];
      await new Promise<void>((resolve, reject) => {
        const child = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"], timeout: timeoutMs, ...(signal ? { signal } : {}) });
        children.add(child);
        let stderr = "";
        child.stderr!.setEncoding("utf8").on("data", (text: string) => (stderr = (stderr + text).slice(-4000)));
        child.on("error", reject);
        child.on("close", (code: number | null, killedBy: NodeJS.Signals | null) => {
          children.delete(child);
          if (code === 0) resolve();
          else reject(new Error(`the entry command ${killedBy ? `was killed (${killedBy})` : `exited with ${code}`}: ${stderr.trim()}`));
        });
      });
      const json: unknown = JSON.parse(await readFile(join(output, RESULTS_FILE_NAME), "utf8"));
      return parseResultsFile(json, chunk.batch, { weightsSha256: chunk.weightsSha256 });
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  return {
    kind: "local",
    capacity: options.concurrency,
    async run(chunk, signal) {
      let lastError: Error | undefined;
      for (let attempt = 1; attempt <= attempts; attempt++) {
        try {
          return { results: await runOnce(chunk, signal), attempts: attempt, worker: "local", cost: 0 };
        } catch (error) {
          lastError = error as Error;
          if (signal?.aborted) break;
        }
      }
      throw new ExecutorError(`chunk ${chunk.id} failed locally: ${lastError?.message}`, attempts, { cause: lastError });
    },
    async close() {
      for (const child of children) child.kill("SIGTERM");
    },
  };
}
