/**
 * What a provider charges, as ya-provider computes it (agent/provider/src/payments/):
 *
 * - the linear model (pricing.rs LinearPricing): an activity costs the constant (the last
 *   coefficient, the start price) plus each usage counter times its coefficient, rounded
 *   to 18 places; an agreement's invoice is the sum of its activities' costs (agreement.rs
 *   cost_summary);
 * - the agreement's payment terms from its offer properties (model.rs PaymentDescription):
 *   debit-note interval (default 120 s), acceptance timeout and payment timeout (absent
 *   when not negotiated);
 * - debit notes fall on multiples of the interval counted from the agreement's approval
 *   (interval.rs RelativeInterval: a late tick goes to the next multiple, none are caught up).
 */
import type { Amount } from "../decimal.ts";
import { multiply, parseAmount } from "../decimal.ts";
import type { Properties } from "../market/properties.ts";
import { USAGE_VECTOR } from "./offer.ts";

export const DEFAULT_DEBIT_NOTE_INTERVAL_SEC = 120;

export interface PaymentTerms {
  coefficients: number[];
  usageVector: string[];
  intervalSec: number;
  acceptTimeoutSec?: number;
  paymentTimeoutSec?: number;
}

export function paymentTerms(offer: Properties): PaymentTerms {
  const coefficients = offer["golem.com.pricing.model.linear.coeffs"];
  const usageVector = offer["golem.com.usage.vector"];
  if (!Array.isArray(coefficients) || !coefficients.every((value) => typeof value === "number")) {
    throw new Error("the agreement's offer has no linear price coefficients");
  }
  const usage = Array.isArray(usageVector) ? usageVector.map(String) : [...USAGE_VECTOR];
  if (coefficients.length !== usage.length + 1) throw new Error("price coefficients and usage vector lengths disagree");
  const seconds = (key: string) => {
    const value = offer[key];
    return typeof value === "number" && Number.isInteger(value) && value >= 0 ? value : undefined;
  };
  return {
    coefficients,
    usageVector: usage,
    intervalSec: seconds("golem.com.scheme.payu.debit-note.interval-sec?") ?? DEFAULT_DEBIT_NOTE_INTERVAL_SEC,
    acceptTimeoutSec: seconds("golem.com.payment.debit-notes.accept-timeout?"),
    paymentTimeoutSec: seconds("golem.com.scheme.payu.payment-timeout-sec?"),
  };
}

/** The cost of one activity's usage (counters in the usage vector's order). */
export function activityCost(terms: PaymentTerms, usage: readonly number[]): Amount {
  if (usage.length !== terms.usageVector.length)
    throw new Error(`usage has ${usage.length} counters, the usage vector ${terms.usageVector.length}`);
  const constant = parseAmount(terms.coefficients[terms.coefficients.length - 1]!);
  return usage.reduce((sum, value, index) => sum + multiply(terms.coefficients[index]!, value), constant);
}

/** The next debit-note time after `nowMs`: approval plus a whole number of intervals. */
export function nextIntervalAt(approvedAtMs: number, intervalSec: number, nowMs: number): number {
  const intervalMs = intervalSec * 1000;
  const elapsed = Math.max(0, nowMs - approvedAtMs);
  return approvedAtMs + (Math.floor(elapsed / intervalMs) + 1) * intervalMs;
}

/** A duration as ya-provider's messages print it (humantime: "2m", "90s", "1h 30m"). */
export function humanDuration(seconds: number): string {
  const parts: string[] = [];
  let rest = Math.round(seconds);
  for (const [unit, size] of [
    ["d", 86_400],
    ["h", 3_600],
    ["m", 60],
    ["s", 1],
  ] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join(" ") || "0s";
}
