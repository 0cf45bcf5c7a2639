/**
 * GLM amounts as yagna handles them: decimal strings, computed exactly. ya-provider
 * rounds costs to 18 decimal places (PAYMENT_PRECISION in agent/provider/src/payments/
 * agreement.rs), so an amount here is a bigint of 10^-18 GLM units.
 */

const SCALE = 18;
const ONE = 10n ** BigInt(SCALE);

export type Amount = bigint;

export class AmountError extends Error {
  override name = "AmountError";
}

/** Parses "12", "0.5", "1e-7" (a number's shortest text) into 10^-18 units, rounding half up beyond 18 places. */
export function parseAmount(text: string | number): Amount {
  const source = typeof text === "number" ? numberText(text) : text.trim();
  const match = /^(-)?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(source);
  if (!match || (match[2] === "" && (match[3] ?? "") === "")) throw new AmountError(`"${source}" is not a decimal amount`);
  const [, sign, whole = "", fraction = "", exponentText] = match;
  const exponent = Number(exponentText ?? 0);
  const digits = `${whole}${fraction}`.replace(/^0+(?=\d)/, "") || "0";
  const pointShift = fraction.length - exponent - SCALE; // value = digits × 10^-(pointShift + SCALE)
  let units: bigint;
  if (pointShift <= 0) units = BigInt(digits) * 10n ** BigInt(-pointShift);
  else {
    const divisor = 10n ** BigInt(pointShift);
    units = (BigInt(digits) + divisor / 2n) / divisor;
  }
  return sign ? -units : units;
}

function numberText(value: number): string {
  if (!Number.isFinite(value)) throw new AmountError(`${value} is not an amount`);
  return String(value);
}

/** The amount as yagna prints a BigDecimal: no exponent, no trailing zeros ("0", "1.5"). */
export function formatAmount(amount: Amount): string {
  const negative = amount < 0n;
  const units = negative ? -amount : amount;
  const whole = units / ONE;
  const fraction = (units % ONE).toString().padStart(SCALE, "0").replace(/0+$/, "");
  return `${negative ? "-" : ""}${whole}${fraction ? `.${fraction}` : ""}`;
}

/** coefficient × quantity, each given as a number, rounded to 18 places. */
export function multiply(coefficient: number, quantity: number): Amount {
  const a = parseAmount(coefficient);
  const b = parseAmount(quantity);
  const product = a * b;
  return (product + (product >= 0n ? ONE / 2n : -ONE / 2n)) / ONE;
}

/** amount × factor (a number), rounded to 18 places. */
export function scaleAmount(amount: Amount, factor: number): Amount {
  const product = amount * parseAmount(factor);
  return (product + (product >= 0n ? ONE / 2n : -ONE / 2n)) / ONE;
}

/** The amount as a JavaScript number (for reports; never for accounting). */
export const amountToNumber = (amount: Amount): number => Number(formatAmount(amount));
