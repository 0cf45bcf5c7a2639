/**
 * The oracle service: wires the durable queue, the chain, IPFS and an executor into
 * five independent loops — intake (events), fetch (images), execute (chunks), pin
 * (results) and settle (transactions) — and serves its status over HTTP. Each loop
 * reads its work from the queue and writes its progress back, so they can run at
 * their own pace, and a restart resumes exactly where the queue says.
 *
 * The parts live in service/: chain-access.ts, durable-queue.ts, executor-setup.ts,
 * stages.ts (the stages' wiring), scheduler.ts (the loops), economics.ts (cost and
 * earnings logging) and health.ts (what /healthz says).
 */
import pino, { type Logger } from "pino";
import type { Address } from "viem";
import type { OracleConfig } from "./config.ts";
import type { Executor } from "./executors/executor.ts";
import { createMetrics } from "./metrics.ts";
import { connectToChain } from "./service/chain-access.ts";
import { openDurableQueue } from "./service/durable-queue.ts";
import { Economics } from "./service/economics.ts";
import { createConfiguredExecutor } from "./service/executor-setup.ts";
import { HealthReport } from "./service/health.ts";
import { LoopScheduler, schedulePipeline } from "./service/scheduler.ts";
import { createStages } from "./service/stages.ts";
import { startStatusServer } from "./status-server.ts";
import type { RequestStore } from "./store/request-store.ts";

export interface RunningOracle {
  escrow: Address;
  chainId: number;
  oracleAddress: Address;
  statusUrl: string;
  store: RequestStore;
  log: Logger;
  /** Stop starting chunks (the memory benchmark's "executor paused"). */
  pauseExecution(paused: boolean): void;
  /** Finishes running chunks and sent transactions' bookkeeping, then closes everything. */
  stop(): Promise<void>;
}

export interface OracleDependencies {
  executor?: Executor;
  log?: Logger;
}

export async function startOracle(config: OracleConfig, deps: OracleDependencies = {}): Promise<RunningOracle> {
  const log = deps.log ?? pino({ level: config.logLevel, base: { service: "argus-oracle" } });
  const chain = await connectToChain(config, log);
  const { escrow, chainId, account } = chain;
  const queue = await openDurableQueue(config, chainId, escrow, log);
  const { db, store } = queue;

  const metrics = createMetrics(store);
  const executor = deps.executor ?? (await createConfiguredExecutor(config, log, metrics, db));
  metrics.readProvidersFrom(() => executor.providers?.() ?? []);
  const economics = new Economics(metrics, log);
  const stages = createStages(config, { chain, queue, executor, economics, metrics, log });
  const { execute, settle } = stages;

  const scheduler = new LoopScheduler(log);
  const health = new HealthReport({
    escrow,
    chainId,
    oracle: account.address,
    executorKind: executor.kind,
    pollIntervalMs: config.pollIntervalMs,
    chunksRunning: () => execute.inFlight,
    loopErrors: scheduler.errors,
  });
  schedulePipeline(scheduler, stages, {
    client: chain.client,
    pollIntervalMs: config.pollIntervalMs,
    log,
    onIntake: (progress) => health.intakePolled(progress),
  });

  const status = await startStatusServer({
    host: config.httpHost,
    port: config.httpPort,
    store,
    metrics,
    health: () => health.current(),
    providers: () => executor.providers?.() ?? [],
    disagreements: () => queue.evidence.recent(50),
  });
  log.info({ escrow, chainId, oracle: account.address, executor: executor.kind, status: status.url }, "oracle started");

  return {
    escrow,
    chainId,
    oracleAddress: account.address,
    statusUrl: status.url,
    store,
    log,
    pauseExecution: (paused) => execute.pause(paused),
    async stop() {
      await scheduler.stop();
      await execute.drain();
      await settle.follow().catch(() => {});
      await executor.close();
      await status.close();
      db.close();
      log.info("oracle stopped");
    },
  };
}
