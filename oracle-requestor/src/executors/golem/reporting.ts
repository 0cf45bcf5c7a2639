/**
 * What the Golem executor tells its host: logs (a pino logger fits), and hooks for
 * metrics that are called as things happen.
 */
import type { Logger as GolemLogger } from "@golem-sdk/golem-js";
import type { AgreementCost, ProviderRef } from "./costs.ts";
import type { RecoveryReport } from "./recovery.ts";

/** A pino logger fits; so does anything with these four methods. */
export interface ExecutorLogger {
  debug(details: object, message?: string): void;
  info(details: object, message?: string): void;
  warn(details: object, message?: string): void;
  error(details: object, message?: string): void;
}

export const SILENT_LOGGER: ExecutorLogger = { debug() {}, info() {}, warn() {}, error() {} };

export type AttemptOutcome = "ok" | "failed" | "invalid-results" | "timeout" | "aborted";

export interface AttemptReport {
  chunkId: string;
  /** 1 for the chunk's first attempt. */
  attempt: number;
  outcome: AttemptOutcome;
  provider: ProviderRef;
  agreementId: string;
  /** From borrowing the provider to the verdict (deploy on first use included). */
  durationMs: number;
  /** Estimated price of the attempt in GLM (see costs.ts). */
  estimatedCost: number;
  /** What the provider's entry command printed on success (its own claim: for logs only). */
  summary?: string;
  error?: string;
}

export interface AllocationReport {
  allocationId: string;
  remainingGlm: number;
  /** When yagna stops accepting invoices against it (ISO 8601), if it ever does. */
  expiresAt?: string;
  /** Created by this check: the first allocation, or one replacing an allocation that could not fund the chunk. */
  created: boolean;
  /** Why the previous allocation was replaced. */
  renewalReason?: string;
}

/** An agreement signed with a provider (it is paid from the current allocation). */
export interface AgreementReport {
  agreementId: string;
  provider: ProviderRef;
}

/** A debit note golem-js accepted: what the provider says the agreement's activity has cost so far. */
export interface DebitNoteReport {
  agreementId: string;
  provider: ProviderRef;
  /** The note's total amount due for the activity, in GLM (cumulative, not an increment). */
  totalAmountDueGlm: number;
}

/** Callbacks for metrics; they must not throw. */
export interface GolemExecutorHooks {
  onAttempt?(report: AttemptReport): void;
  onAgreementSigned?(report: AgreementReport): void;
  onDebitNoteAccepted?(report: DebitNoteReport): void;
  /** An agreement's invoice was accepted: its actual cost (GLM spent), split over the chunks that used it. */
  onAgreementCost?(cost: AgreementCost): void;
  /** The allocation that funds the next chunk, as yagna reported it before that chunk. */
  onAllocation?(report: AllocationReport): void;
  /** What a previous run had left open on yagna was closed (or left for the next start). */
  onRecovery?(report: RecoveryReport): void;
}

/** Calls a hook; one that throws anyway is logged, so that a metrics bug cannot fail a chunk. */
export function callHook<T>(logger: ExecutorLogger, hook: ((value: T) => void) | undefined, value: T): void {
  try {
    hook?.(value);
  } catch (error) {
    logger.warn({ err: error }, "a Golem executor hook threw");
  }
}

/** golem-js's logger interface on top of ours; its chatty `info` goes to debug. */
export function golemLogger(logger: ExecutorLogger, namespace: string): GolemLogger {
  const at =
    (level: keyof ExecutorLogger) =>
    (message: string, context?: unknown): void =>
      logger[level](context instanceof Error ? { golem: namespace, err: context } : { golem: namespace, context }, message);
  return {
    child: (name) => golemLogger(logger, `${namespace}:${name}`),
    debug: at("debug"),
    info: at("debug"),
    warn: at("warn"),
    error: at("warn"),
  };
}

/** A provider as golem-js describes it; its name comes from its offer and may be missing there. */
export function providerRef(provider: { id: string; name?: string | undefined }): ProviderRef {
  return { id: provider.id, name: typeof provider.name === "string" ? provider.name : "" };
}
