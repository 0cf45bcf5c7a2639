/** Waiting on golem-js work that must give way to an abort, and on work left running in the background. */

/** Settles with `promise`, or rejects with the signal's reason as soon as it aborts. */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  promise.catch(() => undefined); // the loser of the race settles later, unobserved
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

export function describeReason(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason);
}

/** Promises nobody awaits right away but someone must wait for before closing; settled ones drop out. */
export class PendingWork {
  readonly #pending = new Set<Promise<unknown>>();

  add(promise: Promise<unknown>): void {
    this.#pending.add(promise);
    void promise.finally(() => this.#pending.delete(promise)).catch(() => undefined);
  }

  /** Resolves once everything pending now has settled, fulfilled or not. */
  async settled(): Promise<void> {
    await Promise.allSettled(this.#pending);
  }
}
