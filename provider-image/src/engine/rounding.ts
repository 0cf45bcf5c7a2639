/**
 * Number helpers for results. Scores, pixels and milliseconds are written with fixed
 * precision: float noise below these digits is not information, and rounding it away
 * keeps results short and makes two runs on the same CPU agree byte for byte.
 */
export { roundScore } from "@argus/protocol/top-classes";

/** Pixels and milliseconds: two decimals. */
export function roundHundredths(value: number): number {
  return Math.round(value * 100) / 100;
}

export function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}
