/**
 * A chunk's attempts: it borrows a provider from its pool and runs on it; a provider
 * that fails, times out or answers wrongly is destroyed (never released back to the
 * pool) and banned, and the chunk moves on to another one, up to `maxAttempts`. A
 * provider that answered correctly is released for the next chunk.
 */
import type { ResourceRental } from "@golem-sdk/golem-js";
import type { Chunk, ChunkOutcome } from "../executor.ts";
import { ExecutorError } from "../executor.ts";
import { type AttemptOptions, attemptOn } from "./attempt.ts";
import type { GolemExecutorConfig } from "./config.ts";
import type { CostLedger } from "./costs.ts";
import type { RentalPool } from "./pools.ts";
import type { ProviderBans } from "./provider-bans.ts";
import type { ProviderReputation } from "./reputation.ts";
import type { AttemptReport, ExecutorLogger, GolemExecutorHooks } from "./reporting.ts";
import { callHook, providerRef } from "./reporting.ts";

export interface RetryContext {
  settings: Pick<GolemExecutorConfig, "maxAttempts" | "acquireTimeoutMs" | "deployTimeoutMs" | "attemptTimeoutMs" | "entryCommand">;
  ledger: CostLedger;
  bans: ProviderBans;
  /** Counts each failed attempt against its provider. */
  reputation: ProviderReputation;
  logger: ExecutorLogger;
  hooks: GolemExecutorHooks;
  /** The session's file transfers, once connected (for a download cut off at the results cap). */
  downloads?: () => AttemptOptions["downloads"];
}

/**
 * Runs the chunk on the pool's providers, one after another, until one answers
 * correctly. Throws an ExecutorError: `abandoned(attempts)` once `signal` aborts, else
 * one saying why no provider answered.
 */
export async function runOnProviders(
  context: RetryContext,
  chunk: Chunk,
  files: ReadonlyMap<string, Uint8Array>,
  /** The image's current pool; asked again for each attempt, as it is replaced before its demand expires. */
  currentPool: () => Promise<RentalPool>,
  signal: AbortSignal,
  abandoned: (attempts: number) => ExecutorError,
  /** Providers this run must not use (those that already computed the chunk, for an audit). */
  avoid: ReadonlySet<string> = new Set(),
): Promise<ChunkOutcome> {
  const { settings, ledger, bans, logger, hooks } = context;
  const failedOn = new Set<string>();
  const failures: string[] = [];
  let estimatedCost = 0;
  for (let attempt = 1; attempt <= settings.maxAttempts; attempt++) {
    if (signal.aborted) throw abandoned(attempt - 1);
    let rental: ResourceRental;
    let pool: RentalPool;
    try {
      pool = await currentPool();
      rental = await pool.acquire(failedOn, AbortSignal.any([signal, AbortSignal.timeout(settings.acquireTimeoutMs)]), avoid);
    } catch (error) {
      if (signal.aborted) throw abandoned(attempt - 1);
      const tried = failures.length > 0 ? ` (after ${failures.join("; ")})` : "";
      throw new ExecutorError(`no Golem provider for chunk ${chunk.id} within ${settings.acquireTimeoutMs} ms${tried}`, attempt - 1, {
        cause: error,
      });
    }

    const provider = providerRef(rental.agreement.provider);
    const started = performance.now();
    const result = await attemptOn(
      rental,
      chunk,
      files,
      {
        entryCommand: settings.entryCommand,
        downloads: context.downloads?.(),
        deployTimeoutMs: settings.deployTimeoutMs,
        attemptTimeoutMs: settings.attemptTimeoutMs,
        logger,
      },
      signal,
    );
    const durationMs = performance.now() - started;
    const cost = ledger.recordUse(rental.agreement.id, provider, chunk.id, durationMs);
    estimatedCost += cost;
    const report: AttemptReport = {
      chunkId: chunk.id,
      attempt,
      outcome: result.outcome,
      provider,
      agreementId: rental.agreement.id,
      durationMs: Math.round(durationMs),
      estimatedCost: cost,
      ...(result.summary === undefined ? {} : { summary: result.summary }),
      ...(result.error === undefined ? {} : { error: result.error }),
    };
    callHook(logger, hooks.onAttempt, report);

    if (result.outcome === "ok" && result.results) {
      logger.info(
        { chunkId: chunk.id, attempt, provider: provider.id, name: provider.name, ms: report.durationMs, summary: result.summary },
        "chunk computed on Golem",
      );
      // Awaited so that the next chunk finds the provider in the pool.
      await pool.release(rental).catch((error: unknown) => logger.warn({ err: error }, "releasing a Golem provider failed"));
      return { results: result.results, attempts: attempt, computedBy: { executor: "golem", provider }, cost: estimatedCost };
    }

    pool.destroy(rental);
    if (result.outcome === "aborted") throw abandoned(attempt);
    failedOn.add(provider.id);
    bans.ban(provider.id);
    context.reputation.failed(provider);
    failures.push(`attempt ${attempt} on ${provider.id} ${result.outcome}: ${result.error}`);
    logger.warn(
      { chunkId: chunk.id, attempt, provider: provider.id, name: provider.name, outcome: result.outcome, error: result.error },
      "Golem attempt failed; the provider is destroyed",
    );
  }
  throw new ExecutorError(
    `chunk ${chunk.id} failed on ${settings.maxAttempts} Golem providers: ${failures.join("; ")}`,
    settings.maxAttempts,
  );
}
