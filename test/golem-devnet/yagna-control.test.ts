/**
 * The devnet as an API: yagna's version and identity endpoints and the app key, the spec
 * check (a malformed request is recorded as a violation, refused in strict mode), and
 * the /devnet/ control API — the clock, the 500 window, provider faults and a provider
 * that vanishes.
 */
import { expect } from "chai";
import { ensureProviderImage, type Harness, order, startHarness } from "./support/yagna-harness.ts";

describe("golem-devnet yagna: API, spec check and control", function () {
  this.timeout(180_000);
  let harness: Harness | undefined;

  before(async function () {
    await ensureProviderImage(this);
  });

  afterEach(async function () {
    await harness?.close();
    harness = undefined;
  });

  async function api(path: string, init: RequestInit & { key?: string | null } = {}): Promise<{ status: number; body: unknown }> {
    const { devnet } = harness!;
    const key = init.key === undefined ? devnet.appKey : init.key;
    const response = await fetch(`${devnet.url}${path}`, {
      ...init,
      headers: { ...(key === null ? {} : { authorization: `Bearer ${key}` }), "content-type": "application/json", ...init.headers },
    });
    const text = await response.text();
    return { status: response.status, body: text === "" ? undefined : JSON.parse(text) };
  }

  it("answers /version/get to anyone and everything else only with the app key", async function () {
    harness = await startHarness();
    const version = await api("/version/get", { key: null });
    expect(version.status).to.equal(200);
    expect((version.body as { current: { version: string } }).current.version).to.match(/^0\.1[5-9]\.\d+$/);
    expect(await api("/me", { key: null })).to.deep.include({ status: 401 });
    expect(await api("/me", { key: "not-the-key" })).to.deep.include({ status: 401 });
    expect(await api("/devnet/status", { key: "not-the-key" })).to.deep.include({ status: 401 });
    expect((await api("/me")).body).to.deep.include({ identity: harness.devnet.requestorId });
    expect(await api("/market-api/v1/no-such-thing")).to.deep.include({ status: 404 });
    expect(harness.devnet.violations()).to.deep.equal([]);
  });

  it("records a request that breaks the spec as a violation, and refuses it in strict mode", async function () {
    harness = await startHarness();
    const malformed = { properties: "golem.runtime.name=vm", constrains: "(golem.runtime.name=vm)" };
    const answer = await api("/market-api/v1/demands", { method: "POST", body: JSON.stringify(malformed) });
    expect(answer.status).to.equal(400);
    const [violation] = (await api("/devnet/violations")).body as { direction: string; operationId: string; errors: string[] }[];
    expect(violation).to.deep.include({ direction: "request", operationId: "subscribeDemand" });
    expect(violation!.errors).to.include.members(["body: must have required property 'constraints'", "body/properties: must be object"]);
    await api("/market-api/v1/demands/x/events?maxEvents=1000&timeout=0");
    expect(harness.devnet.violations().flatMap((entry) => entry.errors)).to.include("maxEvents: must be <= 100");
    expect(await api("/devnet/violations", { method: "DELETE" })).to.deep.include({ status: 200 });
    expect(harness.devnet.violations()).to.deep.equal([]);
    await harness.close();

    harness = await startHarness({ strict: true });
    const strict = await api("/market-api/v1/demands", { method: "POST", body: JSON.stringify(malformed) });
    expect(strict.status).to.equal(400);
    expect((strict.body as { message: string }).message).to.match(
      /^request does not conform to market-api\.yaml subscribeDemand: .*required property 'constraints'/,
    );
    expect(harness.devnet.violations()).to.have.length(1);
  });

  it("fails every yagna call for the window it is told to, and golem-js works again after it", async function () {
    harness = await startHarness();
    const { glm } = harness;
    expect(await api("/devnet/yagna/fail", { method: "POST", body: JSON.stringify({ seconds: 30 }) })).to.deep.include({ status: 200 });
    const failing = await api("/me");
    expect(failing.status).to.equal(500);
    expect((failing.body as { message: string }).message).to.match(/failing on purpose.*30 s left/);
    const bind = { method: "POST", body: JSON.stringify({ listen: { on: "/public/gftp/test-file", components: ["GetMetadata"] } }) };
    expect(await api("/gsb-api/v1/services", bind)).to.deep.include({ status: 500 }); // the GSB API is yagna's too
    await glm.payment.createAllocation({ budget: 1, expirationSec: 600 }).then(
      () => expect.fail("yagna is failing"),
      (error: Error) => expect(error.message).to.match(/Could not create new allocation/),
    );
    const advanced = await api("/devnet/clock/advance", { method: "POST", body: JSON.stringify({ seconds: 31 }) });
    expect((advanced.body as { offsetMs: number }).offsetMs).to.equal(31_000);
    const allocation = await glm.payment.createAllocation({ budget: 1, expirationSec: 600 });
    expect(allocation.totalAmount).to.equal("1");
    expect(harness.devnet.violations()).to.deep.equal([]);
  });

  it("sets provider faults, and a vanished provider's activity stops answering", async function () {
    harness = await startHarness({ unreachableAfterMs: 1_000 });
    const { glm, devnet, hash } = harness;
    const faults = await api(`/devnet/providers/test-provider-2/faults`, {
      method: "PUT",
      body: JSON.stringify({ slowFactor: 3, invalidResults: true }),
    });
    expect(faults.body).to.deep.include({ name: "test-provider-2", faults: { slowFactor: 3, invalidResults: true } });
    expect(
      await api(`/devnet/providers/test-provider-2/faults`, { method: "PUT", body: JSON.stringify({ explode: true }) }),
    ).to.deep.include({ status: 400 });
    await api(`/devnet/providers/test-provider-2/faults`, { method: "PUT", body: "{}" });
    expect(devnet.view.providers().map((provider) => provider.faults)).to.deep.equal([{}, {}]);

    const rental = await glm.oneOf({ order: order(hash, 0.5) });
    const exe = await rental.getExeUnit();
    expect((await exe.run("echo before")).stdout).to.equal("before\n");
    const vanished = await api(`/devnet/providers/${rental.agreement.provider.id}/vanish`, { method: "POST", body: "{}" });
    expect(vanished.body).to.deep.include({ vanished: true });
    await exe.run("echo after").then(
      () => expect.fail("a vanished provider cannot run anything"),
      (error: Error) => expect(error.message).to.match(/Timeout: provider .* did not answer/),
    );
    devnet.advanceClock(600); // no debit notes, no termination from a provider that is gone
    expect(devnet.view.debitNotes()).to.deep.equal([]);
    expect(devnet.view.agreements()[0]!.state).to.equal("Approved");
    expect(devnet.violations()).to.deep.equal([]);
  });
});
