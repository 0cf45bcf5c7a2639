/**
 * The devnet's time: the real clock plus an offset the control API moves forward. Every
 * rule with a deadline (demand expiration, the 90 s idle agreement, debit-note intervals
 * and acceptance deadlines, allocation timeouts, the 500-fault window) reads this clock,
 * and the scheduler runs due tasks both on a short real-time tick and immediately after
 * the clock moves, so a test that advances it sees the consequences at once.
 *
 * HTTP long-polls are not on this clock: their timeouts are the client's, in real time.
 */

export class DevnetClock {
  #offsetMs = 0;
  readonly #listeners = new Set<() => void>();

  /** Milliseconds since the epoch, as the emulated network sees them. */
  now(): number {
    return Date.now() + this.#offsetMs;
  }

  get offsetMs(): number {
    return this.#offsetMs;
  }

  /** Moves the clock forward (never back: deadlines already passed stay passed). */
  advance(ms: number): number {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`the clock only moves forward (got ${ms} ms)`);
    this.#offsetMs += ms;
    for (const listener of this.#listeners) listener();
    return this.now();
  }

  onAdvance(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

export interface ScheduledTask {
  /** Emulated time (ms) at which it runs. */
  readonly at: number;
  readonly label: string;
  cancel(): void;
}

interface Entry {
  at: number;
  label: string;
  run: () => void;
  cancelled: boolean;
}

/** Runs tasks when the emulated clock reaches their time. */
export class Scheduler {
  readonly #clock: DevnetClock;
  readonly #entries = new Set<Entry>();
  readonly #onError: (label: string, error: unknown) => void;
  #timer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;
  #running = false;

  constructor(clock: DevnetClock, onError: (label: string, error: unknown) => void, tickMs = 100) {
    this.#clock = clock;
    this.#onError = onError;
    this.#timer = setInterval(() => this.runDue(), tickMs);
    this.#timer.unref();
    this.#unsubscribe = clock.onAdvance(() => this.runDue());
  }

  /** Runs `run` once the clock reads `at` or later. */
  at(at: number, label: string, run: () => void): ScheduledTask {
    const entry: Entry = { at, label, run, cancelled: false };
    this.#entries.add(entry);
    return {
      at,
      label,
      cancel: () => {
        entry.cancelled = true;
        this.#entries.delete(entry);
      },
    };
  }

  after(delayMs: number, label: string, run: () => void): ScheduledTask {
    return this.at(this.#clock.now() + delayMs, label, run);
  }

  /** Runs every task that is due, earliest first (tasks scheduled meanwhile included). */
  runDue(): void {
    if (this.#running) return;
    this.#running = true;
    try {
      for (;;) {
        const now = this.#clock.now();
        let next: Entry | undefined;
        for (const entry of this.#entries) if (entry.at <= now && (!next || entry.at < next.at)) next = entry;
        if (!next) return;
        this.#entries.delete(next);
        if (next.cancelled) continue;
        try {
          next.run();
        } catch (error) {
          this.#onError(next.label, error);
        }
      }
    } finally {
      this.#running = false;
    }
  }

  /** Labels and times of the pending tasks (for the control API and debugging). */
  pending(): { at: number; label: string }[] {
    return [...this.#entries].map(({ at, label }) => ({ at, label })).sort((a, b) => a.at - b.at);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#entries.clear();
  }
}
