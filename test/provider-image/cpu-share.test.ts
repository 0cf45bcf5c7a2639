/**
 * How the engine shares the cores between decoding and the network: decoding threads
 * yield to the network's (decode-priority.ts), and a network cheaper per image than
 * decoding runs on one onnxruntime thread, a dearer one on every core (intra-op-threads.ts).
 */
import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { availableParallelism, getPriority, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { once } from "node:events";
import { Worker } from "node:worker_threads";
import { DECODE_NICE } from "@argus/provider-image/decode-priority";
import { decoderReady } from "@argus/provider-image/decoder-thread";
import { decodingCpuMs } from "@argus/provider-image/decoding-threads";
import { inferChunk } from "@argus/provider-image/infer-chunk";
import { allocateInputData } from "@argus/provider-image/input-tensor";
import { chooseIntraOpThreads, costMeter } from "@argus/provider-image/intra-op-threads";
import { REPO_ROOT, requireSharedData } from "../support/shared.ts";
import { MOBILENET, predict, readSharedImage, sharedEngine } from "./support/engine.ts";

function threadsNamed(pattern: RegExp): { tid: number; nice: number }[] {
  return readdirSync("/proc/self/task")
    .map(Number)
    .filter((tid) => pattern.test(readFileSync(`/proc/self/task/${tid}/comm`, "utf8").trim()))
    .map((tid) => ({ tid, nice: getPriority(tid) }));
}

describe("provider-image: decoding and the network share the cores", function () {
  this.timeout(120_000);
  before(function () {
    requireSharedData(this);
  });

  it("after a batch, libuv's pool and libvips' workers run at the decoding nice value and the main thread at its own", async function () {
    if (process.platform !== "linux") this.skip();
    await predict(sharedEngine(), MOBILENET, [await readSharedImage("wml_cat.jpg"), await readSharedImage("detect_bus.jpg")]);
    const decoding = threadsNamed(/^(libuv-worker|libvips worker)$/);
    expect(decoding.map((thread) => thread.nice)).to.have.length.greaterThan(0);
    expect(new Set(decoding.map((thread) => thread.nice))).to.deep.equal(new Set([DECODE_NICE]));
    expect(getPriority(process.pid)).to.equal(0);
  });

  it("decoding's CPU time is that of the decoding threads, not of other threads of the process", async function () {
    if (process.platform !== "linux") this.skip();
    await decoderReady();
    const busyFor = async (ms: number) => {
      const busy = new Worker(`const end = Date.now() + ${ms}; let x = 0; while (Date.now() < end) x += Math.sqrt(x + 1);`, { eval: true });
      await once(busy, "exit");
    };
    const before = decodingCpuMs()!;
    const processBefore = process.cpuUsage();
    await busyFor(300);
    const used = process.cpuUsage(processBefore);
    expect((used.user + used.system) / 1000, "the busy thread's CPU time is the process's").to.be.greaterThan(250);
    expect(decodingCpuMs()! - before).to.be.lessThan(30);

    const decodingBefore = decodingCpuMs()!;
    await predict(sharedEngine(), MOBILENET, [await readSharedImage("ortx_pineapple.png"), await readSharedImage("wml_cat.jpg")]);
    expect(decodingCpuMs()! - decodingBefore, "two decodes take some CPU time").to.be.greaterThan(2);
  });

  it("a network run's time is its own, not that of timers the event loop runs before onnxruntime computes", async function () {
    const model = await sharedEngine().load(MOBILENET);
    const chunk = { data: allocateInputData(model.manifest, 1), runSize: 1, slots: [{ imageIndex: 0, decodeMs: 0, decoded: {} as never }] };
    await inferChunk(model, chunk); // warm
    const burn = (ms: number) => {
      const end = performance.now() + ms;
      while (performance.now() < end);
    };
    const started = performance.now();
    // From an immediate, onnxruntime-node's own immediate waits for the loop's next turn,
    // and a due timer runs first.
    const outcomes = await new Promise<Awaited<ReturnType<typeof inferChunk>>>((resolve) =>
      setImmediate(() => {
        setTimeout(() => burn(60), 0);
        burn(3); // the timer is due
        resolve(inferChunk(model, chunk));
      }),
    );
    const outcome = outcomes[0]!;
    expect(performance.now() - started, "the timer ran inside the call").to.be.greaterThan(60);
    if (!("values" in outcome)) expect.fail(outcome.rejection.message);
    expect(outcome.runMs).to.be.lessThan(40);
    expect(outcome.cpuMs).to.be.lessThan(40);
  });

  it("the cost weighed for the thread choice leaves out the network thread's own other work (Linux)", function () {
    if (process.platform !== "linux") this.skip();
    const meter = costMeter();
    const end = performance.now() + 150;
    while (performance.now() < end); // an oracle's event loop, say
    meter.onRun(10);
    const cost = meter.read();
    expect(cost.inferenceMs).to.equal(10);
    expect(cost.otherCpuMs).to.be.lessThan(50);
  });

  it("one onnxruntime thread while the network costs less per image than the other cores decode; every core otherwise", function () {
    expect(chooseIntraOpThreads({ inferenceMs: 20, otherCpuMs: 60 }, 2)).to.equal(1);
    expect(chooseIntraOpThreads({ inferenceMs: 70, otherCpuMs: 60 }, 2)).to.equal(2);
    expect(chooseIntraOpThreads({ inferenceMs: 30, otherCpuMs: 60 }, 4)).to.equal(4);
    expect(chooseIntraOpThreads({ inferenceMs: 70, otherCpuMs: 60 }, 1)).to.equal(1);
  });

  /**
   * MobileNetV2-int8's thread counts on its native path and on the 8× dearer reference
   * path, loaded in a process of its own (whose model cache is empty) that also runs `busy`.
   */
  async function threadChoicesBeside(busy: string): Promise<[number, number]> {
    const script = join(await mkdtemp(join(tmpdir(), "argus-cpu-share-")), "threads.mjs");
    await writeFile(
      script,
      [
        'import { Worker } from "node:worker_threads";',
        `import { MOBILENET, sharedEngine } from ${JSON.stringify(join(import.meta.dirname, "support/engine.ts"))};`,
        busy,
        "const threads = async (int8Path) => (await sharedEngine({ int8Path }).load(MOBILENET)).intraOpThreads;",
        'console.log(JSON.stringify([await threads("native-int8"), await threads("qdq-reference")]));',
        "process.exit(0);",
      ].join("\n"),
    );
    // A file, not --eval: the engine's decoder worker inherits the process's exec arguments.
    const { stdout } = await promisify(execFile)(process.execPath, [script], { cwd: REPO_ROOT });
    return JSON.parse(stdout.trim().split("\n").at(-1)!) as [number, number];
  }

  it("MobileNetV2-int8 gets one thread on its native path and every core on the 8× dearer reference path, beside another busy thread", async function () {
    // The choice weighs the self-test's inference against the CPU time of decoding only
    // (weighed against the whole process's, such a thread tipped the reference path to one thread).
    const [native, reference] = await threadChoicesBeside(
      'new Worker("let x = 0; for (;;) x += Math.sqrt(x + 1);", { eval: true }).unref();',
    );
    expect(native).to.equal(1);
    expect(reference).to.equal(availableParallelism());
  });

  it("… and beside other work on the network's own thread", async function () {
    // An oracle's event loop shares the thread that runs the network: work there takes
    // turns with the network and leaves the other cores idle, so it must not count as
    // decoding (it did, and tipped the reference path to one thread).
    const [native, reference] = await threadChoicesBeside(
      "setInterval(() => { const end = performance.now() + 20; while (performance.now() < end); }, 1).unref();",
    );
    expect(native).to.equal(1);
    expect(reference).to.equal(availableParallelism());
  });
});
