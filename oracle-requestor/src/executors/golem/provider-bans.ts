/**
 * Providers that failed, timed out or answered wrongly, avoided until their ban ends:
 * their offers are filtered out, and a pooled rental of theirs is not borrowed again.
 */
export class ProviderBans {
  readonly #until = new Map<string, number>();
  readonly #banMs: number;
  readonly #now: () => number;

  constructor(banMinutes: number, now: () => number) {
    this.#banMs = banMinutes * 60_000;
    this.#now = now;
  }

  ban(providerId: string): void {
    if (this.#banMs > 0) this.#until.set(providerId, Math.max(this.#until.get(providerId) ?? 0, this.#now() + this.#banMs));
  }

  /** For as long as the oracle runs: a provider caught giving wrong answers. */
  banForGood(providerId: string): void {
    this.#until.set(providerId, Number.POSITIVE_INFINITY);
  }

  isBanned(providerId: string): boolean {
    const until = this.#until.get(providerId);
    if (until === undefined) return false;
    if (until > this.#now()) return true;
    this.#until.delete(providerId);
    return false;
  }
}
