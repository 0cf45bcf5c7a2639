/**
 * The Golem executor through golem-js's real rental, ExeUnit and transfer code: only
 * the yagna-facing services are fakes (support/golem-fakes.ts), and the fake providers
 * run the real provider entry command with the real ONNX models.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { expect } from "chai";
import { rawCidOfBytes } from "@argus/provider-image/file-cid";
import type { BatchRequest } from "@argus/protocol/batch";
import type { Chunk } from "@argus/oracle/executors/executor";
import { ExecutorError } from "@argus/oracle/executors/executor";
import { createGolemExecutor } from "@argus/oracle/executors/golem";
import type { AllocationReport, AttemptReport, GolemExecutor } from "@argus/oracle/executors/golem";
import type { AgreementCost } from "@argus/oracle/executors/golem/costs";
import { gsbServiceUrl } from "@argus/oracle/executors/golem/transfers";
import { RentalPool } from "@argus/oracle/executors/golem/pools";
import { ProviderBans } from "@argus/oracle/executors/golem/provider-bans";
import { DEFAULT_ENTRY_COMMAND, GOLEM_CONFIG_ENV, GolemConfigError, loadGolemConfig } from "@argus/oracle/executors/golem/config";
import type { GolemExecutorConfigInput } from "@argus/oracle/executors/golem/config";
import { REPO_ROOT, requireSharedData, SHARED_MODELS_DIR, sharedImage } from "../support/shared.ts";
import { FakeGolem } from "./support/golem-fakes.ts";
import type { FakeProviderSpec } from "./support/golem-fakes.ts";
import { expectClose } from "../support/close-to.ts";

const MODEL_ID = "mobilenetv2-12-int8";
/** A gvmkit-build image hash (sha3-224); chunks carry it as the registry's right-padded bytes32. */
const IMAGE_HASH = "5c385688be6ed4e339a43d8a68bfb674d60951b4970448ba20d1934d";
const REGISTRY_IMAGE_HASH = `0x${IMAGE_HASH}00000000`;
const [VM_NODE, VM_ENTRY] = DEFAULT_ENTRY_COMMAND;

const TEST_CONFIG: GolemExecutorConfigInput = {
  paymentNetwork: "hoodi",
  // Providers download the image from here; without it golem-js would ask the public registry.
  imageUrl: "http://images.argus.test/{hash}.gvmi",
  poolSize: 2,
  // Cross-checks are tested on the devnet (test/golem-devnet/executor-audit.test.ts).
  auditRate: 0,
  auditFirstChunks: 0,
  maxAttempts: 3,
  acquireTimeoutMs: 20_000,
  deployTimeoutMs: 60_000,
  attemptTimeoutMs: 60_000,
  finalizeTimeoutMs: 10_000,
};

interface Harness {
  golem: FakeGolem;
  executor: GolemExecutor;
  attempts: AttemptReport[];
  costs: AgreementCost[];
  allocations: AllocationReport[];
  /** The executor's info and error logs. */
  logs: { level: "info" | "error"; message: string; details: Record<string, unknown> }[];
  /** Moves the clock the executor and the fake yagna share (it starts at the real time). */
  advanceClock(ms: number): void;
}

describe("Golem executor (golem-js with fake yagna services)", function () {
  let weightsSha256: string;
  let current: Harness | undefined;
  let chunkCount = 0;

  before(async function () {
    requireSharedData(this);
    const manifest = JSON.parse(await readFile(join(REPO_ROOT, "provider-image/manifests", `${MODEL_ID}.json`), "utf8")) as {
      weights: { sha256: string };
    };
    weightsSha256 = manifest.weights.sha256;
  });

  afterEach(async function () {
    if (!current) return;
    await current.executor.close();
    await current.golem.dispose();
    current = undefined;
  });

  async function start(
    providers: FakeProviderSpec[],
    config: GolemExecutorConfigInput = {},
    adjust: (override: ReturnType<FakeGolem["override"]>) => void = () => {},
  ): Promise<Harness> {
    let clockOffsetMs = 0;
    const now = () => Date.now() + clockOffsetMs;
    const golem = await FakeGolem.create(providers, {
      now,
      layout: {
        paths: { [VM_NODE]: process.execPath, [VM_ENTRY]: join(REPO_ROOT, "provider-image/src/bin/entry.ts") },
        env: { ARGUS_MODELS_DIR: SHARED_MODELS_DIR },
        entryProgram: VM_NODE,
      },
    });
    const attempts: AttemptReport[] = [];
    const costs: AgreementCost[] = [];
    const allocations: AllocationReport[] = [];
    const logs: Harness["logs"] = [];
    const override = golem.override();
    adjust(override);
    const keep = (level: "info" | "error") => (details: object, message?: string) =>
      logs.push({ level, message: message ?? "", details: details as Record<string, unknown> });
    const executor = createGolemExecutor(
      { ...TEST_CONFIG, ...config },
      {
        override,
        now,
        logger: { debug() {}, info: keep("info"), warn() {}, error: keep("error") },
        hooks: {
          onAttempt: (report) => attempts.push(report),
          onAgreementCost: (cost) => costs.push(cost),
          onAllocation: (report) => allocations.push(report),
        },
      },
    );
    current = { golem, executor, attempts, costs, allocations, logs, advanceClock: (ms) => (clockOffsetMs += ms) };
    return current;
  }

  /** A chunk of the named shared images (`broken.bin` is bytes that are no image). */
  async function chunk(files: string[]): Promise<Chunk> {
    const id = `chunk-${++chunkCount}`;
    const images = new Map<string, Uint8Array>();
    const requests: BatchRequest[] = [];
    for (const [index, file] of files.entries()) {
      const bytes =
        file === "broken.bin" ? new TextEncoder().encode("<html>not an image</html>") : new Uint8Array(await readFile(sharedImage(file)));
      images.set(file, bytes);
      requests.push({ requestId: String(chunkCount * 100 + index), imageCid: await rawCidOfBytes(bytes), imageFile: file });
    }
    return { id, batch: { batchVersion: 1, modelId: MODEL_ID, requests }, images, weightsSha256, providerImageHash: REGISTRY_IMAGE_HASH };
  }

  function topClass(result: unknown): number | undefined {
    return (result as { top5?: { classIndex: number }[] }).top5?.[0]?.classIndex;
  }

  it("rents a matching provider, uploads the batch, runs the entry command and returns the validated results; reuses released providers", async function () {
    const { golem, executor, attempts, costs } = await start([
      { name: "too-expensive", startPrice: 5 },
      { name: "too-small", cpuThreads: 1 },
      { name: "alpha" },
      { name: "beta" },
    ]);
    expect(executor.kind).to.equal("golem");
    expect(executor.capacity).to.equal(2);

    const first = await chunk(["glow_dog_207.png", "dlb_ILSVRC2012_val_00000023.JPEG", "glow_dog_207.png", "broken.bin"]);
    const outcome = await executor.run(first);
    expect(outcome.attempts).to.equal(1);
    expect(outcome.computedBy).to.deep.equal({
      executor: "golem",
      provider: { id: golem.provider("alpha").id, name: "alpha" },
      audit: "unaudited", // audits are off in these tests
    });
    expect(outcome.cost).to.be.greaterThan(0.01); // alpha's start price, plus time
    expect(outcome.results.map((result) => result.requestId)).to.deep.equal(first.batch.requests.map((request) => request.requestId));
    expect(outcome.results.map(topClass)).to.deep.equal([207, 948, 207, undefined]);
    expect((outcome.results[3] as { error?: { code: string } }).error?.code).to.equal("NOT_AN_IMAGE");
    expect(outcome.results[0]).to.include({ weightsSha256 });

    // The demand: image, hardware minimums (the defaults: 1.5 GiB is what bench:engine-memory measured a chunk needs) and the hoodi payment platform.
    const demand = golem.market.demands[0]!.details;
    expect(demand.paymentPlatform).to.equal("erc20-hoodi-tglm");
    const properties = Object.fromEntries(demand.prototype.properties.map(({ key, value }) => [key, value]));
    expect(properties["golem.srv.comp.task_package"]).to.equal(`hash:sha3:${IMAGE_HASH}:http://images.argus.test/${IMAGE_HASH}.gvmi`);
    expect(demand.prototype.constraints).to.include.members([
      "(golem.inf.cpu.threads>=2)",
      "(golem.inf.mem.gib>=1.5)",
      "(golem.inf.storage.gib>=4)",
    ]);

    // One script: clear, upload batch.json and each image once, run the entry, download results.json.
    const script = golem.activity.executed.filter((command) => command.command === "transfer" || command.command === "run");
    const described = script.map(({ command, args }) =>
      command === "run"
        ? `run ${[args.entry_point, ...(args.args as string[])].join(" ")}`
        : `transfer ${String(args.to).startsWith("container:") ? args.to : args.from}`,
    );
    expect(described).to.deep.equal([
      "run /bin/sh -c rm -rf /golem/input/* /golem/output/results.json",
      "transfer container:/golem/input/batch.json",
      "transfer container:/golem/input/glow_dog_207.png",
      "transfer container:/golem/input/dlb_ILSVRC2012_val_00000023.JPEG",
      "transfer container:/golem/input/broken.bin",
      `run ${DEFAULT_ENTRY_COMMAND.join(" ")}`,
      "transfer container:/golem/output/results.json",
    ]);

    // Two chunks at once: alpha (back in the pool) takes one, beta is rented for the other.
    const [second, third] = await Promise.all([chunk(["glow_cat_285.png"]), chunk(["dlb_ILSVRC2012_val_00000023.JPEG"])]);
    const outcomes = await Promise.all([executor.run(second), executor.run(third)]);
    expect(outcomes.map((entry) => entry.computedBy.provider?.id).sort()).to.deep.equal(
      [golem.provider("alpha").id, golem.provider("beta").id].sort(),
    );
    expect(outcomes[1]!.results.map(topClass)).to.deep.equal([948]);
    expect(golem.agreementLog().map((entry) => entry.provider)).to.deep.equal(["alpha", "beta"]);
    expect(attempts.map((report) => report.outcome)).to.deep.equal(["ok", "ok", "ok"]);

    // Closing ends both agreements and pays their invoices before the allocation is released.
    await executor.close();
    expect(golem.agreementLog().map((entry) => entry.state)).to.deep.equal(["Terminated", "Terminated"]);
    expect(golem.activity.liveActivities()).to.deep.equal([]);
    expect(golem.payment.accepted.map((invoice) => invoice.agreementId).sort()).to.deep.equal(
      golem
        .agreementLog()
        .map((entry) => entry.id)
        .sort(),
    );
    expect([...golem.payment.allocations.values()].map((entry) => entry.released)).to.deep.equal([true]);
    expect(golem.storage.openUrls()).to.equal(0);
    const report = executor.costReport();
    expectClose(report.totalGlm, 0.02, 1e-12);
    expect(report.awaitingInvoice).to.deep.equal([]);
    const alphaCost = costs.find((cost) => cost.provider.name === "alpha")!;
    expect(alphaCost.chunks.map((entry) => entry.chunkId).sort()).to.deep.equal(
      [first.id, outcomes[0]!.computedBy.provider?.id === golem.provider("alpha").id ? second.id : third.id].sort(),
    );
    expectClose(
      alphaCost.chunks.reduce((sum, entry) => sum + entry.amount, 0),
      0.01,
      1e-12,
    );
  });

  it("destroys a provider that fails mid-batch and completes the chunk on another", async function () {
    const { golem, executor, attempts, costs } = await start([{ name: "crashing", fault: "crash" }, { name: "healthy" }]);
    const work = await chunk(["glow_dog_207.png", "glow_cat_285.png"]);
    const outcome = await executor.run(work);
    expect(outcome.attempts).to.equal(2);
    expect(outcome.computedBy.provider?.id).to.equal(golem.provider("healthy").id);
    expect(outcome.results.map(topClass)).to.deep.equal([207, 281]);
    expect(attempts.map((report) => [report.provider.name, report.outcome])).to.deep.equal([
      ["crashing", "failed"],
      ["healthy", "ok"],
    ]);
    expect(attempts[0]!.error).to.match(/running the entry command failed: ExeScript command exited with code 137/);

    // Destroyed, not released: its agreement ends (and is paid) while the healthy one stays in the pool.
    await eventually(() => golem.payment.accepted.length === 1);
    const [crashed, healthy] = golem.agreementLog();
    expect([crashed!.provider, crashed!.state, healthy!.provider, healthy!.state]).to.deep.equal([
      "crashing",
      "Terminated",
      "healthy",
      "Approved",
    ]);
    expect(costs[0]).to.deep.include({ agreementId: crashed!.id, amount: 0.01, chunks: [{ chunkId: work.id, amount: 0.01 }] });

    // The next chunk goes straight to the healthy provider; the crashing one is not rented again.
    const next = await executor.run(await chunk(["dlb_ILSVRC2012_val_00000023.JPEG"]));
    expect([next.attempts, next.computedBy.provider?.id]).to.deep.equal([1, golem.provider("healthy").id]);
    expect(golem.agreementLog()).to.have.length(2);
  });

  it("with providerBanMinutes 0 still lets go, within the chunk, a provider that failed it", async function () {
    // The pool hands back the failed provider's rental first (a new agreement on its fresh offer), then another.
    const failed = { agreement: { provider: { id: "0xfailed" } } };
    const other = { agreement: { provider: { id: "0xother" } } };
    const queue = [failed, other];
    const destroyed: unknown[] = [];
    const rentals = {
      acquire: async () => queue.shift(),
      destroy: async (rental: unknown) => void destroyed.push(rental),
    } as unknown as ConstructorParameters<typeof RentalPool>[0];
    const bans = new ProviderBans(0, Date.now);
    bans.ban("0xfailed"); // a 0-minute ban is no ban
    const pool = new RentalPool(rentals, { unsubscribe() {} }, bans, 1_000, Date.now());
    const rental = await pool.acquire(new Set(["0xfailed"]), new AbortController().signal);
    expect(rental).to.equal(other);
    expect(destroyed).to.deep.equal([failed]);
    // Another chunk may rent it again.
    queue.push(failed);
    expect(await pool.acquire(new Set(), new AbortController().signal)).to.equal(failed);
  });

  it("rejects a results file that does not answer the batch (wrong request id, wrong weights) and retries elsewhere", async function () {
    const { golem, executor, attempts } = await start(
      [{ name: "renumbering", fault: "wrong-request-id" }, { name: "other-weights", fault: "wrong-weights" }, { name: "honest" }],
      { poolSize: 1 },
    );
    const work = await chunk(["glow_dog_207.png", "dlb_ILSVRC2012_val_00000023.JPEG"]);
    const outcome = await executor.run(work);
    expect([outcome.attempts, outcome.computedBy.provider?.id]).to.deep.equal([3, golem.provider("honest").id]);
    expect(outcome.results.map((result) => result.requestId)).to.deep.equal(work.batch.requests.map((request) => request.requestId));
    expect(attempts.map((report) => [report.provider.name, report.outcome])).to.deep.equal([
      ["renumbering", "invalid-results"],
      ["other-weights", "invalid-results"],
      ["honest", "ok"],
    ]);
    expect(attempts[0]!.error).to.include(`expected ${work.batch.requests[0]!.requestId}`);
    expect(attempts[1]!.error).to.include(`expected ${weightsSha256}`);
  });

  it("destroys a provider that does not answer within the attempt timeout and moves on", async function () {
    // The timeout must cover the responsive provider's real inference even on a slow or
    // loaded machine (3 s did not, under load); only the hanging one may run into it.
    const { golem, executor, attempts } = await start([{ name: "hanging", fault: "hang" }, { name: "responsive" }], {
      attemptTimeoutMs: 15_000,
    });
    const outcome = await executor.run(await chunk(["glow_cat_285.png"]));
    expect([outcome.attempts, outcome.computedBy.provider?.id]).to.deep.equal([2, golem.provider("responsive").id]);
    expect(attempts.map((report) => [report.provider.name, report.outcome])).to.deep.equal([
      ["hanging", "timeout"],
      ["responsive", "ok"],
    ]);
    expect(attempts[0]!.durationMs).to.be.within(15_000, 25_000);
    await eventually(() => golem.agreementLog()[0]!.state === "Terminated");
    expect(golem.activity.liveActivities()).to.have.length(1); // the responsive provider's, kept for the next chunk
  });

  it("fails the chunk with an ExecutorError once every attempt failed", async function () {
    const { golem, executor } = await start(
      [
        { name: "crashing", fault: "crash" },
        { name: "deploy-broken", fault: "deploy-fails" },
      ],
      { maxAttempts: 2 },
    );
    const error = await executor.run(await chunk(["glow_cat_285.png"])).then(
      () => expect.fail("the chunk should fail"),
      (reason: unknown) => reason,
    );
    expect(error).to.be.instanceOf(ExecutorError);
    expect((error as ExecutorError).attempts).to.equal(2);
    expect((error as Error).message)
      .to.include(golem.provider("crashing").id)
      .and.to.include(golem.provider("deploy-broken").id);
    expect((error as Error).message).to.match(/deploy/);
  });

  it("abandons a chunk when the caller aborts, destroying the provider it was on", async function () {
    const { golem, executor, attempts } = await start([{ name: "hanging", fault: "hang" }]);
    const controller = new AbortController();
    const work = executor.run(await chunk(["glow_cat_285.png"]), controller.signal);
    await eventually(() => golem.activity.executed.some((command) => command.command === "transfer"));
    controller.abort(new Error("the oracle is shutting down"));
    const error = await work.then(
      () => expect.fail("the chunk should be abandoned"),
      (reason: unknown) => reason as ExecutorError,
    );
    expect(error).to.be.instanceOf(ExecutorError);
    expect(error.message).to.include("the oracle is shutting down");
    expect(attempts.map((report) => report.outcome)).to.deep.equal(["aborted"]);
    await eventually(() => golem.agreementLog()[0]?.state === "Terminated");
  });

  it("reports an unreachable yagna as an ExecutorError and connects again for the next chunk", async function () {
    let refusals = 1;
    const { executor, golem } = await start([{ name: "alpha" }], {}, (override) => {
      const yagna = override.yagna!;
      const connect = yagna.connect.bind(yagna);
      yagna.connect = async () => {
        if (refusals-- > 0) throw new Error("connect ECONNREFUSED 127.0.0.1:7465");
        return connect();
      };
    });
    const error = await executor.run(await chunk(["glow_cat_285.png"])).then(
      () => expect.fail("the chunk should fail"),
      (reason: unknown) => reason as ExecutorError,
    );
    expect(error).to.be.instanceOf(ExecutorError);
    expect(error.attempts).to.equal(0);
    expect(error.message).to.match(/^cannot order Golem providers for chunk chunk-\d+: connect ECONNREFUSED/);
    const outcome = await executor.run(await chunk(["glow_cat_285.png"]));
    expect(outcome.computedBy.provider?.id).to.equal(golem.provider("alpha").id);
  });

  it("fails a chunk without an image at once, and refuses to run without a yagna app key", async function () {
    const { executor, golem } = await start([{ name: "alpha" }]);
    const work = { ...(await chunk(["glow_cat_285.png"])), providerImageHash: `0x${"0".repeat(64)}` };
    const error = await executor.run(work).then(
      () => expect.fail("the chunk should fail"),
      (reason: unknown) => reason as ExecutorError,
    );
    expect(error).to.be.instanceOf(ExecutorError);
    expect(error.attempts).to.equal(0);
    expect(error.message).to.match(/no Golem image/);
    expect(golem.market.demands).to.deep.equal([]);
    expect(() => createGolemExecutor({ ...TEST_CONFIG, apiKey: "" })).to.throw(GolemConfigError, /YAGNA_APPKEY/);
  });

  describe("allocation renewal", function () {
    const HOUR_MS = 3_600_000;

    function allocationStates(golem: FakeGolem): [string, boolean][] {
      return [...golem.payment.allocations.values()].map(({ allocation, released }) => [allocation.id, released]);
    }

    it("renews the allocation before it ends; the old one's pool closes once its last chunk returns, and it is released after its invoices", async function () {
      const { golem, executor, attempts, logs, advanceClock } = await start([{ name: "alpha" }, { name: "beta" }]);
      await executor.run(await chunk(["glow_dog_207.png"]));
      const [oldAgreement] = golem.agreementLog();

      // A chunk is running on the old allocation's provider when time reaches the renewal lead (about 1 h before the end).
      const commandsBefore = golem.activity.executed.length;
      const runningChunk = await chunk(["glow_cat_285.png", "dlb_ILSVRC2012_val_00000023.JPEG"]);
      const running = executor.run(runningChunk);
      let runningReturned = false;
      const noteReturned = () => (runningReturned = true);
      void running.then(noteReturned, noteReturned);
      await eventually(() => golem.activity.executed.length > commandsBefore);
      advanceClock(23 * HOUR_MS);
      const renewingChunk = await chunk(["dlb_ILSVRC2012_val_00000023.JPEG"]);
      const renewing = executor.run(renewingChunk);
      await eventually(() => golem.payment.allocations.size === 2);
      expect(runningReturned).to.equal(false);
      expect(allocationStates(golem)).to.deep.equal([
        ["allocation-1", false],
        ["allocation-2", false],
      ]);
      const renewal = logs.find((entry) => entry.message === "renewed the Golem allocation")!;
      expect(renewal.level).to.equal("info");
      expect(renewal.details).to.include({
        allocationId: "allocation-2",
        previousAllocationId: "allocation-1",
        budget: "5",
        previousRemaining: "5",
      });
      expect(Date.parse(String(renewal.details.expires))).to.be.greaterThan(Date.now() + 46 * HOUR_MS);
      expect(String(renewal.details.reason)).to.match(/^it ends at .*, within the 67 min/);

      // The running chunk finished where it started: its pool was not drained under it.
      const [finished, renewed] = await Promise.all([running, renewing]);
      expect([finished.attempts, finished.results.map(topClass)]).to.deep.equal([1, [281, 948]]);
      expect(renewed.results.map(topClass)).to.deep.equal([948]);
      const agreementOf = (work: Chunk) => attempts.find((report) => report.chunkId === work.id)!.agreementId;
      expect(agreementOf(runningChunk)).to.equal(oldAgreement!.id);
      const newAgreement = agreementOf(renewingChunk);
      expect(newAgreement).to.not.equal(oldAgreement!.id);

      // Then the old period closes: demand withdrawn, agreement ended, invoice accepted against the old allocation, allocation released.
      await eventually(() => golem.payment.allocations.get("allocation-1")!.released);
      expect(golem.market.agreements.get(oldAgreement!.id)!.state).to.equal("Terminated");
      expect(golem.payment.paidFrom.get(oldAgreement!.id)).to.equal("allocation-1");
      expect(golem.market.openDemands()).to.deep.equal([golem.market.demands[1]!.id]);

      await executor.close();
      expect(golem.payment.paidFrom.get(newAgreement)).to.equal("allocation-2");
      expect(allocationStates(golem)).to.deep.equal([
        ["allocation-1", true],
        ["allocation-2", true],
      ]);
    });

    it("renews the allocation when what remains could not pay one more agreement", async function () {
      // One agreement can cost 0.02 + 0.1 h × (0.1 + 0.1 × 4 threads) = 0.07 GLM; the crashing provider's invoice leaves 0.06.
      const { golem, executor, attempts, allocations, logs } = await start(
        [{ name: "crashing", fault: "crash", invoiceGlm: "0.02" }, { name: "healthy" }],
        {
          budgetGlm: 0.08,
          rentHours: 0.1,
          maxStartPriceGlm: 0.02,
          maxEnvPerHourGlm: 0.1,
          maxCpuPerHourGlm: 0.1,
          maxCpuThreads: 4,
        },
      );
      const first = await executor.run(await chunk(["glow_dog_207.png"]));
      expect(first.attempts).to.equal(2);
      await eventually(() => golem.payment.paidFrom.size === 1);
      expect(golem.payment.allocations.get("allocation-1")!.allocation.remainingAmount).to.equal("0.06");

      const second = await executor.run(await chunk(["glow_cat_285.png"]));
      expect(second.results.map(topClass)).to.deep.equal([281]);
      expect(String(logs.find((entry) => entry.message === "renewed the Golem allocation")?.details.reason)).to.equal(
        "0.06 GLM remain, less than the 0.07 GLM one agreement can cost",
      );
      const [crashed, healthyOld] = golem.agreementLog();
      const healthyNew = attempts.at(-1)!.agreementId;
      expect(healthyNew).to.not.equal(healthyOld!.id);
      await eventually(() => golem.payment.allocations.get("allocation-1")!.released);
      expect([golem.payment.paidFrom.get(crashed!.id), golem.payment.paidFrom.get(healthyOld!.id)]).to.deep.equal([
        "allocation-1",
        "allocation-1",
      ]);
      expect(golem.payment.allocations.get("allocation-2")!.allocation.totalAmount).to.equal("0.08");

      await executor.close();
      expect(golem.payment.paidFrom.get(healthyNew)).to.equal("allocation-2");
      // What the metrics see before each chunk: the new allocation, then the renewal and why.
      expect(
        allocations.map(({ allocationId, remainingGlm, created, renewalReason }) => ({
          allocationId,
          remainingGlm,
          created,
          renewalReason,
        })),
      ).to.deep.equal([
        { allocationId: "allocation-1", remainingGlm: 0.08, created: true, renewalReason: undefined },
        {
          allocationId: "allocation-2",
          remainingGlm: 0.08,
          created: true,
          renewalReason: "0.06 GLM remain, less than the 0.07 GLM one agreement can cost",
        },
      ]);
      expect(allocations.every((report) => Date.parse(report.expiresAt!) > Date.now())).to.equal(true);
    });

    it("fails the chunk (no attempt, retryable) when yagna refuses the new allocation, and renews on the next try", async function () {
      let refusals = 1;
      const { golem, executor, logs, advanceClock } = await start([{ name: "alpha" }], {}, (override) => {
        const payment = override.paymentApi!;
        const createAllocation = payment.createAllocation.bind(payment);
        payment.createAllocation = async (params) => {
          if (golem.payment.allocations.size > 0 && refusals-- > 0) throw new Error("not enough funds: 5 GLM asked, 3 GLM free");
          return createAllocation(params);
        };
      });
      await executor.run(await chunk(["glow_dog_207.png"]));
      advanceClock(23 * HOUR_MS);

      const work = await chunk(["glow_cat_285.png"]);
      const error = await executor.run(work).then(
        () => expect.fail("the chunk should fail"),
        (reason: unknown) => reason as ExecutorError,
      );
      expect(error).to.be.instanceOf(ExecutorError);
      expect(error.attempts).to.equal(0);
      expect(error.message).to.match(
        /^cannot order Golem providers for chunk chunk-\d+: renewing the Golem allocation allocation-1 \(it ends at .*\) failed: not enough funds: 5 GLM asked, 3 GLM free$/,
      );
      expect(logs.filter((entry) => entry.level === "error").map((entry) => entry.message)).to.deep.equal([
        `${error.message.slice(error.message.indexOf("renewing"), error.message.indexOf(" failed:"))} failed; the next chunk tries again`,
      ]);
      expect(allocationStates(golem)).to.deep.equal([["allocation-1", false]]);

      // The oracle runs the chunk again: this time the renewal succeeds and no request is lost.
      const outcome = await executor.run(work);
      expect(outcome.results.map((result) => result.requestId)).to.deep.equal(work.batch.requests.map((request) => request.requestId));
      expect(outcome.results.map(topClass)).to.deep.equal([281]);
      await eventually(() => golem.payment.allocations.get("allocation-1")!.released);
      expect(allocationStates(golem)).to.deep.equal([
        ["allocation-1", true],
        ["allocation-2", false],
      ]);
    });
  });
});

describe("Golem executor configuration", function () {
  it("defaults to the hoodi testnet, accepts polygon and refuses the shut-down holesky", function () {
    expect(loadGolemConfig({}, {}).paymentNetwork).to.equal("hoodi");
    expect(loadGolemConfig({}, { ARGUS_GOLEM_PAYMENT_NETWORK: "polygon" }).paymentNetwork).to.equal("polygon");
    expect(() => loadGolemConfig({}, { ARGUS_GOLEM_PAYMENT_NETWORK: "holesky" })).to.throw(GolemConfigError, /holesky is shut down/);
  });

  it("reads yagna's variables and ours, normalises yagna's URL, lets explicit values win, and names every bad field with its source", function () {
    const config = loadGolemConfig(
      { poolSize: 4 },
      {
        YAGNA_APPKEY: "key",
        YAGNA_API_URL: "http://10.0.0.2:7465//",
        ARGUS_GOLEM_POOL_SIZE: "3",
        ARGUS_GOLEM_ENTRY_COMMAND: "/usr/bin/node /srv/entry.ts",
      },
    );
    expect(config).to.deep.include({
      apiKey: "key",
      apiUrl: "http://10.0.0.2:7465", // trailing slashes dropped: golem-js appends its own paths
      poolSize: 4,
      entryCommand: ["/usr/bin/node", "/srv/entry.ts"],
    });
    // File transfers reach yagna's GSB over its own scheme: wss behind https (golem-js always uses ws).
    expect(String(gsbServiceUrl(loadGolemConfig({ apiUrl: "https://yagna.example:7465/" }).apiUrl, "s1", "key"))).to.equal(
      "wss://yagna.example:7465/gsb-api/v1/services/s1?authToken=key",
    );
    expect(String(gsbServiceUrl(config.apiUrl, "s1", "key"))).to.equal("ws://10.0.0.2:7465/gsb-api/v1/services/s1?authToken=key");
    expect(() => loadGolemConfig({ maxAttempts: 0 }, { ARGUS_GOLEM_IMAGE_HASH: "abc", ARGUS_GOLEM_MIN_MEM_GIB: "-1" })).to.throw(
      GolemConfigError,
      /imageHash \(ARGUS_GOLEM_IMAGE_HASH\)[\s\S]*minMemGib \(ARGUS_GOLEM_MIN_MEM_GIB\)[\s\S]*maxAttempts \(value\)/,
    );
  });

  it("refuses a budget that cannot pay one agreement and an allocation shorter than its renewal lead", function () {
    // 0.05 start + 1 h × (0.05 environment + 0.1 CPU × 8 threads): the defaults' worst case.
    expect(() => loadGolemConfig({ budgetGlm: 0.5 }, {})).to.throw(
      GolemConfigError,
      /budgetGlm \(value\): 0\.5 GLM cannot pay one agreement at the price limits \(0\.9 GLM/,
    );
    expect(() => loadGolemConfig({ minCpuThreads: 16 }, {})).to.throw(GolemConfigError, /maxCpuThreads.*at least minCpuThreads/);
    expect(
      loadGolemConfig({}, { ARGUS_GOLEM_ALLOWED_PROVIDERS: "0xAbCdEf0123456789abcdef0123456789ABCDEF01, " }).allowedProviders,
    ).to.deep.equal(["0xabcdef0123456789abcdef0123456789abcdef01"]);
    expect(() => loadGolemConfig({}, { ARGUS_GOLEM_ALLOWED_PROVIDERS: "provider-1" })).to.throw(
      GolemConfigError,
      /allowedProviders.*0x and 40 hex/,
    );
    expect(() => loadGolemConfig({}, { ARGUS_GOLEM_ALLOCATION_HOURS: "1.5" })).to.throw(
      GolemConfigError,
      /allocationHours \(ARGUS_GOLEM_ALLOCATION_HOURS\): an allocation must outlast its renewal lead of 2\.53 h/,
    );
    expect(loadGolemConfig({ allocationHours: 2.6, budgetGlm: 3 }, {})).to.include({ allocationHours: 2.6, budgetGlm: 3 });
  });

  it("is documented in GOLEM.md: every variable, its key and its default", async function () {
    const doc = await readFile(join(REPO_ROOT, "oracle-requestor/GOLEM.md"), "utf8");
    const rows = doc
      .split("\n")
      .filter((line) => /^\| `[A-Z_]+` \|/.test(line))
      .map((line) => line.split("|").map((cell) => cell.trim()));
    const defaults = loadGolemConfig({}, {}) as Record<string, unknown>;
    expect(rows.map(([, env, key]) => [env, key])).to.deep.equal(
      Object.entries(GOLEM_CONFIG_ENV).map(([key, env]) => [`\`${env}\``, `\`${key}\``]),
    );
    for (const [, , key, value] of rows) {
      const fallback = defaults[key!.slice(1, -1)];
      expect(value, key).to.equal(
        fallback === undefined || (Array.isArray(fallback) && fallback.length === 0)
          ? value?.match(/^—.*/)?.[0]
          : `\`${Array.isArray(fallback) ? fallback.join(" ") : String(fallback)}\``,
      );
    }
  });
});

async function eventually(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("the condition did not become true in time");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
