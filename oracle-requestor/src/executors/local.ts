/**
 * The embedded default executor: runs chunks on this machine with the very same batch
 * files a Golem provider gets, and checks the results exactly as a provider's would be.
 * By default each of its `concurrency` slots is a long-lived worker process
 * (local-worker.ts: the entry command's steps, with the engine kept loaded), started with
 * the executor and replaced when it fails or times out; `processPerChunk` runs the
 * provider image's entry command as a fresh process per chunk instead.
 */
import { type ChildProcess, fork, spawn } from "node:child_process";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { BATCH_FILE_NAME, parseResultsFile, RESULTS_FILE_NAME } from "@argus/protocol/batch";
import { type Chunk, type ChunkOutcome, type Executor, ExecutorError } from "./executor.ts";
import type { WorkerJob, WorkerReply } from "./local-worker.ts";
import { createWorkDir } from "./work-dirs.ts";

export interface LocalExecutorOptions {
  /** Chunks run at once (each is one process using the engine's own parallelism). */
  concurrency: number;
  /** Where the ONNX models are (ARGUS_MODELS_DIR otherwise). */
  modelsDir?: string;
  /** A chunk's process is killed after this long. */
  timeoutMs?: number;
  /** Attempts per chunk before it fails. */
  attempts?: number;
  /** A fresh entry-command process per chunk instead of long-lived workers (slower: ~1–2.5 s per chunk). */
  processPerChunk?: boolean;
  /** Called once a chunk's job has been handed to a long-lived worker (for logs, and for tests that must act mid-chunk). */
  onDispatch?: (dispatch: { workerPid: number }) => void;
}

const ENTRY = fileURLToPath(import.meta.resolve("@argus/provider-image/entry"));
const WORKER = fileURLToPath(new URL("./local-worker.ts", import.meta.url));

interface Worker {
  child: ChildProcess;
  busy: boolean;
}

export function createLocalExecutor(options: LocalExecutorOptions): Executor {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const attempts = options.attempts ?? 2;
  const children = new Set<ChildProcess>();
  const stderrOf = new WeakMap<Worker, string>();

  async function runOnce(chunk: Chunk, signal?: AbortSignal): Promise<ChunkOutcome["results"]> {
    const work = await createWorkDir("chunk");
    try {
      const input = join(work, "input");
      const output = join(work, "output");
      await Promise.all([mkdir(input), mkdir(output)]);
      await writeFile(join(input, BATCH_FILE_NAME), JSON.stringify(chunk.batch));
      await Promise.all([...chunk.images].map(([name, bytes]) => writeFile(join(input, name), bytes)));
      if (options.processPerChunk) await runEntry(input, output, signal);
      else await runInWorker(input, output, signal);
      const json: unknown = JSON.parse(await readFile(join(output, RESULTS_FILE_NAME), "utf8"));
      return parseResultsFile(json, chunk.batch, { weightsSha256: chunk.weightsSha256 });
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  const workers = new Set<Worker>();
  let jobs = 0;

  function startWorker(): Worker {
    const cores = Math.max(1, Math.floor(availableParallelism() / options.concurrency));
    const child = fork(WORKER, [options.modelsDir ?? "", String(cores)], { execArgv: [], stdio: ["ignore", "ignore", "pipe", "ipc"] });
    const worker = { child, busy: false };
    workers.add(worker);
    child
      .stderr!.setEncoding("utf8")
      .on("data", (text: string) => stderrOf.set(worker, ((stderrOf.get(worker) ?? "") + text).slice(-4000)));
    child.on("exit", () => workers.delete(worker));
    child.on("error", () => workers.delete(worker));
    return worker;
  }
  // Started at once, so the first chunks do not wait for Node, onnxruntime and sharp to load.
  if (!options.processPerChunk) for (let slot = 0; slot < options.concurrency; slot++) startWorker();

  /** One chunk on an idle worker (started if there is none); a worker that fails or times out is killed and replaced. */
  async function runInWorker(input: string, output: string, signal?: AbortSignal): Promise<void> {
    const current = [...workers].find((candidate) => !candidate.busy) ?? startWorker();
    current.busy = true;
    const job = ++jobs;
    try {
      await new Promise<void>((resolve, reject) => {
        const fail = (message: string) => {
          cleanup();
          workers.delete(current);
          current.child.kill("SIGKILL");
          reject(new Error(`${message}${stderrOf.get(current) ? `: ${stderrOf.get(current)!.trim()}` : ""}`));
        };
        const onMessage = (reply: WorkerReply) => {
          if (reply.job !== job) return;
          cleanup();
          if (reply.ok) resolve();
          else reject(new Error(`the local worker failed: ${reply.error}`));
        };
        const onExit = (code: number | null, killedBy: NodeJS.Signals | null) =>
          fail(`the local worker ${killedBy ? `was killed (${killedBy})` : `exited with ${code}`}`);
        const onAbort = () => fail("the chunk was aborted");
        const timer = setTimeout(() => fail(`the local worker took more than ${timeoutMs} ms`), timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          current.child.off("message", onMessage);
          current.child.off("exit", onExit);
          signal?.removeEventListener("abort", onAbort);
        };
        current.child.on("message", onMessage);
        current.child.once("exit", onExit);
        signal?.addEventListener("abort", onAbort, { once: true });
        current.child.send({ job, input, output } satisfies WorkerJob);
        if (current.child.pid !== undefined) options.onDispatch?.({ workerPid: current.child.pid });
      });
    } finally {
      current.busy = false;
    }
  }

  async function runEntry(input: string, output: string, signal?: AbortSignal): Promise<void> {
    const args = [ENTRY, "--input", input, "--output", output, ...(options.modelsDir ? ["--models-dir", options.modelsDir] : [])];
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, args, {
        stdio: ["ignore", "ignore", "pipe"],
        timeout: timeoutMs,
        ...(signal ? { signal } : {}),
      });
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
  }

  return {
    kind: "local",
    capacity: options.concurrency,
    async run(chunk, signal) {
      let lastError: Error | undefined;
      for (let attempt = 1; attempt <= attempts; attempt++) {
        try {
          return { results: await runOnce(chunk, signal), attempts: attempt, computedBy: { executor: "local" }, cost: 0 };
        } catch (error) {
          lastError = error as Error;
          if (signal?.aborted) break;
        }
      }
      throw new ExecutorError(`chunk ${chunk.id} failed locally: ${lastError?.message}`, attempts, { cause: lastError });
    },
    async close() {
      for (const child of children) child.kill("SIGTERM");
      for (const worker of workers) worker.child.kill("SIGTERM");
      workers.clear();
    },
  };
}
