/** The executor the configuration asks for, with the Golem executor's costs and allocations reported as metrics. */
import type { Logger } from "pino";
import type { OracleConfig } from "../config.ts";
import type { Executor } from "../executors/executor.ts";
import { createLocalExecutor } from "../executors/local.ts";
import type { OracleMetrics } from "../metrics.ts";

export async function createConfiguredExecutor(config: OracleConfig, log: Logger, metrics: OracleMetrics): Promise<Executor> {
  if (config.executor === "local") {
    return createLocalExecutor({ concurrency: config.localConcurrency, ...(config.modelsDir ? { modelsDir: config.modelsDir } : {}) });
  }
  // Imported on demand: a local oracle never loads golem-js.
  const { createGolemExecutor } = await import("../executors/golem/executor.ts");
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
