import { describe, expect, it } from "vitest";
import { describeWait, typicalWait } from "./model-card.ts";

describe("model cards", () => {
  it("takes the median of recent waits, so one slow request does not set the expectation", () => {
    expect(typicalWait([])).toBeUndefined();
    expect(typicalWait([3, 2, 400])).toBe(3);
    expect(typicalWait([2, 4, 6, 1000])).toBe(5);
  });

  it("says the wait as people do", () => {
    expect(describeWait(0)).toBe("usually ~1 s");
    expect(describeWait(3)).toBe("usually ~3 s");
    expect(describeWait(150)).toBe("usually ~3 min");
    expect(describeWait(7200)).toBe("usually ~2 h");
  });
});
