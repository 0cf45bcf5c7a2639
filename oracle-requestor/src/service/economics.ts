/**
 * What the oracle earns and spends: chunk and settlement metrics, and one "batch
 * economics" log line per settlement transaction, setting the fees it credited against
 * its gas and the estimated Golem cost of the chunks computed since the last one.
 */
import type { Logger } from "pino";
import { type OracleMetrics, toUnits } from "../metrics.ts";
import type { ChunkReport } from "../pipeline/execute-stage.ts";
import type { SettlementReport } from "../pipeline/settle-stage.ts";

const NATIVE_TOKEN = "0x0000000000000000000000000000000000000000";

export class Economics {
  readonly #metrics: OracleMetrics;
  readonly #log: Logger;
  /** Estimated Golem cost (GLM) of the chunks computed since the last settlement, by model. */
  readonly #golemCostByModel = new Map<number, number>();

  constructor(metrics: OracleMetrics, log: Logger) {
    this.#metrics = metrics;
    this.#log = log;
  }

  chunkDone(report: ChunkReport): void {
    this.#metrics.stageSeconds.observe({ stage: "execute" }, report.durationMs / 1000);
    if (report.error) this.#metrics.executorFailures.inc();
    else {
      this.#metrics.chunkSize.observe(report.size);
      if (report.outcome) {
        const { executor, provider } = report.outcome.computedBy;
        this.#metrics.chunksComputed.inc({ executor, provider: provider?.id ?? "", provider_name: provider?.name ?? "" });
      }
      this.#golemCostByModel.set(report.modelId, (this.#golemCostByModel.get(report.modelId) ?? 0) + (report.outcome?.cost ?? 0));
    }
  }

  settled(report: SettlementReport): void {
    const metrics = this.#metrics;
    metrics.settlementTransactions.inc({ kind: report.kind });
    metrics.gasSpentEth.inc(toUnits(report.gasCostWei));
    for (const [token, amount] of report.feesCredited) metrics.feesEarned.inc({ token }, toUnits(amount));
    for (const seconds of report.latenciesS) metrics.requestLatencySeconds.observe({ outcome: report.kind }, seconds);
    const feesWei = report.feesCredited.get(NATIVE_TOKEN) ?? 0n;
    const golemCost = [...this.#golemCostByModel.values()].reduce((sum, cost) => sum + cost, 0);
    this.#golemCostByModel.clear();
    this.#log.info(
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
}
