/**
 * Untrusted providers on the devnet: a provider that lies (valid results file, wrong
 * classes) is caught by the cross-check on its first chunk, outvoted by a third
 * provider, banned for good, and none of its answers comes out of the executor; honest
 * providers' first chunks are confirmed by a second provider, and later ones are not
 * checked when the draw says so. Each answer says how it was checked.
 *
 * Skipped (saying why) without the shared photos and models, the built image, or
 * bubblewrap/squashfs-tools.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { openDatabase } from "@argus/oracle/store/database";
import { SqliteReputationStore } from "@argus/oracle/store/provider-reputation";
import { createLocalExecutor } from "@argus/oracle/executors/local";
import type { ChunkOutcome } from "@argus/oracle/executors/executor";
import { createEngine } from "@argus/provider-image/engine";
import type { ClassificationResult } from "@argus/protocol/result";
import { SHARED_IMAGES_DIR, SHARED_MODELS_DIR } from "../support/shared.ts";
import { devnetSuite, MODEL_ID } from "./support/executor-run.ts";
import { providerSpecs } from "./support/yagna-harness.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const topClass = (outcome: ChunkOutcome) => (outcome.results[0] as ClassificationResult).top5[0]!.classIndex;

describe("golem-devnet: the Golem executor cross-checks its providers", function () {
  this.timeout(600_000);
  const suite = devnetSuite();
  let work: string | undefined;

  after(async function () {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("catches a lying provider on its first chunk, bans it, and gives out only answers that passed", async function () {
    const handle = await suite.start({ providers: providerSpecs(3, { threads: 2, memoryGib: 4 }) });
    const { devnet } = handle;
    // The providers' records live in a queue file, as the oracle keeps them.
    work = await mkdtemp(join(tmpdir(), "argus-reputation-"));
    const queue = join(work, "queue.sqlite");
    // Audit every provider's first 3 chunks, and no later one (the draw never falls under the rate).
    const settings = { poolSize: 3, maxAttempts: 3, auditRate: 0.1, auditFirstChunks: 3 };
    const run = await suite.executorOn(handle, settings, {
      random: () => 0.5,
      reputationStore: new SqliteReputationStore(openDatabase(queue)),
    });
    const chunk = await run.chunk();
    const image = chunk.images.values().next().value!;
    const [honest] = await createEngine({ referencePhotosDir: SHARED_IMAGES_DIR, modelsDir: SHARED_MODELS_DIR }).run(MODEL_ID, [
      { requestId: "1", imageCid: chunk.batch.requests[0]!.imageCid, image: { bytes: image } },
    ]);
    const honestClass = (honest as ClassificationResult).top5[0]!.classIndex;

    // The provider the first chunk lands on lies from its first command on.
    const first = run.executor.run(chunk);
    while (devnet.view.activities().length === 0) await sleep(5);
    const liar = devnet.view.activities()[0]!.providerId;
    devnet.setFaults(liar, { lie: true });
    const caught = await first;

    expect(caught.computedBy.provider?.id, "the liar's answer is not the one given out").to.not.equal(liar);
    expect(caught.computedBy.audit).to.deep.equal({ providers: 3, agreed: false, outvoted: liar });
    expect(topClass(caught)).to.equal(honestClass);
    // The answers the ban was decided on come out with the chunk, for the oracle to pin.
    expect(caught.evidence?.requestIds).to.deep.equal([chunk.batch.requests[0]!.requestId]);
    expect(caught.evidence?.answers.map((answer) => answer.outvoted)).to.have.members([true, false, false]);
    const lie = caught.evidence!.answers.find((answer) => answer.outvoted)!;
    expect(lie.by !== "oracle" && lie.by.id).to.equal(liar);
    expect((lie.results[0] as ClassificationResult).top5[0]!.classIndex).to.not.equal(honestClass);
    expect(
      run.logs.some((line) => line.message === "banned a Golem provider that gave wrong answers" && line.details.provider === liar),
    ).to.equal(true);

    const later: ChunkOutcome[] = [];
    for (let index = 0; index < 6; index++) later.push(await run.executor.run(await run.chunk()));
    for (const outcome of later) {
      expect(outcome.computedBy.provider?.id).to.not.equal(liar);
      expect(topClass(outcome)).to.equal(honestClass);
    }
    // The two honest providers each had 3 audited chunks (the first one counted), then none.
    const audits = later.map((outcome) => outcome.computedBy.audit);
    expect(audits.filter((audit) => audit === "unaudited").length, JSON.stringify(audits)).to.be.at.least(1);
    for (const audit of audits)
      expect(audit === "unaudited" || (audit !== undefined && "providers" in audit && audit.providers === 2)).to.equal(true);
    for (const outcome of later) expect(outcome.evidence).to.equal(undefined);
    expect(
      devnet.view.activities().filter((activity) => activity.providerId === liar),
      "the liar is not rented again",
    ).to.have.length(1);

    const records = run.executor.providers();
    const liarRecord = records.find((record) => record.id === liar)!;
    expect(liarRecord).to.deep.include({ chunks: 1, audited: 1, disagreed: 1, outvoted: 1 });
    for (const record of records.filter((entry) => entry.id !== liar)) expect(record.outvoted).to.equal(0);
    // What the cross-checks cost: runs beyond one per chunk.
    const runs = records.reduce((sum, record) => sum + record.chunks, 0);
    console.log(`      7 chunks, ${runs} provider runs (${runs - 7} for cross-checks); the liar banned after its first chunk`);

    // A restart is no amnesty: the next executor on the same queue never rents the liar.
    await run.executor.close();
    const restarted = await suite.executorOn(handle, settings, {
      random: () => 0.5,
      reputationStore: new SqliteReputationStore(openDatabase(queue)),
    });
    expect(restarted.executor.providers().find((record) => record.id === liar)).to.deep.include({ outvoted: 1 });
    for (let index = 0; index < 3; index++) {
      const outcome = await restarted.executor.run(await restarted.chunk());
      expect(outcome.computedBy.provider?.id).to.not.equal(liar);
    }
    expect(devnet.view.activities().filter((activity) => activity.providerId === liar)).to.have.length(1);
    expect(restarted.logs.some((line) => line.message.startsWith("Golem providers caught giving wrong answers in earlier runs"))).to.equal(
      true,
    );
  });

  it("audit.local: the oracle's own engine recomputes audited chunks and a provider it contradicts is banned", async function () {
    const handle = await suite.start({ providers: providerSpecs(2, { threads: 2, memoryGib: 4 }) });
    const { devnet } = handle;
    const referee = createLocalExecutor({ concurrency: 1, modelsDir: SHARED_MODELS_DIR });
    try {
      // One provider at a time is enough: the second opinion is this machine's engine.
      const run = await suite.executorOn(
        handle,
        { poolSize: 1, maxAttempts: 3, auditRate: 0, auditFirstChunks: 2, auditLocal: true },
        { random: () => 0.5, recompute: (chunk, signal) => referee.run(chunk, signal) },
      );
      const honestRun = await run.executor.run(await run.chunk());
      const honestProvider = honestRun.computedBy.provider!.id;
      expect(honestRun.computedBy.audit).to.deep.equal({ recomputedByOracle: true, agreed: true });
      expect(honestRun.evidence).to.equal(undefined);

      // That provider now lies: its second chunk (still audited) is contradicted by the engine.
      devnet.setFaults(honestProvider, { lie: true });
      const caught = await run.executor.run(await run.chunk());
      expect(caught.computedBy).to.deep.equal({ executor: "local" });
      const expected = (await referee.run(await run.chunk())).results[0] as ClassificationResult;
      expect(topClass(caught)).to.equal(expected.top5[0]!.classIndex);
      expect(caught.evidence?.answers.map((answer) => [answer.by === "oracle" ? "oracle" : answer.by.id, answer.outvoted])).to.deep.equal([
        [honestProvider, true],
        ["oracle", false],
      ]);
      expect(run.executor.providers().find((record) => record.id === honestProvider)).to.deep.include({
        audited: 2,
        agreed: 1,
        outvoted: 1,
      });
      // Banned for good: the next chunk goes to the other provider.
      const next = await run.executor.run(await run.chunk());
      expect(next.computedBy.provider?.id).to.not.equal(honestProvider);
      await run.executor.close();
    } finally {
      await referee.close();
    }
  });

  it("with fewer than three providers at a time there is no tie-break: answers say they were not cross-checked", async function () {
    const handle = await suite.start({ providers: providerSpecs(2, { threads: 2, memoryGib: 4 }) });
    const run = await suite.executorOn(handle, { poolSize: 2, auditRate: 1, auditFirstChunks: 3 });
    const outcome = await run.executor.run(await run.chunk());
    expect(outcome.computedBy.audit).to.equal("unaudited");
    expect(outcome.attempts).to.equal(1);
    expect(run.logs.some((line) => line.message.startsWith("audits need three providers rented at once"))).to.equal(true);
  });
});
