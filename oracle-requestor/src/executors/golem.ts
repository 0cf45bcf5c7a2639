/**
 * The Golem executor: chunks run on providers rented through golem-js 3.6.
 *
 * - One rental pool per provider image (a chunk names its model's registry image hash;
 *   the configured hash or tag is the fallback), created on first use, at most
 *   `poolSize` providers each, with the configured CPU/memory/storage minimums and price
 *   limits, paid from an allocation on the configured network (`hoodi` or `polygon`,
 *   never golem-js's Holesky default).
 * - Allocation periods: golem-js binds a pool's agreements, debit notes and invoices to
 *   the allocation the pool was made with. Before each chunk the allocation is read back
 *   from yagna; when it ends within `renewalLeadMs` or has less left than one agreement
 *   can cost, a new allocation (the full budget) starts a new period with new pools. The
 *   old period closes once its last chunk returns: its demands are withdrawn, its
 *   agreements ended, their invoices settled, and only then its allocation released.
 *   A failed renewal fails that chunk (retryable, no attempt made); the next one retries.
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
import { rm } from "node:fs/promises";
import { DraftOfferProposalPool, GolemNetwork, ResourceRentalPool } from "@golem-sdk/golem-js";
import type { Allocation, GolemNetworkOptions, Logger as GolemLogger, MarketOrderSpec, OfferProposal, ResourceRental } from "@golem-sdk/golem-js";
import type { InferenceResult } from "@argus/protocol/result";
import type { Chunk, ChunkOutcome, Executor } from "./executor.ts";
import { ExecutorError } from "./executor.ts";
import { AttemptFailure, chunkInputFiles, computeChunk } from "./golem-attempt.ts";
import type { AgreementCost, CostReport, ProviderRef } from "./golem-costs.ts";
import { CostLedger } from "./golem-costs.ts";
import type { GolemExecutorConfig, GolemExecutorConfigInput } from "./golem-config.ts";
import { GolemConfigError, golemImageHash, isNoImageHash, loadGolemConfig, maxAgreementCostGlm, renewalLeadMs } from "./golem-config.ts";
import { createWorkDir } from "./work-dirs.ts";

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
  /** The allocation that funds the next chunk, as yagna reported it before that chunk. */
  onAllocation?(report: AllocationReport): void;
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

export interface GolemExecutorDeps {
  logger?: ExecutorLogger;
  hooks?: GolemExecutorHooks;
  /**
   * Replaces golem-js services (`GolemNetworkOptions.override`): the tests swap the
   * yagna-facing ones (yagna, market, activity and payment APIs, storage) for fakes.
   */
  override?: GolemNetworkOptions["override"];
  /** The clock (ms since the epoch) allocation expiry and provider bans are measured by; tests move it. */
  now?: () => number;
}

export interface GolemExecutor extends Executor {
  readonly kind: "golem";
  /** Connects to yagna and creates the first allocation; `run` does it on first use otherwise. */
  ready(): Promise<void>;
  /** Accepted invoices so far and agreements still awaiting theirs. */
  costReport(): CostReport;
}

/** One allocation and the pools that pay from it (see the top of this file). */
interface AllocationPeriod {
  glm: GolemNetwork;
  allocation: Allocation;
  pools: Map<string, Promise<RentalPool>>;
  /** Chunks running on its pools: it is not closed under them. */
  chunks: number;
  /** A successor funds new chunks; this one closes when its last chunk returns. */
  retired: boolean;
  closing?: Promise<void>;
  /** Its agreements whose invoice is neither accepted nor refused yet. */
  unsettled: Set<string>;
  onSettled?: () => void;
}

/** A rental pool, the demand feeding it offers, and the rentals it is destroying. */
interface RentalPool {
  rentals: ResourceRentalPool;
  offers: ReturnType<DraftOfferProposalPool["readFrom"]>;
  finalizing: Set<Promise<unknown>>;
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
  const now = deps.now ?? Date.now;
  const leadMs = renewalLeadMs(settings);
  const agreementCostGlm = maxAgreementCostGlm(settings);
  const ledger = new CostLedger();
  const bannedUntil = new Map<string, number>();
  const inFlight = new Set<Promise<unknown>>();
  const closingPeriods = new Set<Promise<unknown>>();
  /** Agreement id → the period whose allocation pays its invoice. */
  const billedPeriod = new Map<string, AllocationPeriod>();
  const closing = new AbortController();
  let session: Promise<GolemNetwork> | undefined;
  let current: AllocationPeriod | undefined;
  let fundingCheck: Promise<AllocationPeriod> | undefined;
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

  function connect(): Promise<GolemNetwork> {
    session ??= openSession().catch((error: unknown) => {
      session = undefined;
      throw error;
    });
    return session;
  }

  async function openSession(): Promise<GolemNetwork> {
    const glm = new GolemNetwork({
      logger: golemLogger(logger, "golem-js"),
      api: { key: settings.apiKey, url: settings.apiUrl },
      payment: { network: settings.paymentNetwork, driver: settings.paymentDriver },
      override: deps.override,
    });
    glm.events.on("error", (error) => logger.warn({ err: error }, "golem-js reported an error"));
    try {
      await glm.connect();
    } catch (error) {
      await glm.disconnect().catch(() => undefined);
      throw error;
    }
    glm.payment.events.on("invoiceAccepted", ({ invoice }) => {
      const amount = Number(invoice.amount);
      const cost = ledger.invoiced(invoice.agreementId, providerRef(invoice.provider), Number.isFinite(amount) ? amount : 0);
      logger.info({ agreementId: cost.agreementId, provider: cost.provider.id, amount: invoice.amount }, "accepted a Golem invoice");
      noteSettled(invoice.agreementId);
      callHook(hooks.onAgreementCost, cost);
    });
    glm.payment.events.on("errorAcceptingInvoice", ({ invoice, error }) => {
      logger.error({ err: error, invoiceId: invoice.id, agreementId: invoice.agreementId }, "could not accept a Golem invoice");
      noteSettled(invoice.agreementId);
    });
    logger.info({ network: settings.paymentNetwork, url: settings.apiUrl }, "connected to yagna");
    return glm;
  }

  /** The period that funds the next chunk; concurrent chunks share one check. */
  function fundingPeriod(glm: GolemNetwork): Promise<AllocationPeriod> {
    fundingCheck ??= checkFunding(glm).finally(() => {
      fundingCheck = undefined;
    });
    return fundingCheck;
  }

  /** The current period if its allocation, as yagna reports it now, can fund a chunk; else a new one. */
  async function checkFunding(glm: GolemNetwork): Promise<AllocationPeriod> {
    const previous = current;
    let latest: Allocation | undefined;
    let reason: string | undefined;
    if (previous) {
      try {
        latest = await glm.payment.getAllocation(previous.allocation.id);
        reason = shortfall(latest);
      } catch (error) {
        // Gone (yagna releases expired allocations) or unreadable: either way not to be relied on.
        reason = `yagna could not report it (${describeReason(error)})`;
      }
      if (reason === undefined) {
        callHook(hooks.onAllocation, allocationReport(latest!, false));
        return previous;
      }
    }
    let allocation: Allocation;
    try {
      allocation = await glm.payment.createAllocation({
        budget: settings.budgetGlm,
        expirationSec: Math.round(settings.allocationHours * 3600),
      });
    } catch (error) {
      const what = previous ? `renewing the Golem allocation ${previous.allocation.id} (${reason})` : "creating the Golem allocation";
      logger.error({ err: error, allocationId: previous?.allocation.id }, `${what} failed; the next chunk tries again`);
      throw new Error(`${what} failed: ${describeReason(error)}`, { cause: error });
    }
    current = { glm, allocation, pools: new Map(), chunks: 0, retired: false, unsettled: new Set() };
    const renewed = previous && {
      previousAllocationId: previous.allocation.id,
      previousSpent: latest?.spentAmount,
      previousRemaining: latest?.remainingAmount,
      previousExpires: (latest ?? previous.allocation).timeout,
      reason,
    };
    logger.info(
      { allocationId: allocation.id, budget: allocation.totalAmount, expires: allocation.timeout, platform: allocation.paymentPlatform, ...renewed },
      previous ? "renewed the Golem allocation" : "created the Golem allocation",
    );
    callHook(hooks.onAllocation, { ...allocationReport(allocation, true), ...(reason === undefined ? {} : { renewalReason: reason }) });
    if (previous) retire(previous);
    return current;
  }

  function allocationReport(allocation: Allocation, created: boolean): AllocationReport {
    return {
      allocationId: allocation.id,
      remainingGlm: Number(allocation.remainingAmount),
      ...(allocation.timeout === undefined ? {} : { expiresAt: allocation.timeout }),
      created,
    };
  }

  /** Why the allocation cannot fund the next chunk, or undefined when it can. */
  function shortfall(allocation: Allocation): string | undefined {
    const endsAt = allocation.timeout === undefined ? Number.POSITIVE_INFINITY : Date.parse(allocation.timeout);
    if (endsAt - now() < leadMs) return `it ends at ${allocation.timeout}, within the ${Math.round(leadMs / 60_000)} min a chunk's agreements may still bill it`;
    const remaining = Number(allocation.remainingAmount);
    if (!(remaining >= agreementCostGlm)) return `${allocation.remainingAmount} GLM remain, less than the ${agreementCostGlm} GLM one agreement can cost`;
    return undefined;
  }

  /** The period that funds this chunk, which holds it open until `leave`. */
  async function enterPeriod(signal: AbortSignal): Promise<AllocationPeriod> {
    for (;;) {
      const glm = await untilAborted(connect(), signal);
      const period = await untilAborted(fundingPeriod(glm), signal);
      // A renewal may have retired it while this chunk waited for the check.
      if (!period.retired) {
        period.chunks++;
        return period;
      }
    }
  }

  function leave(period: AllocationPeriod): void {
    period.chunks--;
    closeWhenIdle(period);
  }

  function retire(period: AllocationPeriod): void {
    period.retired = true;
    closeWhenIdle(period);
  }

  function closeWhenIdle(period: AllocationPeriod): void {
    if (!period.retired || period.chunks > 0 || period.closing) return;
    period.closing = closePeriod(period);
    track(closingPeriods, period.closing);
  }

  /**
   * Withdraws the period's demands, ends its agreements, waits (bounded) for their
   * invoices to be accepted, and only then releases its allocation: golem-js accepts
   * each invoice against the allocation its pool was made with.
   */
  async function closePeriod(period: AllocationPeriod): Promise<void> {
    const { glm, allocation } = period;
    const deadline = AbortSignal.timeout(settings.finalizeTimeoutMs);
    const created = await Promise.allSettled(period.pools.values());
    const pools = created.flatMap((entry) => (entry.status === "fulfilled" ? [entry.value] : []));
    for (const pool of pools) pool.offers.unsubscribe();
    await Promise.allSettled(pools.map((pool) => pool.rentals.drainAndClear(deadline)));
    await Promise.allSettled(pools.flatMap((pool) => [...pool.finalizing]));
    if (!(await invoicesSettled(period, deadline))) {
      logger.warn({ allocationId: allocation.id, agreements: [...period.unsettled] }, "releasing a Golem allocation before every invoice was settled");
      for (const agreementId of period.unsettled) billedPeriod.delete(agreementId);
    }
    const latest = await glm.payment.getAllocation(allocation.id).catch(() => allocation);
    await glm.payment.releaseAllocation(allocation).then(
      () => logger.info({ allocationId: allocation.id, spent: latest.spentAmount, budget: latest.totalAmount }, "released a Golem allocation"),
      (error: unknown) => logger.warn({ err: error, allocationId: allocation.id }, "releasing a Golem allocation failed"),
    );
  }

  function noteSettled(agreementId: string): void {
    const period = billedPeriod.get(agreementId);
    if (!period) return;
    billedPeriod.delete(agreementId);
    period.unsettled.delete(agreementId);
    if (period.unsettled.size === 0) period.onSettled?.();
  }

  /** True once every invoice of the period is settled, false if the deadline passes first. */
  function invoicesSettled(period: AllocationPeriod, deadline: AbortSignal): Promise<boolean> {
    if (period.unsettled.size === 0) return Promise.resolve(true);
    if (deadline.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      period.onSettled = () => resolve(true);
      deadline.addEventListener("abort", () => resolve(false), { once: true });
    });
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

  function poolFor(period: AllocationPeriod, image: ImageOrder): Promise<RentalPool> {
    let pool = period.pools.get(image.key);
    if (!pool) {
      pool = createPool(period, image).catch((error: unknown) => {
        period.pools.delete(image.key);
        throw error;
      });
      period.pools.set(image.key, pool);
    }
    return pool;
  }

  async function createPool(period: AllocationPeriod, image: ImageOrder): Promise<RentalPool> {
    const { glm, allocation } = period;
    // Sees every offer, and every draft again when it is taken from the pool.
    const offerFilter = (proposal: OfferProposal): boolean => {
      notePricing(proposal);
      return !isBanned(proposal.provider.id);
    };
    const order: Omit<MarketOrderSpec, "payment"> = {
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
        offerProposalFilter: offerFilter,
      },
    };
    // What glm.manyOf does, by hand for two reasons: manyOf keeps its demand published
    // until disconnect, while a closed period must withdraw its own; and golem-js 3.6's
    // rental.createResourceRentalPool drops agreementOptions, so its agreements would
    // last golem-js's default hour whatever rentHours (and the renewal lead) says.
    const proposals = new DraftOfferProposalPool({ logger: golemLogger(logger, "golem-js:proposal-pool"), validateOfferProposal: offerFilter });
    const demandSpecification = await glm.market.buildDemandDetails(order.demand, order.market, allocation);
    const offers = proposals.readFrom(glm.market.collectDraftOfferProposals({ demandSpecification, pricing: order.market.pricing, filter: offerFilter }));
    const rentals = new ResourceRentalPool({
      allocation,
      proposalPool: proposals,
      marketModule: glm.market,
      networkModule: glm.network,
      rentalModule: glm.rental,
      logger: golemLogger(logger, "golem-js:resource-rental-pool"),
      // A number would be the pool's minimum (and 100 its maximum); the pool grows on demand.
      poolSize: { min: 0, max: settings.poolSize },
      agreementOptions: { expirationSec: settings.rentHours * 3600 },
    });
    rentals.events.on("created", ({ agreement }) => {
      ledger.noteAgreement(agreement.id, providerRef(agreement.provider));
      period.unsettled.add(agreement.id);
      billedPeriod.set(agreement.id, period);
      logger.info(
        { agreementId: agreement.id, provider: agreement.provider.id, name: agreement.provider.name, image: image.key, allocationId: allocation.id },
        "signed a Golem agreement",
      );
    });
    logger.info({ image: image.key, poolSize: settings.poolSize, allocationId: allocation.id }, "created a Golem rental pool");
    return { rentals, offers, finalizing: new Set() };
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
    if (until > now()) return true;
    bannedUntil.delete(providerId);
    return false;
  }

  /** Borrows a provider that is neither banned nor one this chunk already failed on. */
  async function acquire(pool: RentalPool, failedOn: ReadonlySet<string>, signal: AbortSignal): Promise<ResourceRental> {
    for (;;) {
      const rental = await pool.rentals.acquire(signal);
      const { id } = rental.agreement.provider;
      if (!isBanned(id) && !failedOn.has(id)) return rental;
      destroy(pool, rental);
    }
  }

  /** Ends the agreement in the background (the retry does not wait for the invoice). */
  function destroy(pool: RentalPool, rental: ResourceRental): void {
    track(pool.finalizing, pool.rentals.destroy(rental, settings.finalizeTimeoutMs));
  }

  async function attemptOn(rental: ResourceRental, chunk: Chunk, files: ReadonlyMap<string, Uint8Array>, signal: AbortSignal): Promise<AttemptResult> {
    const timer = AbortSignal.timeout(settings.attemptTimeoutMs);
    const attemptSignal = AbortSignal.any([signal, timer]);
    const workDir = await createWorkDir("golem");
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

    let period: AllocationPeriod | undefined;
    let pool: RentalPool;
    try {
      period = await enterPeriod(signal);
      pool = await untilAborted(poolFor(period, image), signal);
    } catch (error) {
      if (period) leave(period);
      if (signal.aborted) throw aborted(0);
      throw new ExecutorError(`cannot order Golem providers for chunk ${chunk.id}: ${(error as Error).message}`, 0, { cause: error });
    }
    try {
      return await attemptChunk(chunk, files, pool, signal, aborted);
    } finally {
      leave(period);
    }
  }

  /** Runs the chunk on the pool's providers, one after another, until one answers correctly. */
  async function attemptChunk(
    chunk: Chunk,
    files: ReadonlyMap<string, Uint8Array>,
    pool: RentalPool,
    signal: AbortSignal,
    aborted: (attempts: number) => ExecutorError,
  ): Promise<ChunkOutcome> {
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
        await pool.rentals.release(rental, settings.finalizeTimeoutMs).catch((error: unknown) => logger.warn({ err: error }, "releasing a Golem provider failed"));
        return { results: result.results, attempts: attempt, worker: provider.id, cost: estimatedCost };
      }

      destroy(pool, rental);
      if (result.outcome === "aborted") throw aborted(attempt);
      failedOn.add(provider.id);
      if (settings.providerBanMinutes > 0) bannedUntil.set(provider.id, now() + settings.providerBanMinutes * 60_000);
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
    const glm = await session?.catch(() => undefined);
    if (current) retire(current);
    await Promise.allSettled(closingPeriods);
    if (!glm) return;
    await glm.disconnect().catch((error: unknown) => logger.warn({ err: error }, "disconnecting from yagna failed"));
    const report = ledger.report();
    logger.info({ totalGlm: report.totalGlm, awaitingInvoice: report.awaitingInvoice.length }, "Golem executor closed");
  }

  return {
    kind: "golem",
    capacity: settings.poolSize,
    async ready() {
      const task = connect().then(fundingPeriod);
      track(inFlight, task.catch(() => undefined));
      await task;
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
  env: NodeJS.ProcessEnv,
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
