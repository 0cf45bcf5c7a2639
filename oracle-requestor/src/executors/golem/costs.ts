/**
 * What the Golem executor spent, agreement by agreement.
 *
 * On Golem the money is settled per agreement: when an agreement ends (its provider was
 * destroyed after a failure, or released providers are drained on close or at expiry)
 * the provider sends one invoice for all of it, and golem-js accepts it against our
 * allocation. An agreement usually serves several chunks (providers are pooled), and
 * its invoice arrives after those chunks have returned, so:
 *
 * - `estimate()` gives each attempt a price at once, from the offer's linear price
 *   coefficients the provider agreed to: its start price on the agreement's first use,
 *   then (per-second environment price + per-second CPU price × CPU threads) × the
 *   attempt's wall time. That is an upper bound of what the attempt adds to the invoice
 *   (the CPU is rarely busy the whole time) and is what `ChunkOutcome.cost` reports.
 * - `invoiced()` records the accepted invoice's amount, the actual cost, and splits it
 *   over the chunks that used the agreement in proportion to the time each one held it
 *   (failed attempts included: they were paid for too). Idle time in the pool is spread
 *   the same way; an agreement no chunk used keeps its whole amount unattributed.
 */

/** An offer's linear price, in GLM. */
export interface OfferPricing {
  start: number;
  envPerSec: number;
  cpuPerSec: number;
  cpuThreads: number;
}

export interface ProviderRef {
  id: string;
  name: string;
}

export interface AgreementCost {
  agreementId: string;
  provider: ProviderRef;
  /** The accepted invoice's amount, in GLM (tGLM on the testnet). */
  amount: number;
  /** The amount split over the chunks that held the agreement, by their share of its busy time. */
  chunks: { chunkId: string; amount: number }[];
}

export interface CostReport {
  /** Sum of every accepted invoice so far. */
  totalGlm: number;
  /** The latest accepted invoices (at most `KEPT_INVOICED`), oldest first. */
  invoiced: AgreementCost[];
  /** Agreements used or signed whose invoice has not been accepted yet. */
  awaitingInvoice: string[];
}

interface AgreementEntry {
  provider: ProviderRef;
  /** Milliseconds each chunk held the agreement. */
  busyMs: Map<string, number>;
  cost?: AgreementCost;
}

/** How many invoiced agreements the report lists (a long-running oracle signs many). */
export const KEPT_INVOICED = 1_000;

export class CostLedger {
  readonly #pricing = new Map<string, OfferPricing>();
  readonly #agreements = new Map<string, AgreementEntry>();
  /** Invoiced agreement ids, oldest first. */
  readonly #invoiced: string[] = [];
  #totalGlm = 0;

  /** Remembers a provider's latest offered price (every offer the market shows us). */
  notePricing(providerId: string, pricing: OfferPricing): void {
    this.#pricing.set(providerId, pricing);
  }

  /** Records a newly signed agreement, so that it is listed until its invoice is accepted. */
  noteAgreement(agreementId: string, provider: ProviderRef): void {
    this.#entry(agreementId, provider);
  }

  /**
   * Records that `chunkId` held the agreement for `busyMs` and returns the estimated
   * price of that use (0 when the provider's offer was never seen).
   */
  recordUse(agreementId: string, provider: ProviderRef, chunkId: string, busyMs: number): number {
    const entry = this.#entry(agreementId, provider);
    const firstUse = entry.busyMs.size === 0;
    entry.busyMs.set(chunkId, (entry.busyMs.get(chunkId) ?? 0) + busyMs);
    const pricing = this.#pricing.get(provider.id);
    if (!pricing) return 0;
    const seconds = busyMs / 1000;
    return (firstUse ? pricing.start : 0) + seconds * (pricing.envPerSec + pricing.cpuPerSec * pricing.cpuThreads);
  }

  /** Records an accepted invoice; returns the agreement's cost, split over its chunks. */
  invoiced(agreementId: string, provider: ProviderRef, amount: number): AgreementCost {
    const entry = this.#entry(agreementId, provider);
    if (entry.cost) return entry.cost; // one invoice per agreement (golem-js rejects a second)
    const totalMs = [...entry.busyMs.values()].reduce((sum, ms) => sum + ms, 0);
    const chunks = [...entry.busyMs].map(([chunkId, ms]) => ({
      chunkId,
      amount: totalMs > 0 ? (amount * ms) / totalMs : amount / entry.busyMs.size,
    }));
    entry.cost = { agreementId, provider: entry.provider, amount, chunks };
    this.#totalGlm += amount;
    this.#invoiced.push(agreementId);
    if (this.#invoiced.length > KEPT_INVOICED) this.#agreements.delete(this.#invoiced.shift()!);
    return entry.cost;
  }

  report(): CostReport {
    const invoiced = this.#invoiced.map((agreementId) => this.#agreements.get(agreementId)!.cost!);
    const awaitingInvoice = [...this.#agreements].filter(([, entry]) => !entry.cost).map(([agreementId]) => agreementId);
    return { totalGlm: this.#totalGlm, invoiced, awaitingInvoice };
  }

  #entry(agreementId: string, provider: ProviderRef): AgreementEntry {
    let entry = this.#agreements.get(agreementId);
    if (!entry) {
      entry = { provider, busyMs: new Map() };
      this.#agreements.set(agreementId, entry);
    }
    return entry;
  }
}
