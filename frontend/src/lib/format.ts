/** Amounts, ids, durations and times as people read them. */
import { formatUnits } from "viem";

export interface Currency {
  symbol: string;
  decimals: number;
}

/**
 * An amount in its currency's units, exact (no float rounding), with at most
 * `maxFractionDigits` decimals; amounts too small to show become "< 0.000001 ETH".
 */
export function formatAmount(amount: bigint, currency: Currency, maxFractionDigits = 6): string {
  if (amount < 0n) return `-${formatAmount(-amount, currency, maxFractionDigits)}`;
  const exact = formatUnits(amount, currency.decimals);
  const [whole = "0", fraction = ""] = exact.split(".");
  const shown = fraction.slice(0, maxFractionDigits).replace(/0+$/, "");
  if (amount > 0n && whole === "0" && shown === "") {
    return `< 0.${"0".repeat(Math.max(0, maxFractionDigits - 1))}1 ${currency.symbol}`;
  }
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const truncated = shown.length < fraction.replace(/0+$/, "").length;
  return `${truncated ? "≈ " : ""}${grouped}${shown ? `.${shown}` : ""} ${currency.symbol}`;
}

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

/** Seconds as "45 s", "5 min", "1 h", "1 h 30 min", "2 d". */
export function formatDuration(totalSeconds: number | bigint): string {
  const seconds = Math.max(0, Math.round(Number(totalSeconds)));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) {
    const rest = minutes % 60;
    return rest === 0 ? `${hours} h` : `${hours} h ${rest} min`;
  }
  return `${Math.floor(hours / 24)} d`;
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
