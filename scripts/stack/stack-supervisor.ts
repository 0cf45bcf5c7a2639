/**
 * Keeps one component of the local stack running: when its process stops on its own
 * (a crash, an OOM kill, a SIGKILL) it is started again after a back-off (1 s, 2 s,
 * 4 s… at most 30 s), saying so in the log, while the rest of the stack — the chain
 * above all, with every pending request and balance on it — keeps running. The oracle is
 * built for this: it resumes from its durable queue. A component that keeps failing —
 * `maxRestarts` times in a row, each time stopping within a minute of its start, or
 * never getting ready again — is given up on, and `gaveUp` says why, for the launcher to
 * stop the stack with that reason.
 */
import type { StackLog } from "./stack-log.ts";
import { type Component, describeExit, type Exit } from "./stack-process.ts";

export interface RestartPolicy {
  /** Restarts in a row before giving up (0: never restart). */
  maxRestarts: number;
  firstDelayMs: number;
  maxDelayMs: number;
  /** A run this long clears the count of failures in a row. */
  stableMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = { maxRestarts: 5, firstDelayMs: 1_000, maxDelayMs: 30_000, stableMs: 60_000 };

/** Why a component was given up on, and the last lines it printed (empty or "; its last output:…"). */
export interface GiveUp {
  reason: string;
  tail: string;
}

export class Supervised {
  readonly name: string;
  /** The first start's ready line (rejects if that start fails: the launcher then does not start at all). */
  readonly ready: Promise<Record<string, unknown>>;
  /** Resolves with the reason once the component is given up on. */
  readonly gaveUp: Promise<GiveUp>;
  private current: Component;
  private readonly create: () => Component;
  private readonly log: StackLog;
  private readonly policy: RestartPolicy;
  private stopping = false;
  private wake: () => void = () => {};
  private giveUp: (why: GiveUp) => void = () => {};
  private restarts = 0;

  constructor(name: string, create: () => Component, log: StackLog, policy: RestartPolicy = DEFAULT_RESTART_POLICY) {
    this.name = name;
    this.create = create;
    this.log = log;
    this.policy = policy;
    this.current = create();
    this.ready = this.current.ready;
    this.gaveUp = new Promise((resolve) => (this.giveUp = resolve));
    this.ready.then(
      () => void this.supervise(),
      () => {},
    );
  }

  get pid(): number | undefined {
    return this.current.pid;
  }

  /** How many times it has been restarted since the stack started. */
  get restartCount(): number {
    return this.restarts;
  }

  /** Stops it for good (no restart), as Component.stop. */
  async stop(graceMs: number): Promise<Exit> {
    this.stopping = true;
    this.wake();
    return this.current.stop(graceMs);
  }

  /** Synchronous last resort (process "exit" handler). */
  kill(): void {
    this.stopping = true;
    this.current.kill();
  }

  private async supervise(): Promise<void> {
    let failuresInARow = 0;
    for (;;) {
      const startedAt = Date.now();
      const exit = await this.current.exited;
      if (this.stopping) return;
      // Whatever it started and left behind (inference processes) goes with it.
      this.current.kill();
      failuresInARow = Date.now() - startedAt >= this.policy.stableMs ? 1 : failuresInARow + 1;
      if (failuresInARow > this.policy.maxRestarts) {
        // With restarts turned off (ARGUS_RESTARTS=0) one stop is the whole story.
        this.giveUp({
          reason:
            this.policy.maxRestarts === 0
              ? `${this.name} stopped on its own (${describeExit(exit)})`
              : this.reason(failuresInARow, `last: ${describeExit(exit)}`),
          tail: this.current.tail(),
        });
        return;
      }
      const delayMs = Math.min(this.policy.maxDelayMs, this.policy.firstDelayMs * 2 ** (failuresInARow - 1));
      this.log.line(
        "argus",
        `${this.name} stopped on its own (${describeExit(exit)}); restarting it in ${delayMs / 1000} s (${failuresInARow} of at most ${this.policy.maxRestarts} in a row)`,
      );
      await this.sleep(delayMs);
      if (this.stopping) return;
      this.restarts++;
      this.current = this.create();
      try {
        await this.current.ready;
        this.log.line("argus", `${this.name} restarted (pid ${this.current.pid}, restart ${this.restarts})`);
      } catch (error) {
        if (this.stopping) return;
        this.log.line("argus", `${this.name} did not come back: ${(error as Error).message}`);
        // Counted as a failure by the next round, which finds it exited.
      }
    }
  }

  private reason(failures: number, last: string): string {
    return `${this.name} keeps failing: it stopped ${failures} times in a row, each within ${this.policy.stableMs / 1000} s of starting (${last})`;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
