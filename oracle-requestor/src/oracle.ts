/**
 * The oracle service: wires the durable queue, the chain, IPFS and an executor into
 * five independent loops — intake (events), fetch (images), execute (chunks), pin
 * (results) and settle (transactions) — and serves its status over HTTP. Each loop
 * reads its work from the queue and writes its progress back, so they can run at
 * their own pace, and a restart resumes exactly where the queue says.
 */
import { join } from "node:path";
import pino, { type Logger } from "pino";
import { type Address, createPublicClient, http, type PublicClient, parseGwei, keccak256, toHex } from "viem";
import { DEFAULT_IMAGE_LIMITS } from "@argus/provider-image/image-limits";
import { inspectImage } from "@argus/provider-image/decode-image";
import { predictionEscrowAbi } from "@argus/escrow/abi";
import { ModelRegistryReader } from "./intake/model-registry.ts";
import type { OracleConfig } from "./config.ts";
import { readDeploymentFile } from "@argus/escrow/deployment-file";
import type { Executor } from "./executors/executor.ts";
import { createLocalExecutor } from "./executors/local.ts";
import { removeOrphanedWorkDirs } from "./executors/work-dirs.ts";
import { type IntakeProgress, RequestIntake } from "./intake/request-events.ts";
import { createIpfsClient } from "@argus/ipfs-node/client";
import { createMetrics, type OracleMetrics, toUnits } from "./metrics.ts";
import { loadOracleAccount } from "./oracle-key.ts";
import { ExecuteStage } from "./pipeline/execute-stage.ts";
import { FetchStage } from "./pipeline/fetch-stage.ts";
import { ImageSpool } from "./pipeline/image-spool.ts";
import { PinStage } from "./pipeline/pin-stage.ts";
import { SettleStage, type SettlementReport } from "./pipeline/settle-stage.ts";
import { startStatusServer } from "./status-server.ts";
import { openDatabase } from "./store/database.ts";
import { RequestStore } from "./store/request-store.ts";

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

const ORACLE_ROLE = keccak256(toHex("ORACLE_ROLE"));

export async function startOracle(config: OracleConfig, deps: OracleDependencies = {}): Promise<RunningOracle> {
  const log = deps.log ?? pino({ level: config.logLevel, base: { service: "argus-oracle" } });
  const client = createPublicClient({ transport: http(config.rpcUrl, { retryCount: 2, timeout: 20_000 }) }) as PublicClient;
  const { escrow, startBlock } = await locateEscrow(config, client);
  const chainId = await client.getChainId();
  const account = await loadOracleAccount(config);
  const isOracle = await client.readContract({ address: escrow, abi: predictionEscrowAbi, functionName: "hasRole", args: [ORACLE_ROLE, account.address] });
  if (!isOracle) log.warn({ oracle: account.address }, "this account does not hold ORACLE_ROLE: settlements will revert until it is granted");

  const db = openDatabase(join(config.dataDir, `queue-${chainId}-${escrow.toLowerCase()}.sqlite`));
  const store = new RequestStore(db);
  const spool = new ImageSpool(join(config.dataDir, `spool-${chainId}-${escrow.toLowerCase()}`));
  await spool.init();
  const requeued = store.requeueRunning();
  const swept = await spool.sweep((id) => ["received", "ready", "running"].includes(store.get(id)?.state ?? ""));
  const orphanedWorkDirs = await removeOrphanedWorkDirs();
  log.info({ requeued, swept, orphanedWorkDirs }, "queue recovered");

  const metrics = createMetrics(store);
  const ipfs = createIpfsClient(config.ipfsApi, { authorization: config.ipfsApiAuthorization });
  const executor = deps.executor ?? (await createExecutor(config, log, metrics));
  const registry = new ModelRegistryReader(client, escrow);

  const intake = new RequestIntake(client, store, {
    escrow,
    confirmations: config.confirmations,
    logRangeBlocks: config.logRangeBlocks,
    startBlock: config.startBlock ?? startBlock,
  });
  const fetch = new FetchStage({
    store,
    ipfs,
    spool,
    checkImage: async (bytes) => void (await inspectImage(bytes, { ...DEFAULT_IMAGE_LIMITS, maxBytes: config.imageMaxBytes })),
    options: {
      maxBytes: config.imageMaxBytes,
      timeoutMs: config.fetchTimeoutMs,
      attempts: config.fetchAttempts,
      concurrency: config.fetchConcurrency,
      maxReady: config.maxReadyRequests,
      deadlineMarginS: config.deadlineMarginS,
      resultCacheWindowS: config.resultCacheWindowS,
    },
    log,
  });
  const execute = new ExecuteStage({
    store,
    executor,
    spool,
    registry,
    options: { maxSize: config.maxChunkSize, maxBytes: config.maxChunkBytes, flushIntervalMs: config.flushIntervalMs, maxReady: config.maxReadyRequests, deadlineMarginS: config.deadlineMarginS },
    log,
    onChunk: (report) => {
      metrics.stageSeconds.observe({ stage: "execute" }, report.durationMs / 1000);
      if (report.error) metrics.executorFailures.inc();
      else {
        metrics.chunkSize.observe(report.size);
        golemCostByModel.set(report.modelId, (golemCostByModel.get(report.modelId) ?? 0) + (report.outcome?.cost ?? 0));
      }
    },
  });
  if (config.executionPaused) execute.pause(true);
  const golemCostByModel = new Map<number, number>();
  const pin = new PinStage({ store, ipfs, log });
  const settle = new SettleStage({
    client,
    account,
    store,
    options: {
      escrow,
      chainId,
      confirmations: config.confirmations,
      maxPerTx: config.maxSettlementsPerTx,
      lingerMs: config.settleLingerMs,
      receiptTimeoutMs: config.txReceiptTimeoutMs,
      maxFeePerGas: parseGwei(String(config.maxFeePerGasGwei)),
    },
    log,
    onSettled: (report) => recordSettlement(report),
  });

  function recordSettlement(report: SettlementReport): void {
    metrics.settlementTransactions.inc({ kind: report.kind });
    metrics.gasSpentEth.inc(toUnits(report.gasCostWei));
    for (const [token, amount] of report.feesCredited) metrics.feesEarned.inc({ token }, toUnits(amount));
    for (const seconds of report.latenciesS) metrics.requestLatencySeconds.observe({ outcome: report.kind }, seconds);
    const feesWei = report.feesCredited.get("0x0000000000000000000000000000000000000000") ?? 0n;
    const golemCost = [...golemCostByModel.values()].reduce((sum, cost) => sum + cost, 0);
    golemCostByModel.clear();
    log.info(
      {
        economics: {
          kind: report.kind,
          tx: report.hash,
          requests: report.requests,
          settled: report.settled,
          skipped: report.skipped,
          feesEarnedEth: toUnits(feesWei),
          gasCostEth: toUnits(report.gasCostWei),
          golemCostGlmEstimated: golemCost,
          netEth: toUnits(feesWei - report.gasCostWei),
        },
      },
      "batch economics",
    );
  }

  // ------------------------------------------------------------------ loops
  let stopping = false;
  let chainNowS = 0n;
  let lastIntake: (IntakeProgress & { at: number }) | undefined;
  const loopErrors = new Map<string, string>();
  const wake = new Set<() => void>();

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake.delete(done);
        resolve();
      }
      wake.add(done);
    });

  async function loop(name: string, idleMs: number, step: () => Promise<number>): Promise<void> {
    while (!stopping) {
      let progressed = 0;
      try {
        progressed = await step();
        loopErrors.delete(name);
      } catch (error) {
        loopErrors.set(name, (error as Error).message);
        log.warn({ loop: name, err: (error as Error).message }, "loop step failed; retrying");
        await sleep(Math.max(idleMs, 1_000));
        continue;
      }
      if (!stopping) await sleep(progressed > 0 ? 0 : idleMs);
    }
  }

  const loops = [
    loop("intake", config.pollIntervalMs, async () => {
      const progress = await intake.poll();
      const latest = await client.getBlock({ blockTag: "latest" });
      chainNowS = latest.timestamp;
      lastIntake = { ...progress, at: Date.now() };
      if (progress.orphaned > 0) log.warn({ orphaned: progress.orphaned }, "reorg: dropped requests from orphaned blocks; re-reading");
      if (progress.added > 0) log.info({ added: progress.added, readUpTo: progress.readUpTo }, "requests received");
      return 0;
    }),
    loop("fetch", 200, async () => (chainNowS === 0n ? 0 : fetch.runOnce(chainNowS))),
    loop("execute", 100, async () => (chainNowS === 0n ? 0 : execute.dispatch(Date.now(), chainNowS))),
    loop("pin", 200, async () => pin.runOnce()),
    loop("settle", Math.min(config.pollIntervalMs, 500), async () => (chainNowS === 0n ? 0 : settle.runOnce(chainNowS))),
  ];

  const status = await startStatusServer({
    host: config.httpHost,
    port: config.httpPort,
    store,
    metrics,
    health: () => ({
      ok: lastIntake !== undefined && Date.now() - lastIntake.at < Math.max(30_000, config.pollIntervalMs * 10) && loopErrors.size === 0,
      escrow,
      chainId,
      oracle: account.address,
      executor: executor.kind,
      chunksRunning: execute.inFlight,
      head: lastIntake?.head,
      readUpTo: lastIntake?.readUpTo,
      lastIntakeAt: lastIntake?.at,
      errors: Object.fromEntries(loopErrors),
    }),
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
      stopping = true;
      for (const done of [...wake]) done();
      await Promise.all(loops);
      await execute.drain();
      await settle.follow().catch(() => {});
      await executor.close();
      await status.close();
      db.close();
      log.info("oracle stopped");
    },
  };
}

async function createExecutor(config: OracleConfig, log: Logger, metrics: OracleMetrics): Promise<Executor> {
  if (config.executor === "local") {
    return createLocalExecutor({ concurrency: config.localConcurrency, ...(config.modelsDir ? { modelsDir: config.modelsDir } : {}) });
  }
  const { createGolemExecutor } = await import("./executors/golem.ts");
  const executor = createGolemExecutor(config.golem, {
    logger: log,
    // Invoices arrive after the chunks they pay for: the metric counts what was actually accepted.
    hooks: {
      onAgreementCost: (cost) => metrics.golemCostGlm.inc(cost.amount),
      onAllocation: (allocation) => {
        metrics.golemAllocationRemainingGlm.set(allocation.remainingGlm);
        if (allocation.expiresAt !== undefined) metrics.golemAllocationExpiry.set(Date.parse(allocation.expiresAt) / 1000);
        if (allocation.created) metrics.golemAllocationsCreated.inc();
      },
    },
  });
  await executor.ready(); // a missing or misconfigured yagna fails the start, not the first chunk
  return executor;
}

/**
 * The escrow address and first block: from the configuration, else the deployment record
 * (which must describe the chain the RPC endpoint serves: a stale record of an earlier
 * local chain is refused rather than followed).
 */
async function locateEscrow(config: OracleConfig, client: PublicClient): Promise<{ escrow: Address; startBlock: bigint }> {
  if (config.escrowAddress) return { escrow: config.escrowAddress as Address, startBlock: 0n };
  const record = await readDeploymentFile(config.deploymentFile).catch((error: Error) => {
    throw new Error(`ARGUS_ESCROW_ADDRESS is not set, and ${error.message}`);
  });
  const chainId = await client.getChainId();
  if (record.chain.id !== chainId) {
    throw new Error(`${config.deploymentFile} describes chain ${record.chain.id}, but ${config.rpcUrl} serves chain ${chainId}: set ARGUS_RPC_URL or ARGUS_DEPLOYMENT_FILE`);
  }
  const { address, deployBlock } = record.contracts.predictionEscrow;
  return { escrow: address, startBlock: BigInt(deployBlock) };
}
