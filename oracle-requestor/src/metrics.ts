/**
 * The oracle's Prometheus metrics, on a registry of its own (no process-wide state).
 * Queue depth and the settlement watch's size are read from the database at scrape
 * time, so they are never stale.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { RequestStore } from "./store/request-store.ts";
import { WatchedSettlements } from "./store/watched-settlements.ts";
import type { ProviderRecord } from "./executors/executor.ts";

export type OracleMetrics = ReturnType<typeof createMetrics>;

/** What the executor knows of each provider (Golem's audit.ts); empty for the local executor. */
export type ProviderRecordsSource = () => readonly ProviderRecord[];

const PROVIDER_FIGURES = ["chunks", "audited", "agreed", "disagreed", "outvoted", "failures"] as const;

export function createMetrics(store: RequestStore) {
  const registry = new Registry();
  let providerRecords: ProviderRecordsSource = () => [];
  const watched = new WatchedSettlements(store.db);
  collectDefaultMetrics({ register: registry, prefix: "argus_oracle_" });

  const queueDepth = new Gauge({
    name: "argus_queue_requests",
    help: "Requests in the durable queue, by model and state",
    labelNames: ["model", "state"] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const { modelId, state, count } of store.countsByModelAndState()) this.set({ model: String(modelId), state }, count);
    },
  });
  new Gauge({
    name: "argus_golem_provider_chunks",
    help: "Per Golem provider: chunks it ran, those cross-checked, agreed, disagreed, and disagreements it lost (then banned)",
    labelNames: ["provider", "provider_name", "figure"] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const record of providerRecords()) {
        for (const figure of PROVIDER_FIGURES) this.set({ provider: record.id, provider_name: record.name, figure }, record[figure]);
      }
    },
  });
  return {
    registry,
    queueDepth,
    /** Where the provider figures come from, once the executor exists. */
    readProvidersFrom(source: ProviderRecordsSource): void {
      providerRecords = source;
    },
    chunkSize: new Histogram({
      name: "argus_chunk_size",
      help: "Requests per chunk sent to the executor",
      buckets: [1, 2, 4, 8, 12, 16],
      registers: [registry],
    }),
    stageSeconds: new Histogram({
      name: "argus_stage_seconds",
      help: "Time spent per pipeline stage: execute (one chunk), settle (one transaction to confirmation)",
      labelNames: ["stage"] as const,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120],
      registers: [registry],
    }),
    requestLatencySeconds: new Histogram({
      name: "argus_request_latency_seconds",
      help: "From a request's arrival at the oracle to its settlement being confirmed",
      labelNames: ["outcome"] as const,
      buckets: [1, 2, 5, 10, 20, 30, 60, 120, 300, 900],
      registers: [registry],
    }),
    chunksComputed: new Counter({
      name: "argus_chunks_computed_total",
      help: "Chunks computed, by executor and by who computed them: the Golem provider's node id and name (empty for the local executor)",
      labelNames: ["executor", "provider", "provider_name"] as const,
      registers: [registry],
    }),
    executorFailures: new Counter({
      name: "argus_executor_failures_total",
      help: "Chunks the executor could not compute (their requests are retried)",
      registers: [registry],
    }),
    settlementTransactions: new Counter({
      name: "argus_settlement_transactions_total",
      help: "Settlement transactions confirmed, by kind",
      labelNames: ["kind"] as const,
      registers: [registry],
    }),
    settlementsReorged: new Counter({
      name: "argus_settlement_reorgs_total",
      help: "Settlement transactions whose block a reorg took off the chain before they were final (each is posted again)",
      registers: [registry],
    }),
    settlementRequestsReposted: new Counter({
      name: "argus_settlement_reposted_requests_total",
      help: "Requests whose settlement a reorg took away, posted again",
      registers: [registry],
    }),
    settlementBlocksToFinality: new Histogram({
      name: "argus_settlement_blocks_to_finality",
      help: "Blocks from a settlement's block to the head when it was found final and left the watch",
      buckets: [1, 2, 4, 8, 16, 32, 64, 96, 128, 256, 512, 1024, 2048, 4096],
      registers: [registry],
    }),
    settlementWatchSize: new Gauge({
      name: "argus_settlement_watch_size",
      help: "Settlement transactions landed but not final yet, which the oracle watches for reorgs",
      registers: [registry],
      collect() {
        this.set(watched.count());
      },
    }),
    gasSpentEth: new Counter({ name: "argus_gas_spent_eth_total", help: "Gas paid for settlements, in ETH", registers: [registry] }),
    feesEarned: new Counter({
      name: "argus_fees_earned_total",
      help: "Fees credited to the oracle (after the protocol fee), in whole tokens; token 0x0 is ETH",
      labelNames: ["token"] as const,
      registers: [registry],
    }),
    golemAgreements: new Counter({
      name: "argus_golem_agreements_total",
      help: "Golem agreements signed, by provider node id and name",
      labelNames: ["provider", "provider_name"] as const,
      registers: [registry],
    }),
    golemDebitNotesAccepted: new Counter({
      name: "argus_golem_debit_notes_accepted_total",
      help: "Debit notes accepted (golem-js accepts each one before its deadline, or the provider ends the agreement), by provider node id",
      labelNames: ["provider"] as const,
      registers: [registry],
    }),
    golemInvoicesAccepted: new Counter({
      name: "argus_golem_invoices_accepted_total",
      help: "Invoices accepted (one per ended agreement), by provider node id",
      labelNames: ["provider"] as const,
      registers: [registry],
    }),
    golemCostGlm: new Counter({
      name: "argus_golem_cost_glm_total",
      help: "GLM spent: the accepted Golem invoices, by provider node id",
      labelNames: ["provider"] as const,
      registers: [registry],
    }),
    golemAllocationRemainingGlm: new Gauge({
      name: "argus_golem_allocation_remaining_glm",
      help: "What the Golem allocation funding new chunks has left, in GLM, as of the last chunk",
      registers: [registry],
    }),
    golemAllocationExpiry: new Gauge({
      name: "argus_golem_allocation_expiry_timestamp_seconds",
      help: "When the Golem allocation funding new chunks expires (it is renewed before)",
      registers: [registry],
    }),
    golemAllocationsCreated: new Counter({
      name: "argus_golem_allocations_created_total",
      help: "Golem allocations created: the first, then each renewal",
      registers: [registry],
    }),
  };
}

/** wei (or 18-decimal token units) as a float, for metrics and logs. */
export function toUnits(amount: bigint, decimals = 18): number {
  return Number(amount) / 10 ** decimals;
}
