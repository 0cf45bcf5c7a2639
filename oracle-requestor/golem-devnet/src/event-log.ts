/**
 * An append-only event log read by long-polls, the way yagna's event endpoints behave
 * (market `agreementEvents`, payment `debitNoteEvents`/`invoiceEvents`): events strictly
 * after `afterTimestamp` that pass the caller's filter come back at once; when there are
 * none the request waits until one arrives or its `timeout` (seconds, real time) passes,
 * and then answers an empty list.
 */
import { isoMicros, MonotonicMicros } from "./ids.ts";

export interface LoggedEvent<E> {
  /** Microseconds since the epoch; unique and increasing within the log. */
  micros: number;
  event: E;
}

export interface CollectOptions<E> {
  afterMicros?: number;
  maxEvents: number;
  timeoutSec: number;
  filter?: (event: E) => boolean;
  /** Aborted when the client goes away. */
  signal?: AbortSignal;
  /** Ends the wait early (checked whenever the log is woken), e.g. once a subscription is gone. */
  stop?: () => boolean;
}

export class EventLog<E> {
  readonly #entries: LoggedEvent<E>[] = [];
  readonly #micros: MonotonicMicros;
  readonly #waiters = new Set<() => void>();

  constructor(nowMs: () => number) {
    this.#micros = new MonotonicMicros(nowMs);
  }

  /** Appends the event `make` builds from its timestamp (RFC 3339, µs) and wakes the waiting polls. */
  push(make: (eventDate: string) => E): E {
    const micros = this.#micros.next();
    const event = make(isoMicros(micros));
    this.#entries.push({ micros, event });
    this.wake();
    return event;
  }

  /** Makes waiting polls re-check their conditions. */
  wake(): void {
    for (const wake of [...this.#waiters]) wake();
  }

  /** Events after `afterMicros` passing `filter`, at most `maxEvents`, oldest first. */
  read(afterMicros: number | undefined, maxEvents: number, filter?: (event: E) => boolean): E[] {
    const found: E[] = [];
    for (const entry of this.#entries) {
      if (afterMicros !== undefined && entry.micros <= afterMicros) continue;
      if (filter && !filter(entry.event)) continue;
      found.push(entry.event);
      if (found.length >= maxEvents) break;
    }
    return found;
  }

  /** Like `read`, but waits (long-poll) up to `timeoutSec` for a first matching event. */
  async collect(options: CollectOptions<E>): Promise<E[]> {
    const ready = () => this.read(options.afterMicros, options.maxEvents, options.filter);
    const now = ready();
    if (now.length > 0 || options.timeoutSec <= 0) return now;
    return new Promise<E[]>((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        options.signal?.removeEventListener("abort", finish);
        resolve(ready());
      };
      const check = () => {
        if (ready().length > 0 || options.stop?.()) finish();
      };
      const timer = setTimeout(finish, options.timeoutSec * 1000);
      this.#waiters.add(check);
      options.signal?.addEventListener("abort", finish, { once: true });
    });
  }

  /** Every event, oldest first (for the control API). */
  all(): E[] {
    return this.#entries.map((entry) => entry.event);
  }
}

/** Resolves when `condition()` holds, re-checked on every `wake`, or after `timeoutSec` (real time) with false. */
export class Waiters {
  readonly #waiters = new Set<() => void>();

  wake(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }

  until(condition: () => boolean, timeoutSec: number, signal?: AbortSignal): Promise<boolean> {
    if (condition()) return Promise.resolve(true);
    if (timeoutSec <= 0) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const finish = (result: boolean) => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        signal?.removeEventListener("abort", abort);
        resolve(result);
      };
      const check = () => {
        if (condition()) finish(true);
      };
      const abort = () => finish(condition());
      const timer = setTimeout(() => finish(condition()), timeoutSec * 1000);
      this.#waiters.add(check);
      signal?.addEventListener("abort", abort, { once: true });
    });
  }
}
