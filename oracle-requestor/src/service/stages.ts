/**
 * The five pipeline stages — intake (events), fetch (images), execute (chunks), pin
 * (results) and settle (transactions) — wired to the queue, the chain, IPFS and the
 * executor, with the settings each one takes from the configuration.
 */
import type { Logger } from "pino";
import { parseGwei } from "viem";
import { inspectImage } from "@argus/provider-image/decode-image";
import { DEFAULT_IMAGE_LIMITS } from "@argus/provider-image/image-limits";
import { createIpfsClient } from "@argus/ipfs-node/client";
import type { OracleConfig } from "../config.ts";
import type { Executor } from "../executors/executor.ts";
import type { OracleMetrics } from "../metrics.ts";
import { ModelRegistryReader } from "../intake/model-registry.ts";
import { RequestIntake } from "../intake/request-events.ts";
import { ExecuteStage } from "../pipeline/execute-stage.ts";
import { FetchStage } from "../pipeline/fetch-stage.ts";
import { PinStage } from "../pipeline/pin-stage.ts";
import { SettleStage } from "../pipeline/settle-stage.ts";
import type { ChainAccess } from "./chain-access.ts";
import type { DurableQueue } from "./durable-queue.ts";
import type { Economics } from "./economics.ts";

export interface PipelineStages {
  intake: RequestIntake;
  fetch: FetchStage;
  execute: ExecuteStage;
  pin: PinStage;
  settle: SettleStage;
}

export function createStages(
  config: OracleConfig,
  {
    chain,
    queue,
    executor,
    economics,
    metrics,
    log,
  }: { chain: ChainAccess; queue: DurableQueue; executor: Executor; economics: Economics; metrics: OracleMetrics; log: Logger },
): PipelineStages {
  const { client, escrow, chainId, account } = chain;
  const { store, spool, evidence } = queue;
  const ipfs = createIpfsClient(config.ipfsApi, { authorization: config.ipfsApiAuthorization });
  const registry = new ModelRegistryReader(client, escrow);

  const intake = new RequestIntake(client, store, {
    escrow,
    confirmations: config.confirmations,
    logRangeBlocks: config.logRangeBlocks,
    startBlock: config.startBlock ?? chain.startBlock,
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
    options: {
      maxSize: config.maxChunkSize,
      maxBytes: config.maxChunkBytes,
      flushIntervalMs: config.flushIntervalMs,
      maxReady: config.maxReadyRequests,
      deadlineMarginS: config.deadlineMarginS,
    },
    log,
    onChunk: (report) => economics.chunkDone(report),
    evidence,
  });
  if (config.executionPaused) execute.pause(true);
  const pin = new PinStage({ store, ipfs, log, evidence });
  const settle = new SettleStage({
    client,
    account,
    store,
    options: {
      escrow,
      chainId,
      confirmations: config.confirmations,
      finalityBlocks: config.settlementFinalityBlocks,
      maxPerTx: config.maxSettlementsPerTx,
      lingerMs: config.settleLingerMs,
      receiptTimeoutMs: config.txReceiptTimeoutMs,
      maxFeePerGas: parseGwei(String(config.maxFeePerGasGwei)),
    },
    log,
    onSettled: (report) => economics.settled(report),
    watchEvents: {
      onFinal: (_settlement, blocks) => metrics.settlementBlocksToFinality.observe(Number(blocks)),
      onReorg: (reorg) => {
        metrics.settlementsReorged.inc(reorg.transactions.length);
        metrics.settlementRequestsReposted.inc(reorg.requests);
      },
    },
  });
  return { intake, fetch, execute, pin, settle };
}
