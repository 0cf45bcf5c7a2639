/**
 * The Golem executor's spending bounds on golem-js's own OfferProposal objects, built
 * from offer properties as ya-provider writes them: which offers are refused and why,
 * which draft is rented, and the most an agreement can bill. The devnet suite
 * (test/golem-devnet/executor-spending.test.ts) runs them against providers.
 */
import { expect } from "chai";
import { type Demand, OfferProposal } from "@golem-sdk/golem-js";
import { loadGolemConfig } from "@argus/oracle/executors/golem/config";
import { agreementWorstCaseGlm, cheapestOffer, offerRefusal } from "@argus/oracle/executors/golem/spending";

const PROVIDER = "0x00000000000000000000000000000000000000a1";

function offerProperties(threads: number, prices: { start: number; envPerHour: number; cpuPerHour: number }): Record<string, unknown> {
  return {
    "golem.com.pricing.model": "linear",
    "golem.com.usage.vector": ["golem.usage.cpu_sec", "golem.usage.duration_sec"],
    "golem.com.pricing.model.linear.coeffs": [prices.cpuPerHour / 3600, prices.envPerHour / 3600, prices.start],
    "golem.inf.cpu.threads": threads,
    "golem.node.id.name": `provider-${threads}`,
  };
}

function offer(threads: number, prices = { start: 0.01, envPerHour: 0.05, cpuPerHour: 0.1 }, issuerId = PROVIDER): OfferProposal {
  const model = {
    proposalId: `p-${threads}-${prices.cpuPerHour}`,
    issuerId,
    properties: offerProperties(threads, prices),
    constraints: "",
    state: "Initial",
    timestamp: new Date().toISOString(),
  };
  return new OfferProposal(model as never, { paymentPlatform: "erc20-hoodi-tglm" } as Demand);
}

describe("Golem executor: spending bounds", function () {
  const defaults = loadGolemConfig({}, {});

  it("takes an offer within the limits and refuses one with more threads than maxCpuThreads, whatever its price per thread", function () {
    expect(offerRefusal(offer(8), defaults)).to.equal(undefined);
    expect(offerRefusal(offer(32, { start: 0, envPerHour: 0, cpuPerHour: 0.01 }), defaults)).to.equal(
      "32 CPU threads, more than maxCpuThreads 8",
    );
  });

  it("refuses prices above each limit", function () {
    expect(offerRefusal(offer(2, { start: 0.06, envPerHour: 0, cpuPerHour: 0 }), defaults)).to.match(
      /^start price 0\.06 GLM is above 0\.05/,
    );
    expect(offerRefusal(offer(2, { start: 0, envPerHour: 0.06, cpuPerHour: 0 }), defaults)).to.match(/^environment price .* above 0\.05/);
    expect(offerRefusal(offer(2, { start: 0, envPerHour: 0, cpuPerHour: 0.2 }), defaults)).to.match(/^CPU price .* above 0\.1/);
    expect(offerRefusal(offer(12), loadGolemConfig({ maxCpuThreads: 16 }, {}))).to.equal(undefined);
  });

  it("with an allow-list, takes only the providers on it", function () {
    const listed = loadGolemConfig({ allowedProviders: [PROVIDER.toUpperCase().replace("0X", "0x")] }, {});
    expect(offerRefusal(offer(2), listed)).to.equal(undefined);
    expect(offerRefusal(offer(2, undefined, "0x00000000000000000000000000000000000000b2"), listed)).to.equal(
      "the provider is not on the allow-list",
    );
  });

  it("rents the draft with the lowest expected cost, the earliest among equals", function () {
    const select = cheapestOffer(1);
    const [a, b, c] = [offer(4), offer(2), offer(2, { start: 0.01, envPerHour: 0.05, cpuPerHour: 0.1 })];
    expect(select([a!, b!, c!])).to.equal(b);
    expect(select([a!])).to.equal(a);
    // A provider whose attempts succeed half the time costs twice its price per useful chunk.
    const [cheapFlaky, dearReliable] = [offer(2, undefined, "0x00000000000000000000000000000000000000f1"), offer(3)];
    const share = (id: string) => (id === "0x00000000000000000000000000000000000000f1" ? 0.5 : 1);
    expect(cheapestOffer(1)([cheapFlaky!, dearReliable!])).to.equal(cheapFlaky);
    expect(cheapestOffer(1, share)([cheapFlaky!, dearReliable!])).to.equal(dearReliable);
  });

  it("bounds an agreement's bill by its signed offer: start + hours × (environment + CPU × threads)", function () {
    const properties = offerProperties(4, { start: 0.01, envPerHour: 0.036, cpuPerHour: 0.072 });
    expect(Math.abs(agreementWorstCaseGlm(properties, 1)! - (0.01 + 0.036 + 0.072 * 4))).to.be.below(1e-12);
    expect(Math.abs(agreementWorstCaseGlm(properties, 0.5)! - (0.01 + 0.5 * (0.036 + 0.072 * 4)))).to.be.below(1e-12);
    // The usage vector's order decides which coefficient is which.
    const reordered = { ...properties, "golem.com.usage.vector": ["golem.usage.duration_sec", "golem.usage.cpu_sec"] };
    expect(Math.abs(agreementWorstCaseGlm(reordered, 1)! - (0.01 + 0.072 + 0.036 * 4))).to.be.below(1e-12);
    expect(agreementWorstCaseGlm({}, 1)).to.equal(undefined);
  });
});
