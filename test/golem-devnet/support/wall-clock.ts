/**
 * Moves this process's wall clock forward, as a machine's clock moves while the oracle
 * idles for hours: `Date.now()` and `new Date()` read the real time plus an offset, for
 * golem-js (demand expiration, agreement deadlines, event timestamps), the executor and
 * an in-process devnet alike (its clock is `Date.now()` plus its own offset, left at 0:
 * `onAdvance` only lets it run what fell due); a devnet in another process is moved by
 * the same amount through its control API in `onAdvance`. Timers stay real, so nothing
 * that waits in real time is skipped.
 */

const RealDate = Date;

export interface ShiftedWallClock {
  /** Milliseconds since the epoch, shifted. */
  now(): number;
  /** Moves the wall clock forward and tells the devnet (`onAdvance`). */
  advance(ms: number): Promise<void>;
  /** Puts the real Date back. */
  restore(): void;
}

export function shiftWallClock(onAdvance: (ms: number) => unknown): ShiftedWallClock {
  let offsetMs = 0;
  const now = () => RealDate.now() + offsetMs;
  class ShiftedDate extends RealDate {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(now());
      else super(...(args as [string | number | Date]));
    }
    static override now(): number {
      return now();
    }
  }
  globalThis.Date = ShiftedDate as DateConstructor;
  return {
    now,
    async advance(ms) {
      offsetMs += ms;
      await onAdvance(ms);
    },
    restore() {
      globalThis.Date = RealDate;
    },
  };
}
