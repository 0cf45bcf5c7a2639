/** Ids, times and percentages as people read them (amounts and durations: @argus/escrow/format). */

/** `0x1234…abcd`-style shortening for ids, hashes and addresses; bigint ids are shown as hex. */
export function shortHex(value: bigint | string, head = 6, tail = 4): string {
  const hex = typeof value === "bigint" ? requestIdHex(value) : value;
  if (hex.length <= head + tail + 2) return hex;
  return `${hex.slice(0, head + 2)}…${hex.slice(-tail)}`;
}

/** A request id (uint256) as 0x-prefixed hex without leading zeros (ids start with the block number). */
export function requestIdHex(requestId: bigint): `0x${string}` {
  return `0x${requestId.toString(16)}`;
}

/** A unix time (seconds) as a local date and time. */
export function formatTime(unixSeconds: number | bigint): string {
  return new Date(Number(unixSeconds) * 1000).toLocaleString(undefined, {
    dateStyle: "medium",
    timeStyle: "short",
  });
}

/** A probability in [0, 1] as a percentage with one decimal ("87.3 %"). */
export function formatPercent(probability: number): string {
  const clamped = Math.min(1, Math.max(0, probability));
  return `${(clamped * 100).toFixed(1)} %`;
}
