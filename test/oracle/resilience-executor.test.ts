/**
 * The local executor's long-lived workers under failure: a worker killed while idle or
 * in the middle of a chunk is replaced, a chunk that outlives the timeout fails that
 * attempt only, and closing the executor ends its workers.
 */
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { createLocalExecutor } from "@argus/oracle/executors/local";
import type { Chunk, Executor } from "@argus/oracle/executors/executor";
import { loadManifest } from "@argus/provider-image/catalog";
import { BATCH_SCHEMA_VERSION } from "@argus/protocol/batch";
import { resultCidForBytes } from "@argus/protocol/cid";
import { requireSharedData, SHARED_MODELS_DIR, sharedImage } from "../support/shared.ts";
import { MOBILENET } from "./support/workload.ts";

/** This process's local-worker children. */
function workerPids(): number[] {
  const out = execFileSync("ps", ["--ppid", String(process.pid), "-o", "pid=,args="], { encoding: "utf8" });
  return out
    .split("\n")
    .filter((line) => line.includes("local-worker.ts"))
    .map((line) => Number(line.trim().split(/\s+/)[0]));
}

/** Every child process of this one, zombies included. */
function childPids(): number[] {
  const out = execFileSync("ps", ["--ppid", String(process.pid), "-o", "pid="], { encoding: "utf8" });
  return out
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => Number(line.trim()));
}

/** What a run predicted (timings differ from run to run). */
function predictions(results: Awaited<ReturnType<Executor["run"]>>["results"]): unknown[] {
  return results.map((result) =>
    "error" in result ? result.error.code : result.task === "classification" ? result.top5 : result.detections,
  );
}

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("oracle resilience: the local executor's workers", function () {
  this.timeout(120_000);
  let chunk: (id: string) => Promise<Chunk>;
  let executor: Executor | undefined;

  before(async function () {
    requireSharedData(this);
    const manifest = await loadManifest(MOBILENET);
    const photos = await Promise.all(["wml_cat.jpg", "ortx_pineapple.png"].map((name) => readFile(sharedImage(name))));
    const cids = await Promise.all(photos.map(async (bytes) => (await resultCidForBytes(bytes)).toString()));
    chunk = async (id) => ({
      id,
      batch: {
        batchVersion: BATCH_SCHEMA_VERSION,
        modelId: MOBILENET,
        requests: photos.map((_, index) => ({ requestId: String(index + 1), imageCid: cids[index]!, imageFile: `${index}.img` })),
      },
      images: new Map(photos.map((bytes, index) => [`${index}.img`, bytes])),
      weightsSha256: manifest.weights.sha256,
    });
  });

  afterEach(async function () {
    await executor?.close();
    executor = undefined;
  });

  it("replaces a worker killed while idle, and one killed in the middle of a chunk (that attempt fails, the next succeeds)", async function () {
    let dispatched: (pid: number) => void = () => {};
    executor = createLocalExecutor({ concurrency: 1, modelsDir: SHARED_MODELS_DIR, onDispatch: ({ workerPid }) => dispatched(workerPid) });
    const first = await executor.run(await chunk("c1"));
    const top = first.results.map((result) => ("error" in result || result.task !== "classification" ? -1 : result.top5[0]!.classIndex));
    expect([281, 282, 285]).to.include(top[0]);
    expect(top[1]).to.equal(953);
    expect(first.attempts).to.equal(1);

    const [idle] = workerPids();
    process.kill(idle!, "SIGKILL");
    // Until it is reaped (then Node has told the executor): as a zombie it no longer shows its arguments.
    await waitFor(() => !childPids().includes(idle!));
    const second = await executor.run(await chunk("c2"));
    expect(predictions(second.results)).to.deep.equal(predictions(first.results));
    expect(second.attempts, "a worker that died while idle is simply replaced").to.equal(1);

    // Hold the worker inside the chunk: stopped, it cannot finish the job it is sent, so
    // the kill lands mid-chunk however fast this CPU is.
    const [busy] = workerPids();
    process.kill(busy!, "SIGSTOP");
    const jobSent = new Promise<void>((resolve) => (dispatched = (pid) => pid === busy && resolve()));
    const running = executor.run(await chunk("c3"));
    await jobSent;
    process.kill(busy!, "SIGKILL");
    const third = await running;
    expect(predictions(third.results)).to.deep.equal(predictions(first.results));
    expect(third.attempts, "the killed attempt failed, a fresh worker ran the next").to.equal(2);
    expect(workerPids()).to.not.include(busy);
  });

  it("fails an attempt that outlives the timeout, and closing ends every worker", async function () {
    executor = createLocalExecutor({ concurrency: 2, modelsDir: SHARED_MODELS_DIR, timeoutMs: 1, attempts: 2 });
    await waitFor(() => workerPids().length === 2);
    const error = await executor.run(await chunk("slow")).then(
      () => undefined,
      (caught: Error) => caught,
    );
    expect(error?.message).to.match(/took more than 1 ms/);
    await executor.close();
    executor = undefined;
    await waitFor(() => workerPids().length === 0);
  });
});
