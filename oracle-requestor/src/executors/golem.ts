/**
 * The Golem executor: chunks run on providers rented through golem-js 3.6.
 *
 * - One `manyOf` rental pool per provider image (a chunk names its model's registry
 *   image hash; the configured hash or tag is the fallback), created on first use, at
 *   most `poolSize` providers each, with the configured CPU/memory/storage minimums and
 *   price limits, paid from one allocation on the configured network (`hoodi` or
 *   `polygon`, never golem-js's Holesky default).
 * - An attempt borrows a provider, runs one ExeScript on it (golem-attempt.ts) under
 *   its own timer, and validates what comes back. A provider that fails, times out or
 *   answers wrongly is destroyed (never released back to the pool) and avoided for
 *   `providerBanMinutes`; the chunk moves on to another provider, up to `maxAttempts`.
 *   A provider that answered correctly is released for the next chunk.
 * - `getExeUnit()` is called without a timeout: in golem-js 3.6 a timeout given there
 *   stays attached to the exe-unit and kills it when it elapses, even after success.
 * - Costs: see golem-costs.ts. `ChunkOutcome.cost` is the estimate from the agreed
 *   prices; accepted invoices are reported per agreement through `hooks.onAgreementCost`
 *   and `costReport()`.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GolemNetwork } from "@golem-sdk/golem-js";
import type {
  Allocation,
  GolemNetworkOptions,
  Logger as GolemLogger,
  MarketOrderSpec,
  OfferProposal,
  ResourceRental,
  ResourceRentalPool,
} from "@golem-sdk/golem-js";
import type { InferenceResult } from "@argus/provider-image/protocol/result";
import type { Chunk, ChunkOutcome, Executor } from "./executor.ts";
import { ExecutorError } from "./executor.ts";
import { AttemptFailure, chunkInputFiles, computeChunk } from "./golem-attempt.ts";
import type { AgreementCost, CostReport, ProviderRef } from "./golem-costs.ts";
import { CostLedger } from "./golem-costs.ts";
import type { GolemExecutorConfig, GolemExecutorConfigInput } from "./golem-config.ts";
import { GolemConfigError, golemImageHash, isNoImageHash, loadGolemConfig } from "./golem-config.ts";

/** A pino logger fits; so does anything with these four methods. */
export interface ExecutorLogger {
  debug(details: object, message?: string): void;
  info(details: object, message?: string): void;
  warn(details: object, message?: string): void;
  error(details: object, message?: string): void;
}

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
  /** Estimated price of the attempt in GLM (see golem-costs.ts). */
  estimatedCost: number;
  error?: string;
}

/** Callbacks for metrics; they must not throw. */
export interface GolemExecutorHooks {
  onAttempt?(report: AttemptReport): void;
  /** An agreement's invoice was accepted: its actual cost, split over the chunks that used it. */
  onAgreementCost?(cost: AgreementCost): void;
}

export interface GolemExecutorDeps {
  logger?: ExecutorLogger;
  hooks?: GolemExecutorHooks;
  /**
   * Replaces golem-js services (`GolemNetworkOptions.override`): the tests swap the
   * yagna-facing ones (yagna, market, activity and payment APIs, storage) for fakes.
   */
  override?: GolemNetworkOptions["override"];
}

export interface GolemExecutor extends Executor {
  readonly kind: "golem";
  /** Connects to yagna and creates the allocation; `run` does it on first use otherwise. */
  ready(): Promise<void>;
  /** Accepted invoices so far and agreements still awaiting theirs. */
  costReport(): CostReport;
}

interface Session {
  glm: GolemNetwork;
  allocation: Allocation;
}

/** The image a chunk orders, and the key of its pool. */
interface ImageOrder {
  key: string;
  workload: { imageHash?: string; imageUrl?: string; imageTag?: string };
}

interface AttemptResult {
  outcome: AttemptOutcome;
  results?: InferenceResult[];
  error?: string;
}

const SILENT: ExecutorLogger = { debug() {}, info() {}, warn() {}, error() {} };

export function createGolemExecutor(
  config: GolemExecutorConfig | GolemExecutorConfigInput = {},
  deps: GolemExecutorDeps = {},
): GolemExecutor {
  const settings = loadGolemConfig(config as GolemExecutorConfigInput, {});
  if (!settings.apiKey && !deps.override?.yagna) {
    throw new GolemConfigError("the Golem executor needs a yagna app key: set YAGNA_APPKEY (see oracle-requestor/GOLEM.md)");
  }
  const logger = deps.logger ?? SILENT;
  const hooks = deps.hooks ?? {};
  const ledger = new CostLedger();
  const bannedUntil = new Map<string, number>();
  const pools = new Map<string, Promise<ResourceRentalPool>>();
  const inFlight = new Set<Promise<unknown>>();
  const background = new Set<Promise<unknown>>();
  const closing = new AbortController();
  let session: Promise<Session> | undefined;
  let closed: Promise<void> | undefined;

  function track(set: Set<Promise<unknown>>, promise: Promise<unknown>): void {
    set.add(promise);
    void promise.finally(() => set.delete(promise));
  }

  function callHook<T>(hook: ((value: T) => void) | undefined, value: T): void {
    try {
      hook?.(value);
    } catch (error) {
      logger.warn({ err: error }, "a Golem executor hook threw");
    }
  }

  function connect(): Promise<Session> {
    session ??= openSession().catch((error: unknown) => {
      session = undefined;
      throw error;
    });
    return session;
  }

  async function openSession(): Promise<Session> {
    const glm = new GolemNetwork({
      logger: golemLogger(logger, "golem-js"),
      api: { key: settings.apiKey, url: settings.apiUrl },
      payment: { network: settings.paymentNetwork, driver: settings.paymentDriver },
      override: deps.override,
    });
    glm.events.on("error", (error) => logger.warn({ err: error }, "golem-js reported an error"));
    try {
      await glm.connect();
      const allocation = await glm.payment.createAllocation({
        budget: settings.budgetGlm,
        expirationSec: Math.round(settings.allocationHours * 3600),
      });
      glm.payment.events.on("invoiceAccepted", ({ invoice }) => {
        const amount = Number(invoice.amount);
        const cost = ledger.invoiced(invoice.agreementId, providerRef(invoice.provider), Number.isFinite(amount) ? amount : 0);
        logger.info({ agreementId: cost.agreementId, provider: cost.provider.id, amount: invoice.amount }, "accepted a Golem invoice");
        callHook(hooks.onAgreementCost, cost);
      });
      glm.payment.events.on("errorAcceptingInvoice", ({ invoice, error }) =>
        logger.error({ err: error, invoiceId: invoice.id, agreementId: invoice.agreementId }, "could not accept a Golem invoice"),
      );
      logger.info(
        { network: settings.paymentNetwork, platform: allocation.paymentPlatform, budget: settings.budgetGlm },
        "connected to yagna, allocation created",
      );
      return { glm, allocation };
    } catch (error) {
      await glm.disconnect().catch(() => undefined);
      throw error;
    }
  }

  function imageOrder(chunk: Chunk): ImageOrder {
    let hash: string | undefined;
    if (!isNoImageHash(chunk.providerImageHash)) {
      hash = golemImageHash(chunk.providerImageHash ?? "");
      if (hash === undefined) throw new ExecutorError(`chunk ${chunk.id} names an invalid Golem image hash ${chunk.providerImageHash}`, 0);
    }
    hash ??= settings.imageHash;
    if (hash !== undefined) {
      const imageUrl = settings.imageUrl?.replaceAll("{hash}", hash);
      return { key: `hash:${hash}`, workload: imageUrl ? { imageHash: hash, imageUrl } : { imageHash: hash } };
    }
    if (settings.imageTag) return { key: `tag:${settings.imageTag}`, workload: { imageTag: settings.imageTag } };
    throw new ExecutorError(
      `chunk ${chunk.id} (model ${chunk.batch.modelId}) has no Golem image: the registry gives none and ARGUS_GOLEM_IMAGE_HASH / ARGUS_GOLEM_IMAGE_TAG are not set`,
      0,
    );
  }

  function poolFor(image: ImageOrder): Promise<ResourceRentalPool> {
    let pool = pools.get(image.key);
    if (!pool) {
      pool = createPool(image).catch((error: unknown) => {
        pools.delete(image.key);
        throw error;
      });
      pools.set(image.key, pool);
    }
    return pool;
  }

  async function createPool(image: ImageOrder): Promise<ResourceRentalPool> {
    const { glm, allocation } = await connect();
    const order: MarketOrderSpec = {
      demand: {
        subnetTag: settings.subnetTag,
        workload: {
          ...image.workload,
          runtime: { name: "vm" },
          minCpuThreads: settings.minCpuThreads,
          minMemGib: settings.minMemGib,
          minStorageGib: settings.minStorageGib,
        },
      },
      market: {
        rentHours: settings.rentHours,
        pricing: {
          model: "linear",
          maxStartPrice: settings.maxStartPriceGlm,
          maxCpuPerHourPrice: settings.maxCpuPerHourGlm,
          maxEnvPerHourPrice: settings.maxEnvPerHourGlm,
        },
        // Sees every offer, and every draft again when it is taken from the pool.
        offerProposalFilter: (proposal) => {
          notePricing(proposal);
          return !isBanned(proposal.provider.id);
        },
      },
      payment: { allocation },
    };
    // A number would be the pool's minimum (and 100 its maximum); the pool grows on demand.
    const pool = await glm.manyOf({ poolSize: { min: 0, max: settings.poolSize }, order });
    pool.events.on("created", ({ agreement }) => {
      ledger.noteAgreement(agreement.id, providerRef(agreement.provider));
      logger.info({ agreementId: agreement.id, provider: agreement.provider.id, name: agreement.provider.name, image: image.key }, "signed a Golem agreement");
    });
    logger.info({ image: image.key, poolSize: settings.poolSize }, "created a Golem rental pool");
    return pool;
  }

  function notePricing(proposal: OfferProposal): void {
    try {
      const { start, envSec, cpuSec } = proposal.pricing;
      ledger.notePricing(proposal.provider.id, { start, envPerSec: envSec, cpuPerSec: cpuSec, cpuThreads: proposal.getDto().cpuThreads ?? 1 });
    } catch {
      // An offer without a readable price vector is rejected by golem-js anyway.
    }
  }

  function isBanned(providerId: string): boolean {
    const until = bannedUntil.get(providerId);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    bannedUntil.delete(providerId);
    return false;
  }

  /** Borrows a provider that is neither banned nor one this chunk already failed on. */
  async function acquire(pool: ResourceRentalPool, failedOn: ReadonlySet<string>, signal: AbortSignal): Promise<ResourceRental> {
    for (;;) {
      const rental = await pool.acquire(signal);
      const { id } = rental.agreement.provider;
      if (!isBanned(id) && !failedOn.has(id)) return rental;
      destroy(pool, rental);
    }
  }

  /** Ends the agreement in the background (the retry does not wait for the invoice). */
  function destroy(pool: ResourceRentalPool, rental: ResourceRental): void {
    track(background, pool.destroy(rental, settings.finalizeTimeoutMs));
  }

  async function attemptOn(rental: ResourceRental, chunk: Chunk, files: ReadonlyMap<string, Uint8Array>, signal: AbortSignal): Promise<AttemptResult> {
    const timer = AbortSignal.timeout(settings.attemptTimeoutMs);
    const attemptSignal = AbortSignal.any([signal, timer]);
    const workDir = await mkdtemp(join(tmpdir(), "argus-golem-"));
    try {
      const exe = await untilAborted(rental.getExeUnit(), attemptSignal);
      const output = await untilAborted(computeChunk(exe, chunk, files, settings.entryCommand, workDir), attemptSignal);
      logger.debug({ chunkId: chunk.id, provider: rental.agreement.provider.id, summary: output.summary }, "the provider ran the chunk");
      return { outcome: "ok", results: output.results };
    } catch (error) {
      if (signal.aborted) return { outcome: "aborted", error: "the run was aborted" };
      if (timer.aborted) return { outcome: "timeout", error: `no answer within ${settings.attemptTimeoutMs} ms` };
      const message = (error as Error).message ?? String(error);
      return { outcome: error instanceof AttemptFailure && error.kind === "results" ? "invalid-results" : "failed", error: message };
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
  }

  async function runChunk(chunk: Chunk, external: AbortSignal | undefined): Promise<ChunkOutcome> {
    let files: Map<string, Uint8Array>;
    try {
      files = chunkInputFiles(chunk);
    } catch (error) {
      throw new ExecutorError((error as Error).message, 0);
    }
    const image = imageOrder(chunk);
    const signal = external ? AbortSignal.any([external, closing.signal]) : closing.signal;
    const aborted = (attempts: number) => new ExecutorError(`chunk ${chunk.id} was abandoned (${describeReason(signal.reason)})`, attempts, { cause: signal.reason });

    let pool: ResourceRentalPool;
    try {
      pool = await untilAborted(poolFor(image), signal);
    } catch (error) {
      if (signal.aborted) throw aborted(0);
      throw new ExecutorError(`cannot order Golem providers for chunk ${chunk.id}: ${(error as Error).message}`, 0, { cause: error });
    }

    const failedOn = new Set<string>();
    const failures: string[] = [];
    let estimatedCost = 0;
    for (let attempt = 1; attempt <= settings.maxAttempts; attempt++) {
      if (signal.aborted) throw aborted(attempt - 1);
      let rental: ResourceRental;
      try {
        rental = await acquire(pool, failedOn, AbortSignal.any([signal, AbortSignal.timeout(settings.acquireTimeoutMs)]));
      } catch (error) {
        if (signal.aborted) throw aborted(attempt - 1);
        const tried = failures.length > 0 ? ` (after ${failures.join("; ")})` : "";
        throw new ExecutorError(`no Golem provider for chunk ${chunk.id} within ${settings.acquireTimeoutMs} ms${tried}`, attempt - 1, { cause: error });
      }

      const provider = providerRef(rental.agreement.provider);
      const started = performance.now();
      const result = await attemptOn(rental, chunk, files, signal);
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
        ...(result.error === undefined ? {} : { error: result.error }),
      };
      callHook(hooks.onAttempt, report);

      if (result.outcome === "ok" && result.results) {
        logger.info({ chunkId: chunk.id, attempt, provider: provider.id, name: provider.name, ms: report.durationMs }, "chunk computed on Golem");
        // Awaited so that the next chunk finds the provider in the pool; bounded, since
        // golem-js destroys (and waits for the invoice of) a rental whose agreement ended.
        await pool.release(rental, settings.finalizeTimeoutMs).catch((error: unknown) => logger.warn({ err: error }, "releasing a Golem provider failed"));
        return { results: result.results, attempts: attempt, worker: provider.id, cost: estimatedCost };
      }

      destroy(pool, rental);
      if (result.outcome === "aborted") throw aborted(attempt);
      failedOn.add(provider.id);
      if (settings.providerBanMinutes > 0) bannedUntil.set(provider.id, Date.now() + settings.providerBanMinutes * 60_000);
      failures.push(`attempt ${attempt} on ${provider.id} ${result.outcome}: ${result.error}`);
      logger.warn(
        { chunkId: chunk.id, attempt, provider: provider.id, name: provider.name, outcome: result.outcome, error: result.error },
        "Golem attempt failed; the provider is destroyed",
      );
    }
    throw new ExecutorError(`chunk ${chunk.id} failed on ${settings.maxAttempts} Golem providers: ${failures.join("; ")}`, settings.maxAttempts);
  }

  async function shutDown(): Promise<void> {
    closing.abort(new Error("the Golem executor is closing"));
    await Promise.allSettled(inFlight);
    const opened = await session?.catch(() => undefined);
    const created = await Promise.allSettled(pools.values());
    // Ends every agreement and waits (bounded) for its invoice before the allocation goes.
    await Promise.allSettled(
      created.map((entry) => (entry.status === "fulfilled" ? entry.value.drainAndClear(settings.finalizeTimeoutMs) : undefined)),
    );
    await Promise.allSettled(background);
    if (!opened) return;
    await opened.glm.payment.releaseAllocation(opened.allocation).catch((error: unknown) => logger.warn({ err: error }, "releasing the Golem allocation failed"));
    await opened.glm.disconnect().catch((error: unknown) => logger.warn({ err: error }, "disconnecting from yagna failed"));
    const report = ledger.report();
    logger.info({ totalGlm: report.totalGlm, awaitingInvoice: report.awaitingInvoice.length }, "Golem executor closed");
  }

  return {
    kind: "golem",
    capacity: settings.poolSize,
    async ready() {
      await connect();
    },
    run(chunk, signal) {
      if (closed) return Promise.reject(new ExecutorError("the Golem executor is closed", 0));
      const task = runChunk(chunk, signal);
      track(inFlight, task.catch(() => undefined));
      return task;
    },
    close() {
      closed ??= shutDown();
      return closed;
    },
    costReport: () => ledger.report(),
  };
}

/**
 * The executor the oracle runs: every setting from the environment (YAGNA_APPKEY,
 * YAGNA_API_URL, ARGUS_GOLEM_*; see GOLEM.md), validated before anything connects.
 */
export function createGolemExecutorFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  logger?: ExecutorLogger,
  deps: Omit<GolemExecutorDeps, "logger"> = {},
): GolemExecutor {
  return createGolemExecutor(loadGolemConfig({}, env), logger ? { ...deps, logger } : deps);
}

/** Settles with `promise`, or rejects with the signal's reason as soon as it aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  promise.catch(() => undefined); // the loser of the race settles later, unobserved
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

function providerRef(provider: { id: string; name: string }): ProviderRef {
  return { id: provider.id, name: provider.name };
}

function describeReason(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason);
}

/** golem-js's logger interface on top of ours; its chatty `info` goes to debug. */
function golemLogger(logger: ExecutorLogger, namespace: string): GolemLogger {
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
