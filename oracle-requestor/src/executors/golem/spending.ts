/**
 * What one provider can make the oracle pay, bounded three times over:
 *
 * - **Offers**: a VM gets every thread its provider offers and `golem.usage.cpu_sec`
 *   counts them all, so the CPU price limit per thread-hour alone does not bound an
 *   agreement (a 32-thread provider at the limits costs 32× a 1-thread one). An offer
 *   is taken only if its threads are at most `maxCpuThreads` and its worst case for a
 *   whole agreement (golem-js's `getEstimatedCost(rentHours)`: start + rentHours ×
 *   (environment + CPU × threads)) is at most `maxAgreementCostGlm`, and only from an
 *   allowed provider when an allow-list is set.
 * - **Choice**: among the drafts the pool holds, the lowest expected cost is rented, not
 *   the first that answered: the worst case over the share of the provider's attempts
 *   that succeeded (reputation.ts).
 * - **Documents**: a debit note or invoice asking more than the agreement's own worst
 *   case (from the offer it was signed on) is rejected, logged, and its provider banned
 *   for good: an honest ya-provider never bills more than its linear price of the usage,
 *   and usage cannot exceed the threads times the agreement's length.
 */
import type { Agreement, DebitNoteFilter, InvoiceFilter, OfferProposal } from "@golem-sdk/golem-js";
import type { GolemExecutorConfig } from "./config.ts";
import { maxAgreementCostGlm } from "./limits.ts";
import type { ProviderBans } from "./provider-bans.ts";
import type { ExecutorLogger } from "./reporting.ts";

/** Relative slack for decimal rounding (ya-provider rounds amounts to 18 places, we compute in doubles). */
const ROUNDING = 1e-9;

type SpendingLimits = Pick<
  GolemExecutorConfig,
  "maxStartPriceGlm" | "maxEnvPerHourGlm" | "maxCpuPerHourGlm" | "maxCpuThreads" | "rentHours" | "allowedProviders"
>;

/** The offer's threads (`golem.inf.cpu.threads`; 1 when absent, as golem-js counts). */
export function offeredThreads(proposal: OfferProposal): number {
  return proposal.getDto().cpuThreads ?? 1;
}

/** Why an offer may not be rented, or undefined when it may. */
export function offerRefusal(proposal: OfferProposal, limits: SpendingLimits): string | undefined {
  const { id } = proposal.provider;
  if (limits.allowedProviders.length > 0 && !limits.allowedProviders.includes(id.toLowerCase()))
    return "the provider is not on the allow-list";
  const { start, cpuSec, envSec } = proposal.pricing;
  if (start > limits.maxStartPriceGlm) return `start price ${start} GLM is above ${limits.maxStartPriceGlm}`;
  if (cpuSec * 3600 > limits.maxCpuPerHourGlm * (1 + ROUNDING))
    return `CPU price ${cpuSec * 3600} GLM/thread-hour is above ${limits.maxCpuPerHourGlm}`;
  if (envSec * 3600 > limits.maxEnvPerHourGlm * (1 + ROUNDING))
    return `environment price ${envSec * 3600} GLM/hour is above ${limits.maxEnvPerHourGlm}`;
  const threads = offeredThreads(proposal);
  if (threads > limits.maxCpuThreads) return `${threads} CPU threads, more than maxCpuThreads ${limits.maxCpuThreads}`;
  const worstCase = proposal.getEstimatedCost(limits.rentHours);
  const bound = maxAgreementCostGlm(limits);
  if (worstCase > bound * (1 + ROUNDING)) return `an agreement could cost ${worstCase} GLM, more than ${bound}`;
  return undefined;
}

/**
 * The draft with the lowest expected cost: its worst case for a whole agreement over the
 * share of its provider's attempts that succeeded (1 for a provider without history);
 * the earliest among equals.
 */
export function cheapestOffer(
  rentHours: number,
  successShare: (providerId: string) => number = () => 1,
): (proposals: OfferProposal[]) => OfferProposal {
  const expectedCost = (proposal: OfferProposal) => proposal.getEstimatedCost(rentHours) / successShare(proposal.provider.id);
  return (proposals) => {
    let best = proposals[0]!;
    let bestCost = expectedCost(best);
    for (const proposal of proposals.slice(1)) {
      const cost = expectedCost(proposal);
      if (cost < bestCost) [best, bestCost] = [proposal, cost];
    }
    return best;
  };
}

/**
 * The most an agreement signed on an offer with these properties can bill: its start
 * price, then `rentHours` of environment and of CPU on every offered thread, read from
 * the linear coefficients in the order of the offer's usage vector. Undefined when the
 * offer does not say (golem-js would not have signed it).
 */
export function agreementWorstCaseGlm(offerProperties: Record<string, unknown>, rentHours: number): number | undefined {
  const coefficients = offerProperties["golem.com.pricing.model.linear.coeffs"];
  const usage = offerProperties["golem.com.usage.vector"];
  if (!Array.isArray(coefficients) || !Array.isArray(usage) || coefficients.length !== usage.length + 1) return undefined;
  if (!coefficients.every((value) => typeof value === "number" && Number.isFinite(value) && value >= 0)) return undefined;
  const perSecond = (counter: string) => {
    const index = usage.indexOf(counter);
    return index < 0 ? 0 : (coefficients[index] as number);
  };
  const threadsProperty = offerProperties["golem.inf.cpu.threads"];
  const threads = typeof threadsProperty === "number" && threadsProperty > 0 ? threadsProperty : 1;
  const seconds = rentHours * 3600;
  const start = coefficients[coefficients.length - 1] as number;
  return start + seconds * (perSecond("golem.usage.duration_sec") + perSecond("golem.usage.cpu_sec") * threads);
}

export interface PaymentGuard {
  invoiceFilter: InvoiceFilter;
  debitNoteFilter: DebitNoteFilter;
}

/**
 * Debit-note and invoice filters that refuse an amount above the agreement's worst
 * case. A refused document is rejected by golem-js (the provider sees why); the
 * provider is banned for good and the refusal logged with both amounts.
 */
export function paymentGuard(options: { rentHours: number; bans: ProviderBans; logger: ExecutorLogger }): PaymentGuard {
  const { rentHours, bans, logger } = options;
  const withinWorstCase = (kind: "invoice" | "debit note", documentId: string, amountText: string, agreement: Agreement) => {
    const worstCase = agreementWorstCaseGlm(signedOfferProperties(agreement), rentHours);
    const amount = Number(amountText);
    if (worstCase !== undefined && Number.isFinite(amount) && amount <= worstCase * (1 + ROUNDING)) return true;
    const provider = agreement.provider;
    bans.banForGood(provider.id);
    logger.warn(
      { agreementId: agreement.id, provider: provider.id, name: provider.name, documentId, amount: amountText, worstCaseGlm: worstCase },
      `rejected a Golem ${kind} above what its agreement can cost; the provider is banned`,
    );
    return false;
  };
  return {
    invoiceFilter: (invoice, { agreement }) => withinWorstCase("invoice", invoice.id, invoice.amount, agreement),
    debitNoteFilter: (debitNote, { agreement }) => withinWorstCase("debit note", debitNote.id, debitNote.totalAmountDue, agreement),
  };
}

/**
 * The properties of the offer the agreement was signed on, as yagna returned the
 * agreement. golem-js 3.6 keeps that record private (its `provider` getter reads the
 * same object), and it is the one statement of the prices the provider agreed to.
 */
function signedOfferProperties(agreement: Agreement): Record<string, unknown> {
  // biome-ignore lint/complexity/useLiteralKeys: the bracket is how TypeScript reads a member its types call private
  const record = agreement["model"] as { offer?: { properties?: Record<string, unknown> } } | undefined;
  return record?.offer?.properties ?? {};
}
