/**
 * Fees and time spans as people read them, the same in the web UI and the `argus` CLI.
 * Browser-safe (viem only).
 */
import { formatUnits } from "viem";

/** What an amount needs to be shown: its currency's symbol and decimals. */
export interface Currency {
  symbol: string;
  decimals: number;
}

/**
 * An amount in its currency's units, exact (no float rounding), with at most
 * `maxFractionDigits` decimals ("≈" marks dropped digits); amounts too small to show
 * become "< 0.000001 ETH".
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
