import { describe, expect, it } from "vitest";
import { fundsCheck } from "./funds.ts";

describe("whether the wallet can pay", () => {
  it("counts the network cost against a native fee", () => {
    expect(fundsCheck({ fee: 100n, native: true, balance: 120n, gasCost: 30n })).toEqual({ needed: 130n, short: true });
    expect(fundsCheck({ fee: 100n, native: true, balance: 130n, gasCost: 30n })).toEqual({ needed: 130n, short: false });
  });

  it("compares a token fee with the token balance alone (gas is paid in the native currency)", () => {
    expect(fundsCheck({ fee: 100n, native: false, balance: 100n, gasCost: 30n })).toEqual({ needed: 100n, short: false });
    expect(fundsCheck({ fee: 100n, native: false, balance: 99n })).toEqual({ needed: 100n, short: true });
  });

  it("judges by the fee alone until the gas is estimated", () => {
    expect(fundsCheck({ fee: 100n, native: true, balance: 100n }).short).toBe(false);
  });
});
