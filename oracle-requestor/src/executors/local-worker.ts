/**
 * A long-lived local inference worker (a child process of the oracle, with IPC). It
 * does for each chunk exactly what the provider image's entry command does (the same
 * `runBatchFolder`: reads `batch.json` and the image files from the chunk's input
 * folder, runs the engine, writes `results.json` atomically to the output folder) but
 * keeps the engine and its loaded model sessions between chunks, so a chunk no longer pays for starting Node,
 * loading onnxruntime and creating a session (~1–2.5 s on two cores).
 *
 * Messages in: {job, input, output}. Out: {job, ok: true} or {job, ok: false, error}.
 */
import { engineOptions, loadProviderConfig } from "@argus/provider-image/config";
import { runBatchFolder } from "@argus/provider-image/batch-folder";
import { createEngine } from "@argus/provider-image/engine";

export interface WorkerJob {
  job: number;
  input: string;
  output: string;
}

export type WorkerReply = { job: number; ok: true } | { job: number; ok: false; error: string };

const [modelsDir, cores] = [process.argv[2] || undefined, Number(process.argv[3]) || undefined];
// Several workers share the machine: each network gets its share of the cores.
// A worker is a program of its own: the engine's settings (ARGUS_MANIFESTS_DIR, the image
// caps, ARGUS_MODELS_MIRROR) come from the environment it inherits, the models folder from the oracle.
const engine = createEngine({
  ...engineOptions(loadProviderConfig(process.env), modelsDir),
  ...(cores ? { cores } : {}),
});

async function runJob({ input, output }: WorkerJob): Promise<void> {
  await runBatchFolder(engine, input, output);
}

process.on("message", (message: WorkerJob) => {
  runJob(message).then(
    () => process.send!({ job: message.job, ok: true } satisfies WorkerReply),
    (error: Error) => process.send!({ job: message.job, ok: false, error: error.message } satisfies WorkerReply),
  );
});
// The oracle went away (even by SIGKILL): so does its worker.
process.on("disconnect", () => process.exit(0));
