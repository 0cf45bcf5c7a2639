import { describe, expect, it } from "vitest";
import { formatAmount, formatDuration } from "@argus/escrow/format";
import { formatPercent, requestIdHex, shortHex } from "./format.ts";

const ETH = { symbol: "ETH", decimals: 18 };
const USDC = { symbol: "USDC", decimals: 6 };

describe("formatAmount", () => {
  it("shows fees exactly, without trailing zeros", () => {
    expect(formatAmount(10n ** 15n, ETH)).toBe("0.001 ETH");
    expect(formatAmount(10n ** 18n, ETH)).toBe("1 ETH");
    expect(formatAmount(1_500_000n, USDC)).toBe("1.5 USDC");
    expect(formatAmount(0n, ETH)).toBe("0 ETH");
  });

  it("groups thousands and marks truncated digits", () => {
    expect(formatAmount(1234567n * 10n ** 18n, ETH)).toBe("1,234,567 ETH");
    expect(formatAmount(1_234_567_891n * 10n ** 9n, ETH)).toBe("≈ 1.234567 ETH");
  });

  it("never shows a positive fee as zero", () => {
    expect(formatAmount(1n, ETH)).toBe("< 0.000001 ETH");
  });

  it("handles large bigints without float rounding", () => {
    expect(formatAmount(123456789123456789123456789n, ETH)).toBe("≈ 123,456,789.123456 ETH");
  });
});

describe("ids and units", () => {
  it("shortens 256-bit request ids as hex", () => {
    expect(requestIdHex(255n)).toBe("0xff");
    expect(shortHex(2n ** 255n)).toBe("0x800000…0000");
    expect(shortHex("0xabc")).toBe("0xabc");
  });

  it("formats durations and percentages", () => {
    expect(formatDuration(3600)).toBe("1 h");
    expect(formatDuration(5400)).toBe("1 h 30 min");
    expect(formatDuration(42)).toBe("42 s");
    expect(formatDuration(3 * 86400)).toBe("3 d");
    expect(formatPercent(0.61234)).toBe("61.2 %");
    expect(formatPercent(1.2)).toBe("100.0 %");
  });
});
