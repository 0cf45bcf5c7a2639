/**
 * ya-provider's composite negotiator (agent/provider/src/market/negotiator/composite.rs)
 * with its default configuration (negotiator/factory.rs), one function per component in
 * negotiator/builtin/:
 *
 * - demand_validation.rs: the demand must name `golem.com.payment.chosen-platform` (non-final);
 * - max_agreements.rs: one agreement at a time (`max_simultaneous_agreements` = 1, non-final);
 * - expiration.rs: `golem.srv.comp.expiration` between now + 5 min and now + 100 years, or
 *   now + 30 min when the requestor does not promise to accept debit notes; a shorter
 *   `golem.com.payment.debit-notes.accept-timeout?` than ours (4 min) is adopted, a longer one refused;
 * - note_interval.rs: `golem.com.scheme.payu.debit-note.interval-sec?` in [1 s, 24 h] is adopted;
 * - payment_timeout.rs: `golem.com.scheme.payu.payment-timeout-sec?` in [1 s, 24 h] is
 *   adopted; without it, agreements longer than 10 h are refused;
 * - price.rs: a demand price vector at least ours is adopted, a lower one refused.
 *
 * A component that changes the offer makes the result "negotiating" (the provider answers
 * with that counter-offer); the agreement is approved only when every component is ready.
 * A property of the wrong type is an error: ya-provider then answers nothing.
 */

export type NegotiationResult =
  | { kind: "ready"; offer: Record<string, unknown> }
  | { kind: "negotiating"; offer: Record<string, unknown> }
  | { kind: "reject"; message: string; isFinal: boolean };

export class NegotiationError extends Error {
  override name = "NegotiationError";
}

export interface NegotiationContext {
  nowMs: number;
  /** Whether the provider has room for one more agreement. */
  hasFreeSlot: boolean;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
export const LIMITS = {
  minAgreementExpirationMs: 5 * MINUTE,
  maxAgreementExpirationMs: 100 * 365 * 24 * HOUR,
  maxAgreementExpirationWithoutDeadlineMs: 30 * MINUTE,
  debitNoteAcceptanceDeadlineSec: 240,
  minDeadlineSec: 5,
  debitNoteIntervalSec: { min: 1, max: 24 * 3600 },
  paymentTimeoutSec: { min: 1, max: 24 * 3600 },
  paymentTimeoutRequiredFromMs: 10 * HOUR,
} as const;

const EXPIRATION = "golem.srv.comp.expiration";
const ACCEPT_TIMEOUT = "golem.com.payment.debit-notes.accept-timeout?";
const NOTE_INTERVAL = "golem.com.scheme.payu.debit-note.interval-sec?";
const PAYMENT_TIMEOUT = "golem.com.scheme.payu.payment-timeout-sec?";
const PRICE = "golem.com.pricing.model.linear.coeffs";
const CHOSEN_PLATFORM = "golem.com.payment.chosen-platform";

type Step = (demand: Readonly<Record<string, unknown>>, offer: Record<string, unknown>, context: NegotiationContext) => NegotiationResult;

export const COMPONENTS: readonly [string, Step][] = [
  ["Validation", validation],
  ["LimitAgreements", limitAgreements],
  ["LimitExpiration", limitExpiration],
  ["DebitNoteInterval", debitNoteInterval],
  ["PaymentTimeout", paymentTimeout],
  ["Price", price],
];

/** One negotiation step: the demand against our previous offer (properties are flat). */
export function negotiate(
  demand: Readonly<Record<string, unknown>>,
  previousOffer: Readonly<Record<string, unknown>>,
  context: NegotiationContext,
): NegotiationResult {
  let offer = { ...previousOffer };
  let allReady = true;
  for (const [, step] of COMPONENTS) {
    const result = step(demand, offer, context);
    if (result.kind === "reject") return result;
    if (result.kind === "negotiating") allReady = false;
    offer = result.offer;
  }
  return { kind: allReady ? "ready" : "negotiating", offer };
}

function validation(demand: Readonly<Record<string, unknown>>, offer: Record<string, unknown>): NegotiationResult {
  if (demand[CHOSEN_PLATFORM] === undefined)
    return { kind: "reject", message: "Missing fields: /golem/com/payment/chosen-platform", isFinal: false };
  return { kind: "ready", offer };
}

function limitAgreements(_demand: unknown, offer: Record<string, unknown>, context: NegotiationContext): NegotiationResult {
  if (context.hasFreeSlot) return { kind: "ready", offer };
  return { kind: "reject", message: "No capacity available. Reached Agreements limit: 1", isFinal: false };
}

function limitExpiration(
  demand: Readonly<Record<string, unknown>>,
  offer: Record<string, unknown>,
  context: NegotiationContext,
): NegotiationResult {
  const expiration = demand[EXPIRATION];
  if (expiration === undefined) throw new NegotiationError("Missing expiration key in Proposal");
  const expiresAt = integer(expiration, EXPIRATION);
  const requestorDeadline = optionalInteger(demand[ACCEPT_TIMEOUT], ACCEPT_TIMEOUT);
  const ourDeadline = optionalInteger(offer[ACCEPT_TIMEOUT], ACCEPT_TIMEOUT);
  const maxDelta = requestorDeadline === undefined ? LIMITS.maxAgreementExpirationWithoutDeadlineMs : LIMITS.maxAgreementExpirationMs;
  const tooLate = expiresAt < context.nowMs + LIMITS.minAgreementExpirationMs;
  const tooSoon = expiresAt > context.nowMs + maxDelta;
  if (tooLate || tooSoon) {
    return {
      kind: "reject",
      message: `Proposal expires at: ${new Date(expiresAt).toISOString()} which is less than 5min or more than ${describe(maxDelta)} from now`,
      isFinal: tooLate,
    };
  }
  if (requestorDeadline !== undefined && ourDeadline !== undefined) {
    if (requestorDeadline > ourDeadline) {
      return {
        kind: "reject",
        message: `DebitNote acceptance deadline should be less than ${LIMITS.debitNoteAcceptanceDeadlineSec}s.`,
        isFinal: true,
      };
    }
    if (requestorDeadline === ourDeadline) return { kind: "ready", offer };
    if (requestorDeadline < LIMITS.minDeadlineSec)
      return { kind: "reject", message: `To low DebitNotes timeout: ${requestorDeadline}s`, isFinal: true };
    return { kind: "negotiating", offer: { ...offer, [ACCEPT_TIMEOUT]: requestorDeadline } };
  }
  if (requestorDeadline === undefined && ourDeadline !== undefined) {
    const { [ACCEPT_TIMEOUT]: _, ...rest } = offer;
    return { kind: "negotiating", offer: rest };
  }
  if (requestorDeadline === undefined && ourDeadline === undefined) return { kind: "ready", offer };
  throw new NegotiationError("Shouldn't be in this state.");
}

function debitNoteInterval(demand: Readonly<Record<string, unknown>>, offer: Record<string, unknown>): NegotiationResult {
  return adoptInRange(demand, offer, NOTE_INTERVAL, LIMITS.debitNoteIntervalSec, "DebitNote interval", () => ({ kind: "ready", offer }));
}

function paymentTimeout(
  demand: Readonly<Record<string, unknown>>,
  offer: Record<string, unknown>,
  context: NegotiationContext,
): NegotiationResult {
  const expiresAt = integer(demand[EXPIRATION], EXPIRATION);
  if (expiresAt <= context.nowMs) return { kind: "reject", message: "Computation expiration time was set in the past", isFinal: true };
  const allowCompat = expiresAt - context.nowMs < LIMITS.paymentTimeoutRequiredFromMs;
  return adoptInRange(demand, offer, PAYMENT_TIMEOUT, LIMITS.paymentTimeoutSec, "DebitNote payment timeout", () => {
    if (!allowCompat) {
      return {
        kind: "reject",
        message: `Expiration time ${new Date(expiresAt).toISOString()} exceeds the 10h threshold of enforcing mid-agreement payments but the required property '${PAYMENT_TIMEOUT}' was not present in the Demand`,
        isFinal: true,
      };
    }
    return { kind: "ready", offer };
  });
}

/** The demand's value of `key` must be in `range`; ours follows it. Without one, `absent()` decides (and ours is dropped). */
function adoptInRange(
  demand: Readonly<Record<string, unknown>>,
  offer: Record<string, unknown>,
  key: string,
  range: { min: number; max: number },
  what: string,
  absent: () => NegotiationResult,
): NegotiationResult {
  const wanted = optionalInteger(demand[key], key);
  const ours = optionalInteger(offer[key], key);
  if (wanted === undefined) {
    const result = absent();
    if (result.kind === "reject" || ours === undefined) return result;
    const { [key]: _, ...rest } = offer;
    return { kind: "negotiating", offer: rest };
  }
  if (ours === undefined) throw new NegotiationError(`${what} not found in the Offer`);
  if (wanted < range.min || wanted > range.max) {
    return {
      kind: "reject",
      message: `Demand ${what} ${wanted}s not in acceptable range of [${range.min}s; ${range.max}s]`,
      isFinal: true,
    };
  }
  if (wanted !== ours) return { kind: "negotiating", offer: { ...offer, [key]: wanted } };
  return { kind: "ready", offer };
}

function price(demand: Readonly<Record<string, unknown>>, offer: Record<string, unknown>): NegotiationResult {
  const demanded = demand[PRICE];
  const offered = offer[PRICE];
  if (!isNumbers(demanded) || !isNumbers(offered)) return { kind: "ready", offer };
  if (demanded.every((value, index) => value === offered[index]) && demanded.length === offered.length) return { kind: "ready", offer };
  if (demanded.length !== offered.length) return { kind: "reject", message: "invalid price vector", isFinal: false };
  if (demanded.every((value, index) => value >= offered[index]!))
    return { kind: "negotiating", offer: { ...offer, [PRICE]: [...demanded] } };
  return { kind: "reject", message: `${JSON.stringify(demanded)} < ${JSON.stringify(offered)}`, isFinal: true };
}

const isNumbers = (value: unknown): value is number[] => Array.isArray(value) && value.every((item) => typeof item === "number");

function integer(value: unknown, key: string): number {
  if (typeof value === "number" && Number.isInteger(value)) return value;
  throw new NegotiationError(`property ${key} must be an integer, got ${JSON.stringify(value)}`);
}

function optionalInteger(value: unknown, key: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "number" && Number.isInteger(value) && value >= 0) return value;
  throw new NegotiationError(`property ${key} must be an unsigned integer, got ${JSON.stringify(value)}`);
}

function describe(ms: number): string {
  return ms >= 365 * 24 * HOUR ? `${Math.round(ms / (365 * 24 * HOUR))}years` : `${Math.round(ms / MINUTE)}min`;
}
