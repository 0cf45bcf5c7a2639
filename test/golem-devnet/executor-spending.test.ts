/**
 * What a provider can make the oracle pay, on the devnet: offers with more threads than
 * `maxCpuThreads` (billed for all of them) are never rented, and an invoice above what
 * its agreement can cost is rejected, logged, and its provider banned.
 *
 * Skipped (saying why) without the shared photos and models, the built image, or
 * bubblewrap/squashfs-tools.
 */
import { expect } from "chai";
import { devnetSuite } from "./support/executor-run.ts";
import { PRICES, providerSpecs } from "./support/yagna-harness.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("golem-devnet: the Golem executor's spending bounds", function () {
  this.timeout(600_000);
  const suite = devnetSuite();

  it("never rents a 32-thread provider, even one priced within the per-thread limit", async function () {
    const [big, ...small] = providerSpecs(3, { threads: 2, memoryGib: 4 });
    // Same price per thread-hour as the others: only the thread count makes it expensive.
    const handle = await suite.start({ providers: [{ ...big!, name: "big-provider", threads: 32 }, ...small] });
    const run = await suite.executorOn(handle, { poolSize: 2 });
    const outcomes = await Promise.all([1, 2, 3, 4].map(async () => run.executor.run(await run.chunk())));
    expect(outcomes.map((outcome) => outcome.results.length)).to.deep.equal([1, 1, 1, 1]);
    const renters = new Set(handle.devnet.view.agreements().map((agreement) => agreement.providerName));
    expect(renters.size).to.be.greaterThan(0);
    expect([...renters]).to.not.include("big-provider");
    // It made offers all along: it was refused, not absent.
    expect(handle.devnet.view.providers().find((provider) => provider.name === "big-provider")?.threads).to.equal(32);
  });

  it("rejects an invoice above what the agreement can cost, logs it, and bans the provider", async function () {
    const handle = await suite.start({ providers: providerSpecs(2, { threads: 2, memoryGib: 4 }) });
    const { devnet } = handle;
    const [liar, honest] = devnet.providers;
    // Worst case of one agreement here: 0.01 + 1 h × (0.036 + 0.072 × 2) = 0.19 GLM; the
    // start price alone × 100 is 1 GLM.
    devnet.setFaults(liar!.id, { overchargeFactor: 100 });
    // The other provider first asks more than the limits, so the first chunk goes to the liar.
    devnet.updateOffer(honest!.id, { prices: { cpuPerHour: 1 } });
    const run = await suite.executorOn(handle, { maxAttempts: 2, acquireTimeoutMs: 15_000 });
    const first = await run.executor.run(await run.chunk());
    expect(first.computedBy.provider?.id).to.equal(liar!.id);
    devnet.updateOffer(honest!.id, { prices: PRICES });
    // Its next run crashes: the agreement ends, and the provider sends its invoice.
    devnet.setFaults(liar!.id, { overchargeFactor: 100, crashAfterMs: 20 });
    const second = await run.executor.run(await run.chunk());
    expect(second.computedBy.provider?.id).to.equal(honest!.id);

    const liarsInvoice = () => devnet.view.invoices().find((entry) => entry.providerId === liar!.id);
    for (let waited = 0; waited < 30_000 && liarsInvoice()?.status !== "REJECTED"; waited += 100) await sleep(100);
    const invoice = liarsInvoice();
    expect(invoice?.status).to.equal("REJECTED");
    expect(Number(invoice!.amount)).to.be.at.least(100 * PRICES.start);
    const warning = run.logs.find((line) => line.message.startsWith("rejected a Golem invoice above what its agreement can cost"));
    expect(warning?.details).to.deep.include({ provider: liar!.id, amount: invoice!.amount });
    expect(Math.abs(Number(warning?.details.worstCaseGlm) - (0.01 + 0.036 + 0.072 * 2))).to.be.below(1e-9);

    // Banned: honest again, it is still not rented when the other provider fails.
    devnet.setFaults(liar!.id, {});
    devnet.setFaults(honest!.id, { crashAfterMs: 20 });
    const agreementsBefore = devnet.view.agreements().filter((agreement) => agreement.providerId === liar!.id).length;
    let failure: unknown;
    await run.executor.run(await run.chunk()).catch((error: unknown) => {
      failure = error;
    });
    expect(failure, "the chunk had no provider left").to.be.instanceOf(Error);
    expect(devnet.view.agreements().filter((agreement) => agreement.providerId === liar!.id).length).to.equal(agreementsBefore);
  });
});
