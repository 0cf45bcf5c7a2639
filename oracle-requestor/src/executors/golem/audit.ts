/**
 * Cross-checking providers: a provider is not trusted, so some chunks are computed twice,
 * on two different providers, and compared with @argus/protocol's compareResults (the
 * same definition `argus verify --recompute` uses). Every chunk of a provider's first
 * `firstChunks` is audited, then a share `rate` of the rest. When the two disagree a
 * third provider decides: the one it outvotes is banned for good and none of its answers
 * is used; with no majority the chunk fails (and is retried later). What was checked is
 * recorded in each result's `computedBy.audit`.
 */
import { compareResults } from "@argus/protocol/compare-results";
import type { ProviderReputation } from "./reputation.ts";
import type { AuditRecord, InferenceResult } from "@argus/protocol/result";
import type { ChunkOutcome } from "../executor.ts";
import { ExecutorError } from "../executor.ts";

export interface AuditPolicy {
  /** False when three providers cannot be rented at once (poolSize < 3): every answer is unaudited. */
  enabled: boolean;
  /** Share of a known provider's chunks that are audited (0–1). */
  rate: number;
  /** A provider's first chunks are all audited. */
  firstChunks: number;
  /** [0, 1): whether this chunk is drawn for an audit. */
  random: () => number;
}

/** Runs the chunk once on a provider not in `avoid`; the outcome names the provider. */
export type RunOnce = (avoid: ReadonlySet<string>) => Promise<ChunkOutcome & { durationMs: number }>;

export interface AuditDeps {
  policy: AuditPolicy;
  reputation: ProviderReputation;
  /** Bans a provider whose answer lost, for good. */
  banLiar(providerId: string, reason: string): void;
  log(details: object, message: string): void;
}

function providerOf(outcome: ChunkOutcome): { id: string; name: string } {
  const provider = outcome.computedBy.provider;
  if (provider === undefined) throw new Error("a Golem outcome names its provider");
  return provider;
}

/** The requests whose answers differ between two runs of the same chunk. */
function disagreements(a: readonly InferenceResult[], b: readonly InferenceResult[]): string[] {
  return a.filter((result, index) => !compareResults(result, b[index]!).agree).map((result) => result.requestId);
}

function withAudit(outcome: ChunkOutcome, audit: AuditRecord, extraCost: number, extraAttempts: number): ChunkOutcome {
  return {
    ...outcome,
    attempts: outcome.attempts + extraAttempts,
    cost: outcome.cost + extraCost,
    computedBy: { ...outcome.computedBy, audit },
  };
}

export async function runAudited(runOnce: RunOnce, deps: AuditDeps): Promise<ChunkOutcome> {
  const { policy, reputation } = deps;
  const first = await runOnce(new Set());
  const firstProvider = reputation.record(providerOf(first));
  const isNew = firstProvider.chunks < policy.firstChunks;
  firstProvider.chunks += 1;
  firstProvider.totalMs += first.durationMs;
  if (!policy.enabled || (!isNew && policy.random() >= policy.rate)) return withAudit(first, "unaudited", 0, 0);

  let second: Awaited<ReturnType<RunOnce>>;
  try {
    second = await runOnce(new Set([firstProvider.id]));
  } catch (error) {
    // No second provider could be had: the answer goes out saying it was not cross-checked.
    deps.log({ provider: firstProvider.id, err: error }, "no second provider to audit the chunk; its answer is unaudited");
    return withAudit(first, "unaudited", 0, 0);
  }
  const secondProvider = reputation.record(providerOf(second));
  secondProvider.chunks += 1;
  secondProvider.totalMs += second.durationMs;
  firstProvider.audited += 1;
  secondProvider.audited += 1;
  const differing = disagreements(first.results, second.results);
  if (differing.length === 0) {
    firstProvider.agreed += 1;
    secondProvider.agreed += 1;
    return withAudit(first, { providers: 2, agreed: true }, second.cost, second.attempts);
  }

  firstProvider.disagreed += 1;
  secondProvider.disagreed += 1;
  deps.log(
    { first: firstProvider.id, second: secondProvider.id, requests: differing },
    "two providers disagree on a chunk; a third decides",
  );
  let third: Awaited<ReturnType<RunOnce>>;
  try {
    third = await runOnce(new Set([firstProvider.id, secondProvider.id]));
  } catch (error) {
    throw new ExecutorError(`providers ${firstProvider.id} and ${secondProvider.id} disagree and no third could decide`, 2, {
      cause: error,
    });
  }
  const thirdProvider = reputation.record(providerOf(third));
  thirdProvider.chunks += 1;
  thirdProvider.audited += 1;
  thirdProvider.totalMs += third.durationMs;
  const withFirst = disagreements(third.results, first.results).length === 0;
  const withSecond = disagreements(third.results, second.results).length === 0;
  if (withFirst === withSecond) {
    throw new ExecutorError(`three providers gave three answers for the chunk (${differing.length} requests differ)`, 3);
  }
  const [winner, loser] = withFirst ? [first, secondProvider] : [second, firstProvider];
  const runs = [first, second, third];
  const extraCost = runs.reduce((sum, run) => sum + run.cost, 0) - winner.cost;
  const extraAttempts = runs.reduce((sum, run) => sum + run.attempts, 0) - winner.attempts;
  thirdProvider.agreed += 1;
  loser.outvoted += 1;
  deps.banLiar(loser.id, `outvoted on ${differing.length} of ${first.results.length} answers`);
  return withAudit(winner, { providers: 3, agreed: false, outvoted: loser.id }, extraCost, extraAttempts);
}
