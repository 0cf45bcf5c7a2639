import { describe, expect, it } from "vitest";
import { ORACLE_STATES, type OracleState } from "@argus/protocol/oracle-status";
import { deriveStatus, describeRejectReason, lifecycleSteps, type OracleProgress } from "./status.ts";

const deadline = 1_000_000n;

describe("deriveStatus", () => {
  it("is requested while unsettled and before the deadline, with the time left", () => {
    const status = deriveStatus({ deadline, chainTime: deadline - 600n });
    expect(status).toMatchObject({ phase: "requested", reclaimable: false, final: false, secondsLeft: 600 });
  });

  it("stays requested at the deadline itself: the contract refunds only strictly after it", () => {
    expect(deriveStatus({ deadline, chainTime: deadline }).phase).toBe("requested");
    expect(deriveStatus({ deadline, chainTime: deadline + 1n })).toMatchObject({ phase: "overdue", reclaimable: true });
  });

  it("uses the chain's clock, not the browser's: without it a pending request is just requested", () => {
    expect(deriveStatus({ deadline: 1n })).toMatchObject({ phase: "requested", reclaimable: false });
  });

  describe("with the oracle's report", () => {
    const report = (state: OracleState, extra: Partial<OracleProgress> = {}): OracleProgress => ({
      state,
      rejectReason: null,
      error: null,
      ...extra,
    });
    const at = (oracle: OracleProgress) => deriveStatus({ deadline, chainTime: deadline - 600n, oracle });

    it("maps each queue state of a pending request to what the user sees", () => {
      const phases = Object.fromEntries(ORACLE_STATES.map((state) => [state, at(report(state)).phase]));
      expect(phases).toEqual({
        received: "picked-up",
        ready: "picked-up",
        running: "computing",
        computed: "posting",
        pinned: "posting",
        posting: "posting",
        fulfilled: "posting", // posted, but not yet in the events this page has read
        rejecting: "rejecting",
        rejected: "rejecting",
        expired: "abandoned",
      });
      for (const state of ORACLE_STATES) expect(at(report(state))).toMatchObject({ final: false, reclaimable: false, secondsLeft: 600 });
    });

    it("says what the oracle is doing, a refusal's reason, and a retry", () => {
      expect(at(report("received")).label).toBe("Picked up");
      expect(at(report("received")).detail).toMatch(/fetching the image/);
      expect(at(report("ready", { error: "chunk failed" })).detail).toMatch(/last attempt failed; it is trying again/);
      expect(at(report("running"))).toMatchObject({ label: "Computing", detail: expect.stringMatching(/running the model/) });
      expect(at(report("rejecting", { rejectReason: 4 })).detail).toMatch(/refusing .*the image format is not supported.*refunded/);
      expect(at(report("rejected")).detail).toMatch(/input is unusable/);
      expect(at(report("expired")).detail).toMatch(/will not answer.*reclaim/);
    });

    it("never overrides the chain: settlement events and a passed deadline win", () => {
      const fulfilled = { kind: "fulfilled" as const, resultDigest: "0x00" as const, topClass: 1, topScore: 1 };
      expect(deriveStatus({ deadline, settlement: fulfilled, oracle: report("running") }).phase).toBe("fulfilled");
      expect(deriveStatus({ deadline, settlement: { kind: "rejected", reason: 1 }, oracle: report("posting") }).phase).toBe("rejected");
      expect(deriveStatus({ deadline, chainTime: deadline + 1n, oracle: report("ready") })).toMatchObject({
        phase: "overdue",
        reclaimable: true,
      });
    });
  });

  it("lets settlement events win over the clock", () => {
    const late = deadline + 10n;
    const fulfilled = deriveStatus({
      deadline,
      chainTime: late,
      settlement: { kind: "fulfilled" },
    });
    expect(fulfilled).toMatchObject({ phase: "fulfilled", final: true, reclaimable: false });
    expect(deriveStatus({ deadline, chainTime: late, settlement: { kind: "expired" } })).toMatchObject({ phase: "expired", final: true });
  });

  it("explains a rejection with its reason and a way forward", () => {
    const status = deriveStatus({ deadline, settlement: { kind: "rejected", reason: 2 } });
    expect(status.phase).toBe("rejected");
    expect(status.detail).toMatch(/larger than 2 MiB/);
    expect(status.detail).toMatch(/fee went back to your Argus balance.*Refunds/);
    expect(describeRejectReason(99).title).toMatch(/reason code 99/);
  });
});

describe("lifecycleSteps", () => {
  const states = (input: Parameters<typeof deriveStatus>[0]) => lifecycleSteps(deriveStatus(input)).map((step) => step.state);
  it("walks pinned → requested → picked up → fulfilled", () => {
    expect(states({ deadline, chainTime: 0n })).toEqual(["done", "done", "current", "upcoming"]);
    const oracle = (state: OracleState) => ({ state, rejectReason: null, error: null });
    expect(states({ deadline, chainTime: 0n, oracle: oracle("ready") })).toEqual(["done", "done", "done", "current"]);
    expect(lifecycleSteps(deriveStatus({ deadline, chainTime: 0n, oracle: oracle("posting") })).at(-1)).toEqual({
      id: "answered",
      label: "Posting the answer",
      state: "current",
    });
    expect(states({ deadline, chainTime: 0n, oracle: oracle("expired") })).toEqual(["done", "done", "done", "failed"]);
    expect(states({ deadline, settlement: { kind: "fulfilled" } })).toEqual(["done", "done", "done", "done"]);
  });
  it("ends in failure for rejected and expired requests", () => {
    expect(states({ deadline, settlement: { kind: "rejected", reason: 1 } }).at(-1)).toBe("failed");
    expect(states({ deadline, chainTime: deadline + 1n })).toEqual(["done", "done", "skipped", "failed"]);
  });
});
