/**
 * The oracle's Golem executor when yagna or the providers misbehave on the devnet.
 *
 * Skipped (saying why) without the shared photos and models, the built image, or
 * bubblewrap/squashfs-tools.
 */
import { expect } from "chai";
import { devnetSuite } from "./support/executor-run.ts";
import { providerSpecs } from "./support/yagna-harness.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("golem-devnet: the Golem executor against faults", function () {
  this.timeout(600_000);
  const suite = devnetSuite();

  it("keeps receiving offers after yagna answered 500 for 30 s", async function () {
    const handle = await suite.start({ providers: providerSpecs(3, { threads: 2, memoryGib: 4 }) });
    const { devnet } = handle;
    const [first, ...others] = devnet.providers;
    // Only the first provider is on the market while the demand is first published.
    for (const provider of others) devnet.setVanished(provider.id, true);
    const run = await suite.executorOn(handle);
    const before = await run.executor.run(await run.chunk());
    expect(before.computedBy.provider?.id).to.equal(first!.id);

    for (const provider of others) devnet.setVanished(provider.id, false);
    devnet.failYagnaFor(30);
    await sleep(31_000);
    // The rented provider now crashes: the next chunk needs an offer made after the outage.
    // 20 ms: sooner than any command can finish, even a warm resident engine's batch.
    devnet.setFaults(first!.id, { crashAfterMs: 20 });
    const after = await run.executor.run(await run.chunk());
    expect(others.map((provider) => provider.id)).to.include(after.computedBy.provider?.id);
    expect(run.attempts.map((report) => report.outcome)).to.deep.equal(["ok", "failed", "ok"]);
    expect(run.logs.some((line) => line.message === "the Golem offer stream failed; subscribing again")).to.equal(true);
  });
  it("backs off its event polls while yagna answers 500 instead of spinning, and recovers", async function () {
    const handle = await suite.start({ providers: providerSpecs(1, { threads: 2, memoryGib: 4 }) });
    const run = await suite.executorOn(handle);
    await run.executor.run(await run.chunk()); // connected: golem-js's event loops are polling
    handle.devnet.failYagnaFor(14);
    await sleep(1_000);
    const before = process.cpuUsage();
    const started = performance.now();
    await sleep(10_000);
    const cpu = process.cpuUsage(before);
    const busyShare = (cpu.user + cpu.system) / 1000 / (performance.now() - started);
    // golem-js alone would poll again as fast as each 500 comes back: this process (the
    // executor and the devnet answering it) would keep a core busy.
    expect(busyShare, "the share of a core this process used while yagna failed").to.be.below(0.3);
    expect(run.logs.some((line) => line.message.startsWith("yagna does not answer event polls"))).to.equal(true);
    await sleep(35_000); // the window is over, and the longest back-off (30 s) has passed
    const after = await run.executor.run(await run.chunk());
    expect(after.results).to.have.length(1);
    expect(run.logs.some((line) => line.message === "yagna answers event polls again")).to.equal(true);
  });

  it("gives a slow image download its own timeout: the attempt timer starts once the exe-unit is ready", async function () {
    const handle = await suite.start({ providers: providerSpecs(2, { threads: 2, memoryGib: 4 }) });
    const { devnet } = handle;
    for (const provider of devnet.providers) devnet.setFaults(provider.id, { deployDelayMs: 25_000 });
    const run = await suite.executorOn(handle, { attemptTimeoutMs: 20_000, deployTimeoutMs: 120_000, maxAttempts: 2 });
    const outcome = await run.executor.run(await run.chunk());
    expect(outcome.attempts).to.equal(1);
    expect(run.attempts.map((report) => report.outcome)).to.deep.equal(["ok"]);
    expect(run.attempts[0]!.durationMs).to.be.above(25_000);
  });

  it("cuts off a provider that streams 1 GiB as its results file, bans it, and takes the answer from another", async function () {
    const handle = await suite.start({ providers: providerSpecs(2, { threads: 2, memoryGib: 4 }) });
    const { devnet } = handle;
    // Both would stream it; the one rented second is made honest once the first has failed.
    for (const provider of devnet.providers) devnet.setFaults(provider.id, { oversizedResultsBytes: 2 ** 30 });
    const run = await suite.executorOn(handle, { maxAttempts: 2 });
    const pending = run.executor.run(await run.chunk());
    while (run.attempts.length === 0) await sleep(20);
    const hostile = run.attempts[0]!.provider.id;
    for (const provider of devnet.providers) if (provider.id !== hostile) devnet.setFaults(provider.id, {});
    const outcome = await pending;

    expect(run.attempts.map((report) => report.outcome)).to.deep.equal(["invalid-results", "ok"]);
    expect(run.attempts[0]!.error).to.match(
      /^the provider sent more than 8388608 bytes for results\.json: the download was cut off at \d+$/,
    );
    const cutAt = Number(/cut off at (\d+)/.exec(run.attempts[0]!.error!)![1]);
    expect(cutAt, "bytes taken in before the cut: the cap and one transfer chunk").to.be.at.most(8 * 2 ** 20 + 2 ** 20);
    expect(outcome.computedBy.provider?.id).to.not.equal(hostile);
    expect(outcome.results.every((result) => "top5" in result)).to.equal(true);
  });
});
