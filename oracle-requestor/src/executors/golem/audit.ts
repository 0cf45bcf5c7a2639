/**
 * Cross-checking providers: a provider is not trusted, so some chunks are computed twice
 * and compared with @argus/protocol's compareResults (the same definition `argus verify
 * --recompute` uses). Every chunk of a provider's first `firstChunks` is audited, and
 * every chunk of a doubtful one (too many failed attempts), then a share `rate` of the
 * rest. The second opinion is another provider, or — with
 * `audit.local` — the oracle's own engine.
 *
 * - Two providers disagree: a third decides; the one it outvotes is banned for good and
 *   none of its answers is used; with no majority the chunk fails (and is retried later).
 * - A provider disagrees with the oracle's engine: the engine is the reference the oracle
 *   trusts (exact on every CPU), so the provider is banned at once and the chunk's
 *   answer is the engine's; a third run could only confirm or contradict the referee.
 *
 * What was checked is recorded in each result's `computedBy.audit`, and every
 * disagreement carries the answers it was decided on (`evidence`), which the oracle pins.
 */
import { compareResults } from "@argus/protocol/compare-results";
import type { AuditRecord, InferenceResult } from "@argus/protocol/result";
import type { ChunkOutcome, DisagreementEvidence, ProviderRecord } from "../executor.ts";
import { ExecutorError } from "../executor.ts";
import type { ProviderReputation } from "./reputation.ts";

export interface AuditPolicy {
  /** False when the second and third opinions cannot be had (see the executor): every answer is unaudited. */
  enabled: boolean;
  /** Share of a known provider's chunks that are audited (0–1). */
  rate: number;
  /** A provider's first chunks are all audited. */
  firstChunks: number;
  /** [0, 1): whether this chunk is drawn for an audit. */
  random: () => number;
}

type TimedOutcome = ChunkOutcome & { durationMs: number };

/** Below this share of successful attempts (once it counts, see reputation.ts) every chunk of a provider is audited. */
export const DOUBTFUL_SUCCESS_SHARE = 0.9;

/** Runs the chunk once on a provider not in `avoid`; the outcome names the provider. */
export type RunOnce = (avoid: ReadonlySet<string>) => Promise<TimedOutcome>;

export interface AuditDeps {
  policy: AuditPolicy;
  reputation: ProviderReputation;
  /** `audit.local`: runs the chunk on the oracle's own engine, the second opinion it trusts. */
  runLocally?: () => Promise<ChunkOutcome>;
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

function withAudit(outcome: ChunkOutcome, audit: AuditRecord | undefined, extra: readonly ChunkOutcome[]): ChunkOutcome {
  return {
    ...outcome,
    attempts: outcome.attempts + extra.reduce((sum, run) => sum + run.attempts, 0),
    cost: outcome.cost + extra.reduce((sum, run) => sum + run.cost, 0),
    computedBy: audit === undefined ? outcome.computedBy : { ...outcome.computedBy, audit },
  };
}

/** Counts one more chunk run by the provider of `outcome`. */
function counted(reputation: ProviderReputation, outcome: TimedOutcome): ProviderRecord {
  const record = reputation.record(providerOf(outcome));
  record.chunks += 1;
  record.totalMs += outcome.durationMs;
  return record;
}

/** The answers a disagreement was decided on, each with its author and whether it lost. */
function evidence(requestIds: string[], answers: { outcome: ChunkOutcome; outvoted: boolean }[]): DisagreementEvidence {
  return {
    requestIds,
    answers: answers.map(({ outcome, outvoted }) => ({
      by: outcome.computedBy.provider ?? "oracle",
      outvoted,
      results: outcome.results,
    })),
  };
}

export async function runAudited(runOnce: RunOnce, deps: AuditDeps): Promise<ChunkOutcome> {
  const { policy, reputation } = deps;
  const first = await runOnce(new Set());
  const firstProvider = reputation.record(providerOf(first));
  const isNew = firstProvider.chunks < policy.firstChunks;
  // A provider whose attempts often fail (crashes, timeouts, invalid results files) is doubtful: every chunk is checked.
  const doubtful = reputation.successShare(firstProvider.id) < DOUBTFUL_SUCCESS_SHARE;
  counted(reputation, first);
  if (!policy.enabled || (!isNew && !doubtful && policy.random() >= policy.rate)) return withAudit(first, "unaudited", []);
  if (deps.runLocally) return checkedLocally(first, firstProvider, deps.runLocally, deps);

  let second: TimedOutcome;
  try {
    second = await runOnce(new Set([firstProvider.id]));
  } catch (error) {
    // No second provider could be had: the answer goes out saying it was not cross-checked.
    deps.log({ provider: firstProvider.id, err: error }, "no second provider to audit the chunk; its answer is unaudited");
    return withAudit(first, "unaudited", []);
  }
  const secondProvider = counted(reputation, second);
  firstProvider.audited += 1;
  secondProvider.audited += 1;
  const differing = disagreements(first.results, second.results);
  if (differing.length === 0) {
    firstProvider.agreed += 1;
    secondProvider.agreed += 1;
    return withAudit(first, { providers: 2, agreed: true }, [second]);
  }

  firstProvider.disagreed += 1;
  secondProvider.disagreed += 1;
  deps.log(
    { first: firstProvider.id, second: secondProvider.id, requests: differing },
    "two providers disagree on a chunk; a third decides",
  );
  let third: TimedOutcome;
  try {
    third = await runOnce(new Set([firstProvider.id, secondProvider.id]));
  } catch (error) {
    throw new ExecutorError(`providers ${firstProvider.id} and ${secondProvider.id} disagree and no third could decide`, 2, {
      cause: error,
      evidence: evidence(differing, [
        { outcome: first, outvoted: false },
        { outcome: second, outvoted: false },
      ]),
    });
  }
  const thirdProvider = counted(reputation, third);
  thirdProvider.audited += 1;
  const withFirst = disagreements(third.results, first.results).length === 0;
  const withSecond = disagreements(third.results, second.results).length === 0;
  if (withFirst === withSecond) {
    throw new ExecutorError(`three providers gave three answers for the chunk (${differing.length} requests differ)`, 3, {
      evidence: evidence(differing, [
        { outcome: first, outvoted: false },
        { outcome: second, outvoted: false },
        { outcome: third, outvoted: false },
      ]),
    });
  }
  const [winner, loser] = withFirst ? [first, secondProvider] : [second, firstProvider];
  thirdProvider.agreed += 1;
  loser.outvoted += 1;
  deps.banLiar(loser.id, `outvoted on ${differing.length} of ${first.results.length} answers`);
  const decided = withAudit(
    winner,
    { providers: 3, agreed: false, outvoted: loser.id },
    [first, second, third].filter((run) => run !== winner),
  );
  return {
    ...decided,
    evidence: evidence(differing, [
      { outcome: first, outvoted: loser === firstProvider },
      { outcome: second, outvoted: loser === secondProvider },
      { outcome: third, outvoted: false },
    ]),
  };
}

/** `audit.local`: the oracle's engine recomputes the chunk and is the referee. */
async function checkedLocally(
  first: TimedOutcome,
  provider: ProviderRecord,
  runLocally: () => Promise<ChunkOutcome>,
  deps: AuditDeps,
): Promise<ChunkOutcome> {
  let local: ChunkOutcome;
  try {
    local = await runLocally();
  } catch (error) {
    deps.log({ provider: provider.id, err: error }, "the oracle's engine could not recompute the chunk; its answer is unaudited");
    return withAudit(first, "unaudited", []);
  }
  provider.audited += 1;
  const differing = disagreements(first.results, local.results);
  if (differing.length === 0) {
    provider.agreed += 1;
    return withAudit(first, { recomputedByOracle: true, agreed: true }, [local]);
  }
  provider.disagreed += 1;
  provider.outvoted += 1;
  deps.banLiar(provider.id, `contradicted by the oracle's own engine on ${differing.length} of ${first.results.length} answers`);
  // The engine's answer is the one given out, as the local executor's own.
  return {
    ...withAudit(local, undefined, [first]),
    evidence: evidence(differing, [
      { outcome: first, outvoted: true },
      { outcome: local, outvoted: false },
    ]),
  };
}
