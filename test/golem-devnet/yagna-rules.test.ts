/**
 * The devnet's rule implementations on their own, at their edges: the constraint
 * language yagna's resolver reads, ya-provider's negotiator components, the linear
 * pricing and debit-note schedule, and exact GLM amounts.
 */
import { expect } from "chai";
import { formatAmount, multiply, parseAmount } from "@argus/golem-devnet/decimal";
import { evaluate, matches, parseConstraints } from "@argus/golem-devnet/market-constraints";
import { activityCost, humanDuration, nextIntervalAt, paymentTerms } from "@argus/golem-devnet/provider-billing";
import { LIMITS, negotiate } from "@argus/golem-devnet/provider-negotiator";
import { offerTemplate } from "@argus/golem-devnet/provider-offer";

const NOW = Date.parse("2026-01-01T00:00:00Z");
const MINUTE = 60_000;

describe("golem-devnet yagna: rule implementations", function () {
  describe("constraints (yagna's LDAP-style filters)", function () {
    const offer = {
      "golem.runtime.name": "vm",
      "golem.inf.mem.gib": 8,
      "golem.inf.cpu.threads": 4,
      "golem.runtime.capabilities": ["inet", "vpn"],
      "golem.com.payment.platform.erc20-hoodi-tglm.address": "0xabc",
      "golem.srv.caps.multi-activity": true,
    };

    it("evaluates what golem-js emits: equality, presence, numeric comparisons, lists, and/or/not", function () {
      const golemJs =
        "(&(golem.com.pricing.model=linear)\n\t(golem.runtime.name=vm)\n\t(golem.inf.mem.gib>=2)\n\t(golem.inf.cpu.threads>=2)\n\t(golem.com.payment.platform.erc20-hoodi-tglm.address=*))";
      expect(evaluate(parseConstraints(golemJs), { ...offer, "golem.com.pricing.model": "linear" })).to.equal(true);
      expect(evaluate(parseConstraints("(golem.inf.mem.gib>=16)"), offer)).to.equal(false);
      expect(evaluate(parseConstraints("(golem.runtime.capabilities=vpn)"), offer)).to.equal(true);
      expect(evaluate(parseConstraints("(|(golem.runtime.name=docker)(golem.runtime.name=v*))"), offer)).to.equal(true);
      expect(evaluate(parseConstraints("(!(golem.srv.caps.multi-activity=true))"), offer)).to.equal(false);
      expect(evaluate(parseConstraints("()"), offer)).to.equal(true);
      // a missing property is undefined, not false, and undefined never matches
      expect(evaluate(parseConstraints("(golem.inf.gpu.model=*)"), offer)).to.equal(undefined);
      expect(evaluate(parseConstraints("(!(golem.inf.gpu.model=x))"), offer)).to.equal(undefined);
    });

    it("matches both ways, and an offer only demands that expire after it was made", function () {
      const template = offerTemplate(
        { name: "p", threads: 4, memoryGib: 8, storageGib: 10, prices: { start: 0, envPerHour: 0, cpuPerHour: 0 }, speed: 1 },
        "0x01",
        "public",
        NOW,
      );
      const offerSide = { filter: parseConstraints(template.constraints), properties: template.properties };
      const demand = (expiration: number) => ({
        filter: parseConstraints("(golem.runtime.name=vm)"),
        properties: { "golem.srv.comp.expiration": expiration, "golem.node.debug.subnet": "public" },
      });
      expect(matches(demand(NOW + 1), offerSide)).to.equal(true);
      expect(matches(demand(NOW), offerSide)).to.equal(false);
    });

    it("refuses syntax it would have to guess at", function () {
      for (const text of [
        "(golem.inf.mem.gib~=4)",
        "(golem.x:dn:=1)",
        "(golem.x=a\\29)",
        "(golem.runtime.version@v>=1)",
        "(golem.x=1",
        "golem.x=1",
      ]) {
        expect(() => parseConstraints(text), text).to.throw(/constraints: /);
      }
    });
  });

  describe("ya-provider's negotiator", function () {
    const offer = offerTemplate(
      { name: "p", threads: 2, memoryGib: 4, storageGib: 10, prices: { start: 0.01, envPerHour: 0.36, cpuPerHour: 0.72 }, speed: 1 },
      "0x01",
      "public",
      NOW,
    ).properties;
    const demand = (expiration: number, extra: Record<string, unknown> = {}) => ({
      "golem.srv.comp.expiration": expiration,
      "golem.com.payment.chosen-platform": "erc20-hoodi-tglm",
      "golem.com.payment.debit-notes.accept-timeout?": 120,
      "golem.com.scheme.payu.debit-note.interval-sec?": 120,
      "golem.com.scheme.payu.payment-timeout-sec?": 43_200,
      ...extra,
    });
    const step = (properties: Record<string, unknown>, hasFreeSlot = true) => negotiate(properties, offer, { nowMs: NOW, hasFreeSlot });

    it("takes golem-js's terms in a counter-offer, then is ready on it", function () {
      const counter = step(demand(NOW + 60 * MINUTE));
      expect(counter.kind).to.equal("negotiating");
      const adopted = (counter as { offer: Record<string, unknown> }).offer;
      expect(adopted).to.include({
        "golem.com.payment.debit-notes.accept-timeout?": 120,
        "golem.com.scheme.payu.payment-timeout-sec?": 43_200,
      });
      expect(negotiate(demand(NOW + 60 * MINUTE), adopted, { nowMs: NOW, hasFreeSlot: true }).kind).to.equal("ready");
    });

    it("refuses a demand expiring before now + 5 min (for good) or after now + 100 years", function () {
      expect(step(demand(NOW + 5 * MINUTE - 1))).to.deep.include({ kind: "reject", isFinal: true });
      expect(step(demand(NOW + 5 * MINUTE)).kind).to.equal("negotiating");
      expect(step(demand(NOW + LIMITS.maxAgreementExpirationMs + 1))).to.deep.include({ kind: "reject", isFinal: false });
    });

    it("allows at most 30 min without a debit-note acceptance deadline, and 10 h without mid-agreement payments", function () {
      const noDeadline = (expiration: number) => {
        const { "golem.com.payment.debit-notes.accept-timeout?": _, ...rest } = demand(expiration);
        return rest;
      };
      expect(step(noDeadline(NOW + 30 * MINUTE)).kind).to.equal("negotiating");
      expect(step(noDeadline(NOW + 30 * MINUTE + 1))).to.deep.include({ kind: "reject", isFinal: false });
      const { "golem.com.scheme.payu.payment-timeout-sec?": _, ...noPayments } = demand(NOW + 11 * 60 * MINUTE);
      expect(step(noPayments)).to.deep.include({ kind: "reject", isFinal: true });
    });

    it("refuses a longer acceptance deadline than its own, out-of-range intervals, a missing platform, and a second agreement", function () {
      expect(step(demand(NOW + 60 * MINUTE, { "golem.com.payment.debit-notes.accept-timeout?": 241 }))).to.deep.include({
        kind: "reject",
        isFinal: true,
      });
      expect(step(demand(NOW + 60 * MINUTE, { "golem.com.scheme.payu.debit-note.interval-sec?": 0 }))).to.deep.include({
        kind: "reject",
        isFinal: true,
      });
      expect(step(demand(NOW + 60 * MINUTE, { "golem.com.payment.chosen-platform": undefined }))).to.deep.include({
        kind: "reject",
        isFinal: false,
      });
      expect(step(demand(NOW + 60 * MINUTE), false)).to.deep.equal({
        kind: "reject",
        message: "No capacity available. Reached Agreements limit: 1",
        isFinal: false,
      });
    });
  });

  describe("pricing and amounts", function () {
    it("costs an activity as ya-provider's linear model: start + cpu_sec × c1 + duration_sec × c2, to 18 places", function () {
      const terms = paymentTerms({
        "golem.com.pricing.model.linear.coeffs": [0.0001, 0.00005, 0.0],
        "golem.com.usage.vector": ["golem.usage.cpu_sec", "golem.usage.duration_sec"],
      });
      // ya-provider's own test case (agent/provider/src/payments/pricing.rs)
      expect(formatAmount(activityCost(terms, [44.017951, 103.002864998]))).to.equal("0.0095519383499");
      expect(terms.intervalSec).to.equal(120);
      expect(formatAmount(multiply(0.72 / 3600, 3600))).to.equal("0.72");
      expect(formatAmount(parseAmount("1e-7"))).to.equal("0.0000001");
      expect(formatAmount(parseAmount("0.0000000000000000005"))).to.equal("0.000000000000000001");
    });

    it("schedules debit notes on whole intervals from the approval, skipping missed ones", function () {
      expect(nextIntervalAt(NOW, 120, NOW) - NOW).to.equal(120_000);
      expect(nextIntervalAt(NOW, 120, NOW + 119_999) - NOW).to.equal(120_000);
      expect(nextIntervalAt(NOW, 120, NOW + 120_000) - NOW).to.equal(240_000);
      expect(nextIntervalAt(NOW, 120, NOW + 1_000_000) - NOW).to.equal(1_080_000);
      expect([humanDuration(120), humanDuration(90), humanDuration(3_660)]).to.deep.equal(["2m", "1m 30s", "1h 1m"]);
    });
  });
});
