/**
 * ya-provider's market rules as golem-js meets them on the devnet: the demand's
 * expiration window, offers that only match demands expiring after they were made,
 * constraints the devnet refuses to guess, agreements ending at the demand's expiration
 * and after 90 s without an activity — the last two on the emulated clock.
 */
import { expect } from "chai";
import { ensureProviderImage, eventually, type Harness, order, startHarness } from "./support/yagna-harness.ts";

describe("golem-devnet yagna: market rules", function () {
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

  it("providers refuse a demand expiring sooner than now + 5 min, for good", async function () {
    // golem-js files its counter-proposal only after the POST returns and a GET; a rejection
    // arriving before that is dropped (by golem-js, on yagna too), so the providers answer slowly here.
    harness = await startHarness({ latencyMs: 500 });
    const rejections: string[] = [];
    harness.glm.market.events.on("offerCounterProposalRejected", ({ reason }) => rejections.push(reason));
    const attempt = harness.glm.oneOf({ order: order(harness.hash, 4 / 60), signalOrTimeout: 4_000 });
    await attempt.then(
      () => expect.fail("no provider should sign a 4-minute agreement"),
      (error: Error) => expect(error.message).to.equal("Could not sign any agreement in time"),
    );
    expect(rejections).to.have.length(2);
    for (const reason of rejections)
      expect(reason).to.match(/^Proposal expires at: .* which is less than 5min or more than 100years from now$/);
    const rejected = [...harness.devnet.network.market.proposals.values()].filter((proposal) => proposal.issuer === "Requestor");
    expect(rejected.map((proposal) => proposal.state)).to.deep.equal(["Rejected", "Rejected"]);
    expect(harness.devnet.view.agreements()).to.deep.equal([]);
    expect(harness.devnet.violations()).to.deep.equal([]);
  });

  it("an offer matches only demands expiring after it was made; unknown constraint syntax is refused", async function () {
    harness = await startHarness();
    const demand = (expiration: number, constraints = "(&(golem.runtime.name=vm)(golem.inf.mem.gib>=1))") =>
      api("/market-api/v1/demands", {
        method: "POST",
        body: JSON.stringify({ properties: { "golem.srv.comp.expiration": expiration, "golem.node.debug.subnet": "public" }, constraints }),
      });
    const events = async (id: unknown) =>
      (await api(`/market-api/v1/demands/${String(id)}/events?timeout=1&maxEvents=10`)).body as unknown[];

    const offersMadeAt = Math.min(...harness.devnet.network.providers.all().map((provider) => provider.offer!.createdAtMs));
    const fresh = await demand(offersMadeAt + 3_600_000);
    expect(fresh.status).to.equal(201);
    expect((await events(fresh.body)).map((event) => (event as { eventType: string }).eventType)).to.deep.equal([
      "ProposalEvent",
      "ProposalEvent",
    ]);

    const stale = await demand(offersMadeAt - 1);
    expect(stale.status).to.equal(201);
    expect(await events(stale.body)).to.deep.equal([]);

    const approximate = await demand(offersMadeAt + 3_600_000, "(golem.inf.mem.gib~=4)");
    expect(approximate.status).to.equal(400);
    expect((approximate.body as { message: string }).message).to.match(/unsupported filter item "golem.inf.mem.gib~=4"/);
    expect(harness.devnet.violations()).to.deep.equal([]);
  });

  it("the provider ends an agreement at the demand's expiration, and invoices it", async function () {
    harness = await startHarness();
    const { glm, devnet, hash } = harness;
    const rental = await glm.oneOf({ order: order(hash, 0.1) });
    await rental.getExeUnit();
    const [signed] = devnet.view.agreements();
    const expiresAt = Date.parse(signed!.expiresAt!);

    devnet.advanceClock((expiresAt - devnet.network.clock.now()) / 1000 - 1);
    expect(devnet.view.agreements()[0]!.state).to.equal("Approved");
    devnet.advanceClock(1.5);
    const [ended] = devnet.view.agreements();
    expect(ended).to.deep.include({ state: "Terminated", terminator: "Provider" });
    expect(ended!.reason).to.deep.include({
      "golem.provider.code": "Expired",
      message: `Agreement expired @ ${new Date(expiresAt).toISOString()}`,
    });
    expect(Date.parse(ended!.endedAt!) - expiresAt).to.be.within(0, 1_000);

    const invoice = await eventually(
      () => devnet.view.invoices().find((entry) => entry.status === "ACCEPTED"),
      10_000,
      "the invoice accepted",
    );
    expect(invoice.agreementId).to.equal(rental.agreement.id);
    await rental.stopAndFinalize(10_000);
    expect(devnet.violations()).to.deep.equal([]);
  });

  it("the provider ends an agreement with no activity for 90 s", async function () {
    harness = await startHarness();
    const { glm, devnet, hash } = harness;
    const rental = await glm.oneOf({ order: order(hash, 0.5) });
    await rental.getExeUnit();
    devnet.advanceClock(200); // an activity keeps the agreement alive however long it runs
    await eventually(() => devnet.view.debitNotes().every((note) => note.acceptedAt), 10_000, "golem-js to accept the debit notes");
    expect(devnet.view.agreements()[0]!.state).to.equal("Approved");

    await rental.destroyExeUnit();
    devnet.advanceClock(89);
    expect(devnet.view.agreements()[0]!.state).to.equal("Approved");
    devnet.advanceClock(2);
    const [ended] = devnet.view.agreements();
    expect(ended).to.deep.include({ state: "Terminated", terminator: "Provider" });
    expect(ended!.reason).to.deep.equal({ message: "No activity created within 90s", "golem.provider.code": "NoActivity" });
    await eventually(() => devnet.view.invoices().find((entry) => entry.status === "ACCEPTED"), 10_000, "the invoice accepted");
    await rental.stopAndFinalize(10_000);
    expect(devnet.violations()).to.deep.equal([]);
  });
});
