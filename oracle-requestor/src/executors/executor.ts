/**
 * Where chunks run. A chunk is one batch of at most 16 requests for one model, with
 * its image bytes; an executor runs the provider image's entry command on it and
 * returns the validated results. Two implementations: `local` (a child process on
 * this machine, the default) and `golem` (rented provider nodes through golem-js).
 */
import type { BatchDescription } from "@argus/protocol/batch";
import type { ComputedBy, InferenceResult } from "@argus/protocol/result";

export interface Chunk {
  /** Unique and stable across retries, for logs and metrics. */
  id: string;
  /** Exactly what `batch.json` will contain. */
  batch: BatchDescription;
  /** Each request's image, by the `imageFile` name the batch gives it. */
  images: ReadonlyMap<string, Uint8Array>;
  /** The registry's sha256 of the model's weights (hex); results must report the same. */
  weightsSha256: string;
  /** The registry's Golem image hash (hex, no 0x), where the model runs on Golem. */
  providerImageHash?: string;
}

export interface ChunkOutcome {
  /** One per request, in the batch's order, validated against the batch. */
  results: InferenceResult[];
  /** How many runs it took (1 when the first provider answered correctly). */
  attempts: number;
  /** Who computed it: the executor and, on Golem, the provider that gave the accepted answer. */
  computedBy: ComputedBy;
  /** What the computation cost, in the payment platform's token (GLM); 0 locally. */
  cost: number;
  /** Golem cross-checks: the answers a disagreement was decided on (the oracle pins them). */
  evidence?: DisagreementEvidence;
}

/**
 * Two or more answers for the same chunk that disagree: who gave each, which lost, and
 * the requests they differ on. Kept and pinned, so a ban can be justified to anyone.
 */
export interface DisagreementEvidence {
  requestIds: string[];
  answers: {
    /** A Golem provider, or the oracle's own engine (`audit.local`). */
    by: { id: string; name: string } | "oracle";
    /** This answer lost and its author was banned. */
    outvoted: boolean;
    /** The answer's results, as validated against the batch (before the oracle adds `computedBy`). */
    results: InferenceResult[];
  }[];
}

/** What an executor knows of a provider from the chunks it ran (Golem's cross-checks). */
export interface ProviderRecord {
  id: string;
  name: string;
  chunks: number;
  audited: number;
  agreed: number;
  disagreed: number;
  /** Outvoted by a third provider: banned. */
  outvoted: number;
  /** Attempts that failed on it (crash, timeout, invalid results). */
  failures: number;
  totalMs: number;
}

export interface Executor {
  readonly kind: "local" | "golem";
  /** The providers it has used, with their record (Golem); none for the local executor. */
  providers?(): ProviderRecord[];
  /** How many chunks it runs at once; the oracle never gives it more. */
  readonly capacity: number;
  /**
   * Runs one chunk. Rejects only when the chunk could not be computed at all after the
   * executor's own retries; per-image problems are error entries in the results.
   */
  run(chunk: Chunk, signal?: AbortSignal): Promise<ChunkOutcome>;
  /** Finishes or abandons work in flight and releases every resource. */
  close(): Promise<void>;
}

/** The chunk could not be computed (after the executor's own retries). */
export class ExecutorError extends Error {
  override name = "ExecutorError";
  readonly attempts: number;
  /** Answers that disagreed with no majority among them (Golem cross-checks). */
  readonly evidence: DisagreementEvidence | undefined;
  constructor(message: string, attempts: number, options?: ErrorOptions & { evidence?: DisagreementEvidence }) {
    super(message, options);
    this.attempts = attempts;
    this.evidence = options?.evidence;
  }
}
