/**
 * The loops that drive the stages. Each loop reads its work from the queue and writes
 * its progress back, so they run at their own pace: a step that made progress is
 * followed at once, an idle one after its idle interval, a failed one after at least a
 * second (and its error shows in the health report until a step succeeds).
 */
import type { Logger } from "pino";
import type { PublicClient } from "viem";
import type { IntakeProgress, IntakeReorg } from "../intake/request-events.ts";
import type { PipelineStages } from "./stages.ts";

export class LoopScheduler {
  readonly #log: Logger;
  readonly #loops: Promise<void>[] = [];
  readonly #wake = new Set<() => void>();
  /** The last error of each loop whose latest step failed. */
  readonly errors = new Map<string, string>();
  #stopping = false;

  constructor(log: Logger) {
    this.#log = log;
  }

  /** Runs `step` until `stop`; it returns how much it did, 0 when there was nothing to do. */
  start(name: string, idleMs: number, step: () => Promise<number>): void {
    this.#loops.push(this.#run(name, idleMs, step));
  }

  /** Ends every loop after its current step, cutting idle waits short. */
  async stop(): Promise<void> {
    this.#stopping = true;
    for (const done of [...this.#wake]) done();
    await Promise.all(this.#loops);
  }

  async #run(name: string, idleMs: number, step: () => Promise<number>): Promise<void> {
    while (!this.#stopping) {
      let progressed = 0;
      try {
        progressed = await step();
        this.errors.delete(name);
      } catch (error) {
        this.errors.set(name, (error as Error).message);
        this.#log.warn({ loop: name, err: (error as Error).message }, "loop step failed; retrying");
        await this.#sleep(Math.max(idleMs, 1_000));
        continue;
      }
      if (!this.#stopping) await this.#sleep(progressed > 0 ? 0 : idleMs);
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = this.#wake;
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake.delete(done);
        resolve();
      }
      wake.add(done);
    });
  }
}

export interface PipelineLoopOptions {
  client: PublicClient;
  pollIntervalMs: number;
  log: Logger;
  /** Each intake poll that succeeded, for the health report. */
  onIntake(progress: IntakeProgress): void;
}

/**
 * Schedules one loop per stage. Fetch, execute and settle judge deadlines by the chain's
 * clock, so they wait for the first intake poll to read it.
 */
export function schedulePipeline(scheduler: LoopScheduler, stages: PipelineStages, options: PipelineLoopOptions): void {
  const { intake, fetch, execute, pin, settle } = stages;
  const { client, pollIntervalMs, log } = options;
  let chainNowS = 0n;
  scheduler.start("intake", pollIntervalMs, async () => {
    const progress = await intake.poll();
    const latest = await client.getBlock({ blockTag: "latest" });
    chainNowS = latest.timestamp;
    options.onIntake(progress);
    if (progress.reorg) logReorg(log, progress.reorg);
    if (progress.added > 0) log.info({ added: progress.added, readUpTo: progress.readUpTo }, "requests received");
    return 0;
  });
  scheduler.start("fetch", 200, async () => (chainNowS === 0n ? 0 : fetch.runOnce(chainNowS)));
  scheduler.start("execute", 100, async () => (chainNowS === 0n ? 0 : execute.dispatch(Date.now(), chainNowS)));
  scheduler.start("pin", 200, async () => pin.runOnce());
  scheduler.start("settle", Math.min(pollIntervalMs, 500), async () => (chainNowS === 0n ? 0 : settle.runOnce(chainNowS)));
}

/** One line per reorg: how deep, where it forked, and what became of each request it orphaned. */
function logReorg(log: Logger, { depth, forkBlock, orphaned }: IntakeReorg): void {
  const byState: Record<string, number> = {};
  for (const request of orphaned) byState[request.state] = (byState[request.state] ?? 0) + 1;
  log.warn(
    {
      depth: Number(depth),
      forkBlock: Number(forkBlock),
      orphaned: orphaned.length,
      byState,
      requests: orphaned.slice(0, 20).map((request) => ({
        id: request.requestId.toString(),
        block: Number(request.blockNumber),
        state: request.state,
        settleTx: request.settleTx,
      })),
    },
    `reorg ${depth} block${depth === 1n ? "" : "s"} deep (fork after block ${forkBlock}): ${orphaned.length} request(s) left the chain and moved to orphaned_requests; re-reading from block ${forkBlock + 1n}`,
  );
}
