/**
 * Moves this process's wall clock forward, as a machine's clock moves while the oracle
 * idles for hours: `Date.now()` and `new Date()` read the real time plus an offset, for
 * golem-js (demand expiration, agreement deadlines, event timestamps), the executor and
 * the devnet alike (its clock is `Date.now()` plus its own offset, left at 0 here).
 * Timers stay real, so nothing that waits in real time is skipped.
 */
import type { GolemDevnet } from "@argus/golem-devnet/devnet";

const RealDate = Date;

export interface ShiftedWallClock {
  /** Milliseconds since the epoch, shifted. */
  now(): number;
  /** Moves the wall clock forward and lets the devnet run what fell due. */
  advance(ms: number): void;
  /** Puts the real Date back. */
  restore(): void;
}

export function shiftWallClock(devnet: GolemDevnet): ShiftedWallClock {
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
    advance(ms) {
      offsetMs += ms;
      devnet.advanceClock(0); // runs the devnet's scheduled tasks that are now due
    },
    restore() {
      globalThis.Date = RealDate;
    },
  };
}
