/**
 * What each provider has done for this oracle: chunks run, audited, agreed, disagreed,
 * outvoted (caught giving wrong answers), failed attempts and time. Kept in the
 * oracle's store across restarts (store/provider-reputation.ts) and used twice:
 *
 * - a provider outvoted in any earlier run stays banned (a restart is no amnesty);
 * - offers are compared by their expected cost per useful chunk: the worst case of an
 *   agreement divided by the share of the provider's attempts that succeeded (after at
 *   least `MIN_ATTEMPTS_FOR_RATE`), so a provider that fails half its chunks must be
 *   half the price to be chosen.
 */
import type { ProviderRecord } from "../executor.ts";

export interface ReputationStore {
  load(): ProviderRecord[];
  save(records: readonly ProviderRecord[]): void;
}

/** Attempts before a provider's failure rate counts. */
export const MIN_ATTEMPTS_FOR_RATE = 3;
/** A provider is never counted as succeeding less than this (its cost stays finite). */
const MIN_SUCCESS_SHARE = 0.1;

export class ProviderReputation {
  readonly #records = new Map<string, ProviderRecord>();
  readonly #dirty = new Set<string>();
  readonly #store: ReputationStore | undefined;

  constructor(store?: ReputationStore) {
    this.#store = store;
    for (const record of store?.load() ?? []) this.#records.set(record.id, { ...record });
  }

  /** The provider's record, created empty on first sight; the caller's changes are saved by `persist`. */
  record(provider: { id: string; name: string }): ProviderRecord {
    let entry = this.#records.get(provider.id);
    if (entry === undefined) {
      entry = {
        id: provider.id,
        name: provider.name,
        chunks: 0,
        audited: 0,
        agreed: 0,
        disagreed: 0,
        outvoted: 0,
        failures: 0,
        totalMs: 0,
      };
      this.#records.set(provider.id, entry);
    }
    this.#dirty.add(provider.id);
    return entry;
  }

  failed(provider: { id: string; name: string }): void {
    this.record(provider).failures++;
  }

  /** Providers outvoted in this run or an earlier one. */
  liars(): string[] {
    return [...this.#records.values()].filter((record) => record.outvoted > 0).map((record) => record.id);
  }

  /** The share of its attempts that succeeded, 1 until it has made `MIN_ATTEMPTS_FOR_RATE`. */
  successShare(providerId: string): number {
    const record = this.#records.get(providerId);
    if (record === undefined) return 1;
    const attempts = record.chunks + record.failures;
    if (attempts < MIN_ATTEMPTS_FOR_RATE) return 1;
    return Math.max(MIN_SUCCESS_SHARE, record.chunks / attempts);
  }

  /** Saves the records changed since the last call. */
  persist(): void {
    if (this.#store === undefined || this.#dirty.size === 0) return;
    this.#store.save([...this.#dirty].map((id) => this.#records.get(id)!));
    this.#dirty.clear();
  }

  /** Every provider seen, most chunks first. */
  all(): ProviderRecord[] {
    return [...this.#records.values()].sort((a, b) => b.chunks - a.chunks);
  }
}
