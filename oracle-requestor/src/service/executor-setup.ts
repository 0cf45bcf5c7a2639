/**
 * The executor the configuration asks for, with the Golem executor's agreements, payments
 * and allocations reported as metrics and its open allocations and agreements journaled
 * in the durable queue (a restart after a crash releases and pays them).
 */
import type { DatabaseSync } from "node:sqlite";
import type { Logger } from "pino";
import type { OracleConfig } from "../config.ts";
import type { Executor } from "../executors/executor.ts";
import type { GolemExecutorHooks } from "../executors/golem/reporting.ts";
import { createLocalExecutor } from "../executors/local.ts";
import type { OracleMetrics } from "../metrics.ts";
import { SqliteGolemJournal } from "../store/golem-journal.ts";
import { SqliteReputationStore } from "../store/provider-reputation.ts";

export async function createConfiguredExecutor(
  config: OracleConfig,
  log: Logger,
  metrics: OracleMetrics,
  db: DatabaseSync,
): Promise<Executor> {
  const local = () =>
    createLocalExecutor({ concurrency: config.localConcurrency, ...(config.modelsDir ? { modelsDir: config.modelsDir } : {}) });
  if (config.executor === "local") return local();
  // Imported on demand: a local oracle never loads golem-js.
  const { createGolemExecutor } = await import("../executors/golem/executor.ts");
  // audit.local: this machine's engine is the second opinion on audited chunks.
  const referee = config.golem.auditLocal ? local() : undefined;
  const executor = createGolemExecutor(config.golem, {
    logger: log,
    hooks: golemMetricHooks(metrics),
    journal: new SqliteGolemJournal(db),
    reputationStore: new SqliteReputationStore(db),
    ...(referee ? { recompute: (chunk, signal) => referee.run(chunk, signal) } : {}),
  });
  await executor.ready(); // a missing or misconfigured yagna fails the start, not the first chunk
  if (referee === undefined) return executor;
  // Closing the oracle's executor closes the referee too, after the chunks that may still use it.
  return { ...executor, close: () => executor.close().finally(() => referee.close()) };
}

/**
 * The Golem executor's reports as metrics. Chunks per provider are counted from each
 * chunk's outcome (economics.ts), the same for every executor; these are Golem's own:
 * agreements, accepted debit notes and invoices, GLM spent, the funding allocation.
 */
export function golemMetricHooks(metrics: OracleMetrics): GolemExecutorHooks {
  return {
    onAgreementSigned: ({ provider }) => metrics.golemAgreements.inc({ provider: provider.id, provider_name: provider.name }),
    onDebitNoteAccepted: ({ provider }) => metrics.golemDebitNotesAccepted.inc({ provider: provider.id }),
    // Invoices arrive after the chunks they pay for: the cost counts what was actually accepted.
    onAgreementCost: (cost) => {
      metrics.golemInvoicesAccepted.inc({ provider: cost.provider.id });
      metrics.golemCostGlm.inc({ provider: cost.provider.id }, cost.amount);
    },
    onAllocation: (allocation) => {
      metrics.golemAllocationRemainingGlm.set(allocation.remainingGlm);
      if (allocation.expiresAt !== undefined) metrics.golemAllocationExpiry.set(Date.parse(allocation.expiresAt) / 1000);
      if (allocation.created) metrics.golemAllocationsCreated.inc();
    },
  };
}
