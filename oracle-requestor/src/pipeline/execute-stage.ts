/**
 * Runs ready requests in chunks on the executor, never more at once than it has
 * capacity for. A chunk that fails as a whole (after the executor's own retries)
 * puts its requests back with a back-off; results are recorded one by one, so a
 * broken image only ever affects its own request.
 */
import type { Logger } from "pino";
import { BATCH_SCHEMA_VERSION, type BatchDescription } from "@argus/protocol/batch";
import { resultBytes, withComputedBy } from "@argus/protocol/result";
import { executorModelTerms, type ModelRegistryReader } from "../intake/model-registry.ts";
import { type Chunk, type ChunkOutcome, type Executor, ExecutorError } from "../executors/executor.ts";
import type { AuditEvidenceStore } from "../store/audit-evidence.ts";
import type { RequestStore, StoredRequest } from "../store/request-store.ts";
import { planChunks, type ChunkPlanOptions } from "./chunk-plan.ts";
import type { ImageSpool } from "./image-spool.ts";
import { backoffMs } from "./fetch-stage.ts";
import { recordResult } from "./record-result.ts";

export interface ChunkReport {
  chunkId: string;
  modelId: number;
  size: number;
  outcome?: ChunkOutcome;
  error?: Error;
  durationMs: number;
}

export class ExecuteStage {
  private readonly store: RequestStore;
  private readonly executor: Executor;
  private readonly spool: ImageSpool;
  private readonly registry: ModelRegistryReader;
  private readonly options: ChunkPlanOptions & { maxReady: number; deadlineMarginS: number };
  private readonly log: Logger;
  private readonly onChunk: (report: ChunkReport) => void;
  private readonly evidence: AuditEvidenceStore | undefined;
  private readonly running = new Set<Promise<void>>();
  private paused = false;
  private sequence = 0;

  constructor(deps: {
    store: RequestStore;
    executor: Executor;
    spool: ImageSpool;
    registry: ModelRegistryReader;
    options: ChunkPlanOptions & { maxReady: number; deadlineMarginS: number };
    log: Logger;
    onChunk?: (report: ChunkReport) => void;
    /** Where disagreements between providers are kept (and then pinned). */
    evidence?: AuditEvidenceStore;
  }) {
    this.store = deps.store;
    this.executor = deps.executor;
    this.spool = deps.spool;
    this.registry = deps.registry;
    this.options = deps.options;
    this.log = deps.log;
    this.onChunk = deps.onChunk ?? (() => {});
    this.evidence = deps.evidence;
  }

  get inFlight(): number {
    return this.running.size;
  }

  /** Stops starting new chunks (chunks already running finish). */
  pause(paused: boolean): void {
    this.paused = paused;
  }

  /**
   * Starts as many chunks as are due and fit; returns how many it started. A ready
   * request too close to its deadline (chain time) is not started: a request whose
   * chunks kept failing ends there, and its requester reclaims the fee.
   */
  dispatch(now: number, chainNowS: bigint): number {
    const free = this.executor.capacity - this.running.size;
    if (this.paused || free <= 0) return 0;
    const ready = this.store
      .inState("ready", this.options.maxReady, now)
      .filter((request) => {
        if (chainNowS + BigInt(this.options.deadlineMarginS) <= request.deadline) return true;
        this.store.markExpired(request.requestId, `its deadline passed before it could be computed (${request.attempts} failed attempts)`);
        void this.spool.delete(request.requestId);
        return false;
      })
      .map((request) => ({ ...request, imageSize: request.imageSize ?? 0 }));
    const chunks = planChunks(ready, this.options, now, free);
    for (const requests of chunks) {
      const chunkId = `c${now.toString(36)}-${(this.sequence++).toString(36)}`;
      this.store.markRunning(
        requests.map((request) => request.requestId),
        chunkId,
      );
      const run = this.run(chunkId, requests).finally(() => this.running.delete(run));
      this.running.add(run);
    }
    return chunks.length;
  }

  /** Resolves when every running chunk has finished. */
  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  private async run(chunkId: string, requests: StoredRequest[]): Promise<void> {
    const started = Date.now();
    const modelId = requests[0]!.modelId;
    const log = this.log.child({ chunkId, modelId, size: requests.length });
    try {
      const { chunk, members } = await this.assemble(chunkId, requests);
      if (members.length === 0) return;
      const outcome = await this.executor.run(chunk);
      if (outcome.evidence) this.keepEvidence(chunkId, modelId, outcome.evidence, log);
      for (const [index, request] of members.entries()) {
        const result = withComputedBy(outcome.results[index]!, outcome.computedBy);
        const recorded = await recordResult(this.store, request, result, Date.now() + backoffMs(request.attempts));
        if (recorded === "computed") this.store.cacheResult(request.modelId, request.imageCid, resultBytes(result));
        if (recorded !== "retry") await this.spool.delete(request.requestId);
      }
      log.info(
        { attempts: outcome.attempts, computedBy: outcome.computedBy, cost: outcome.cost, ms: Date.now() - started },
        "chunk computed",
      );
      this.onChunk({ chunkId, modelId, size: members.length, outcome, durationMs: Date.now() - started });
    } catch (error) {
      if (error instanceof ExecutorError && error.evidence) this.keepEvidence(chunkId, modelId, error.evidence, log);
      log.warn({ err: (error as Error).message }, "chunk failed; its requests will run again");
      for (const request of requests) {
        if (this.store.get(request.requestId)?.state === "running") {
          this.store.retryLater(request.requestId, "ready", (error as Error).message, Date.now() + backoffMs(request.attempts));
        }
      }
      this.onChunk({ chunkId, modelId, size: requests.length, error: error as Error, durationMs: Date.now() - started });
    }
  }

  /** Records the answers a disagreement was decided on (before any result of the chunk), for the pin stage. */
  private keepEvidence(chunkId: string, modelId: number, evidence: NonNullable<ChunkOutcome["evidence"]>, log: Logger): void {
    if (this.evidence === undefined) return;
    const id = this.evidence.record(chunkId, modelId, evidence);
    log.warn(
      {
        disagreement: id,
        requests: evidence.requestIds,
        outvoted: evidence.answers.filter((answer) => answer.outvoted).map((answer) => answer.by),
      },
      "providers disagreed on the chunk; every answer is kept and will be pinned",
    );
  }

  /** The chunk's batch description and images; a request whose spooled image vanished is fetched again. */
  private async assemble(chunkId: string, requests: StoredRequest[]): Promise<{ chunk: Chunk; members: StoredRequest[] }> {
    const model = await this.registry.get(requests[0]!.modelId);
    const images = new Map<string, Uint8Array>();
    const members: StoredRequest[] = [];
    for (const request of requests) {
      const bytes = await this.spool.get(request.requestId);
      if (bytes === undefined) {
        this.store.retryLater(request.requestId, "received", "its spooled image was lost; fetching again", Date.now(), false);
        continue;
      }
      images.set(`${members.length}.img`, bytes);
      members.push(request);
    }
    const batch: BatchDescription = {
      batchVersion: BATCH_SCHEMA_VERSION,
      modelId: model.name,
      requests: members.map((request, index) => ({
        requestId: request.requestId.toString(),
        imageCid: request.imageCid,
        imageFile: `${index}.img`,
      })),
    };
    const chunk: Chunk = {
      id: chunkId,
      batch,
      images,
      ...executorModelTerms(model),
    };
    return { chunk, members };
  }
}
