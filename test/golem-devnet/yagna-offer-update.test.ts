/**
 * A provider's offer changed at run time (PUT /devnet/providers/{id}/offer), as ya-provider
 * re-publishes when a preset or its hardware changes: the old offer is unsubscribed (its
 * proposals refused, matched no more, not renewed), a new one with a new id and the new
 * terms is matched with the live demands, an agreement signed before keeps its terms, and
 * each exe-unit gets its agreement's thread count.
 */
import { expect } from "chai";
import { createExeUnit } from "@argus/golem-devnet/create-exe-unit";
import { formatAmount } from "@argus/golem-devnet/decimal";
import { activityCost, paymentTerms } from "@argus/golem-devnet/provider-billing";
import { ensureProviderImage, type Harness, order, PRICES, providerSpecs, startHarness } from "./support/yagna-harness.ts";

type Proposal = { proposalId: string; properties: Record<string, unknown> };

describe("golem-devnet yagna: a provider's offer changed at run time", function () {
  this.timeout(180_000);
  let harness: Harness | undefined;

  before(async function () {
    await ensureProviderImage(this);
  });

  afterEach(async function () {
    await harness?.close();
    harness = undefined;
  });

  async function api(path: string, init: RequestInit = {}): Promise<{ status: number; body: unknown }> {
    const { devnet } = harness!;
    const response = await fetch(`${devnet.url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${devnet.appKey}`, "content-type": "application/json", ...init.headers },
    });
    const text = await response.text();
    return { status: response.status, body: text === "" ? undefined : JSON.parse(text) };
  }

  const demandProperties = () => ({
    "golem.srv.comp.expiration": harness!.devnet.network.clock.now() + 3_600_000,
    "golem.node.debug.subnet": "public",
  });
  const subscribe = async () =>
    (
      await api("/market-api/v1/demands", {
        method: "POST",
        body: JSON.stringify({ properties: demandProperties(), constraints: "(&(golem.runtime.name=vm)(golem.inf.mem.gib>=1))" }),
      })
    ).body as string;
  const proposals = async (demandId: string) =>
    ((await api(`/market-api/v1/demands/${demandId}/events?timeout=1&maxEvents=10`)).body as { proposal?: Proposal }[]).map(
      (event) => event.proposal!,
    );
  const changeOffer = (body: unknown) => api("/devnet/providers/test-provider-1/offer", { method: "PUT", body: JSON.stringify(body) });

  it("unsubscribes the old offer and publishes a new one; agreements keep the terms they were signed with", async function () {
    const threads: number[] = [];
    harness = await startHarness({
      providers: providerSpecs(1),
      exeUnits: (options) => {
        threads.push(options.threads);
        return createExeUnit(options);
      },
    });
    const { glm, devnet, hash } = harness;
    const oldCoefficients = [PRICES.cpuPerHour / 3600, PRICES.envPerHour / 3600, PRICES.start];
    const newCoefficients = [1.44 / 3600, PRICES.envPerHour / 3600, PRICES.start];
    const live = await subscribe();
    const [initial] = await proposals(live);
    expect(initial!.properties).to.include({ "golem.inf.cpu.threads": 2 });
    const oldOffer = devnet.network.providers.all()[0]!.offer!;

    const first = await glm.oneOf({ order: order(hash, 0.5) });
    await first.getExeUnit();
    expect(threads).to.deep.equal([2]);

    const changed = await changeOffer({ threads: 32, prices: { cpuPerHour: 1.44 } });
    expect(changed.status).to.equal(200);
    expect(changed.body).to.deep.include({ name: "test-provider-1", threads: 32, memoryGib: 4, prices: { ...PRICES, cpuPerHour: 1.44 } });
    const newOfferId = (changed.body as { offerId: string }).offerId;
    expect(newOfferId).to.be.a("string").and.not.equal(oldOffer.id);
    expect(devnet.view.providers()[0]).to.deep.include({ offerId: newOfferId, threads: 32 });

    // the live demand meets the new offer as a new Initial proposal; the old offer's is refused as yagna does
    const [republished] = await proposals(live);
    expect(republished!.properties).to.include({ "golem.inf.cpu.threads": 32, "golem.inf.cpu.cores": 16 });
    expect(republished!.properties["golem.com.pricing.model.linear.coeffs"]).to.deep.equal(newCoefficients);
    const counter = await api(`/market-api/v1/demands/${live}/proposals/${initial!.proposalId}`, {
      method: "POST",
      body: JSON.stringify({ properties: demandProperties(), constraints: "(golem.runtime.name=vm)" }),
    });
    expect(counter).to.deep.equal({ status: 400, body: { message: `Subscription [${oldOffer.id}] was already unsubscribed.` } });

    // a new demand matches the new offer only
    const fresh = await subscribe();
    const matched = await proposals(fresh);
    expect(matched.map((proposal) => proposal.properties["golem.inf.cpu.threads"])).to.deep.equal([32]);
    const offerIds = [...devnet.network.market.proposals.values()].filter((proposal) => proposal.demandId === fresh);
    expect(offerIds.map((proposal) => proposal.offerId)).to.deep.equal([newOfferId]);

    // the agreement signed before keeps the old offer: its invoice is its usage at the old prices
    await first.stopAndFinalize(30_000);
    const firstOffer = devnet.network.agreements.get(first.agreement.id).offer.properties;
    expect(firstOffer).to.include({ "golem.inf.cpu.threads": 2 });
    expect(firstOffer["golem.com.pricing.model.linear.coeffs"]).to.deep.equal(oldCoefficients);
    const lastNote = [...devnet.network.payments.documents.debitNotes.values()]
      .filter((note) => note.agreementId === first.agreement.id)
      .at(-1)!;
    const invoice = devnet.view.invoices().find((entry) => entry.agreementId === first.agreement.id)!;
    expect(invoice.amount).to.equal(formatAmount(activityCost(paymentTerms(firstOffer), lastNote.usageCounterVector)));

    // one signed after has the new terms, and its exe-unit the new thread count
    const second = await glm.oneOf({ order: order(hash, 0.5) });
    await second.getExeUnit();
    const secondOffer = devnet.network.agreements.get(second.agreement.id).offer.properties;
    expect(secondOffer).to.include({ "golem.inf.cpu.threads": 32 });
    expect(secondOffer["golem.com.pricing.model.linear.coeffs"]).to.deep.equal(newCoefficients);
    expect(threads).to.deep.equal([2, 32]);
    await second.stopAndFinalize(30_000);

    // the old offer's hourly renewal went with it; the new one renews itself
    devnet.advanceClock((oldOffer.expiresAtMs - devnet.network.clock.now()) / 1000 + 1);
    expect(devnet.view.providers()[0]!.offerId).to.equal(newOfferId);
    devnet.advanceClock((devnet.network.providers.all()[0]!.offer!.expiresAtMs - devnet.network.clock.now()) / 1000 + 1);
    expect(devnet.view.providers()[0]!.offerId).to.not.be.oneOf([oldOffer.id, newOfferId]);
    expect(devnet.violations()).to.deep.equal([]);
  });

  it("refuses an offer change it cannot apply, naming why, and keeps the offer", async function () {
    harness = await startHarness({ providers: providerSpecs(1) });
    const offerId = harness.devnet.view.providers()[0]!.offerId;
    const refusals: [unknown, string][] = [
      [{}, "nothing to change: give threads, memoryGib or prices"],
      [{ cores: 4 }, "unknown offer field cores (known: threads, memoryGib, prices)"],
      [{ threads: 1.5 }, "threads must be an integer ≥ 1"],
      [{ threads: 0 }, "threads must be an integer ≥ 1"],
      [{ memoryGib: -2 }, "memoryGib must be a number > 0"],
      [{ prices: { perTask: 1 } }, "unknown price perTask (known: start, envPerHour, cpuPerHour)"],
      [{ prices: { start: -0.01 } }, "prices.start must be a number ≥ 0"],
      [{ prices: { start: "1" } }, "prices.start must be a number ≥ 0"],
      [{ prices: 5 }, "prices must be a JSON object"],
      [[32], "the offer change must be a JSON object"],
    ];
    for (const [body, message] of refusals)
      expect(await changeOffer(body), JSON.stringify(body)).to.deep.equal({ status: 400, body: { message } });
    expect(await api("/devnet/providers/no-such-provider/offer", { method: "PUT", body: '{"threads":8}' })).to.deep.include({
      status: 400,
    });
    expect(harness.devnet.view.providers()[0]).to.deep.include({ offerId, threads: 2, prices: PRICES });

    // free prices are allowed; the programmatic API takes the same changes
    expect(await changeOffer({ prices: { start: 0 } })).to.deep.include({ status: 200 });
    harness.devnet.updateOffer("test-provider-1", { memoryGib: 6 });
    expect(harness.devnet.view.providers()[0]).to.deep.include({ threads: 2, memoryGib: 6, prices: { ...PRICES, start: 0 } });
    expect(harness.devnet.view.providers()[0]!.offerId).to.not.equal(offerId);
  });
});
