import { describe, expect, it } from "vitest";
import { deriveStatus, describeRejectReason, lifecycleSteps } from "./status.ts";

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

  it("shows picked up when the oracle signals it", () => {
    expect(deriveStatus({ deadline, chainTime: 0n, pickedUp: true }).phase).toBe("picked-up");
  });

  it("lets settlement events win over the clock", () => {
    const late = deadline + 10n;
    const fulfilled = deriveStatus({
      deadline,
      chainTime: late,
      settlement: { kind: "fulfilled", resultDigest: "0x00", topClass: 281, topScore: 9000 },
    });
    expect(fulfilled).toMatchObject({ phase: "fulfilled", final: true, reclaimable: false });
    expect(deriveStatus({ deadline, chainTime: late, settlement: { kind: "expired" } })).toMatchObject({ phase: "expired", final: true });
  });

  it("explains a rejection with its reason and a way forward", () => {
    const status = deriveStatus({ deadline, settlement: { kind: "rejected", reason: 2 } });
    expect(status.phase).toBe("rejected");
    expect(status.detail).toMatch(/larger than 2 MiB/);
    expect(status.detail).toMatch(/refunded/);
    expect(describeRejectReason(99).title).toMatch(/reason code 99/);
  });
});

describe("lifecycleSteps", () => {
  const states = (input: Parameters<typeof deriveStatus>[0]) => lifecycleSteps(deriveStatus(input)).map((step) => step.state);
  it("walks pinned → requested → picked up → fulfilled", () => {
    expect(states({ deadline, chainTime: 0n })).toEqual(["done", "done", "current", "upcoming"]);
    expect(states({ deadline, chainTime: 0n, pickedUp: true })).toEqual(["done", "done", "done", "current"]);
    expect(states({ deadline, settlement: { kind: "fulfilled", resultDigest: "0x00", topClass: 0, topScore: 0 } })).toEqual([
      "done",
      "done",
      "done",
      "done",
    ]);
  });
  it("ends in failure for rejected and expired requests", () => {
    expect(states({ deadline, settlement: { kind: "rejected", reason: 1 } }).at(-1)).toBe("failed");
    expect(states({ deadline, chainTime: deadline + 1n })).toEqual(["done", "done", "skipped", "failed"]);
  });
});
