/**
 * The Golem executor: chunks run on providers rented through golem-js 3.6.
 *
 * - session.ts: the connection to yagna, opened on first use.
 * - allocations.ts: the allocation funding new chunks, renewed before it ends or runs
 *   short, each with its own pools; a retired one is released once its invoices settle.
 *   Allocations are on the configured network (`hoodi` or `polygon`, never golem-js's
 *   Holesky default).
 * - pools.ts: one rental pool per provider image (image-order.ts), at most `poolSize`
 *   providers each, replaced before its demand expires; offer-stream.ts keeps its offers
 *   coming after yagna errors.
 * - retries.ts, attempt.ts, exe-script.ts: a chunk's attempts on successive providers,
 *   one attempt on one provider, and the commands it sends.
 * - audit.ts: some chunks run on a second provider and are compared; a third decides a
 *   disagreement and the outvoted provider is banned for good (`providers()` reports
 *   what each provider did).
 * - costs.ts: `ChunkOutcome.cost` is the estimate from the agreed prices; accepted
 *   invoices are reported per agreement through `hooks.onAgreementCost` and `costReport()`.
 */
import type { GolemNetworkOptions } from "@golem-sdk/golem-js";
import type { Chunk, ChunkOutcome, Executor, ProviderRecord } from "../executor.ts";
import { ExecutorError } from "../executor.ts";
import type { AllocationPeriod } from "./allocations.ts";
import { AllocationPeriods } from "./allocations.ts";
import type { GolemExecutorConfig, GolemExecutorConfigInput } from "./config.ts";
import { GolemConfigError, loadGolemConfig } from "./config.ts";
import type { CostReport } from "./costs.ts";
import { CostLedger } from "./costs.ts";
import { chunkInputFiles } from "./exe-script.ts";
import { imageOrder } from "./image-order.ts";
import type { RentalPool } from "./pools.ts";
import { ImagePools } from "./pools.ts";
import { describeReason, PendingWork, untilAborted } from "./promises.ts";
import { ProviderBans } from "./provider-bans.ts";
import type { ExecutorLogger, GolemExecutorHooks } from "./reporting.ts";
import { callHook, providerRef, SILENT_LOGGER } from "./reporting.ts";
import { runOnProviders } from "./retries.ts";
import { runAudited } from "./audit.ts";
import { ProviderReputation, type ReputationStore } from "./reputation.ts";
import { GolemSession } from "./session.ts";
import { type GolemJournal, memoryJournal } from "./journal.ts";

export type {
  AgreementReport,
  AllocationReport,
  AttemptOutcome,
  AttemptReport,
  DebitNoteReport,
  ExecutorLogger,
  GolemExecutorHooks,
} from "./reporting.ts";

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
  /** [0, 1): draws which chunks of known providers are audited (tests fix it). */
  random?: () => number;
  /** Where open allocations and agreements are kept across restarts (the oracle's store); default: memory only. */
  journal?: GolemJournal;
  /** Where the providers' records are kept across restarts (the oracle's store); default: memory only. */
  reputationStore?: ReputationStore;
  /** `auditLocal`: the oracle's own engine, which recomputes audited chunks (the local executor's `run`). */
  recompute?: (chunk: Chunk, signal: AbortSignal) => Promise<ChunkOutcome>;
}

export interface GolemExecutor extends Executor {
  readonly kind: "golem";
  /** Connects to yagna and creates the first allocation; `run` does it on first use otherwise. */
  ready(): Promise<void>;
  /** Accepted invoices so far and agreements still awaiting theirs. */
  costReport(): CostReport;
  /** What each provider did: chunks, audits, agreements and disagreements. */
  providers(): ProviderRecord[];
}

export function createGolemExecutor(
  config: GolemExecutorConfig | GolemExecutorConfigInput = {},
  deps: GolemExecutorDeps = {},
): GolemExecutor {
  const settings = loadGolemConfig(config as GolemExecutorConfigInput, {});
  if (!settings.apiKey && !deps.override?.yagna) {
    throw new GolemConfigError("the Golem executor needs a yagna app key: set YAGNA_APPKEY (see oracle-requestor/GOLEM.md)");
  }
  const logger = deps.logger ?? SILENT_LOGGER;
  const hooks = deps.hooks ?? {};
  const now = deps.now ?? Date.now;
  const ledger = new CostLedger();
  const bans = new ProviderBans(settings.providerBanMinutes, now);
  const reputation = new ProviderReputation(deps.reputationStore);
  for (const liar of reputation.liars()) bans.banForGood(liar);
  if (reputation.liars().length > 0)
    logger.info({ providers: reputation.liars() }, "Golem providers caught giving wrong answers in earlier runs stay banned");
  if (settings.auditLocal && deps.recompute === undefined) {
    throw new GolemConfigError("auditLocal needs the oracle's own engine to recompute chunks (the local executor)");
  }
  const audits = settings.auditRate > 0 || settings.auditFirstChunks > 0;
  // Two providers to compare and a third to decide must be rentable at once, unless the oracle's engine is the second opinion.
  const auditPolicy = {
    enabled: audits && (settings.auditLocal || settings.poolSize >= 3),
    rate: settings.auditRate,
    firstChunks: settings.auditFirstChunks,
    random: deps.random ?? Math.random,
  };
  if (audits && !auditPolicy.enabled) {
    logger.warn(
      { poolSize: settings.poolSize },
      "audits need three providers rented at once (poolSize ≥ 3: two to compare, a third to decide): every answer will be unaudited",
    );
  }
  const inFlight = new PendingWork();
  const closing = new AbortController();
  let closed: Promise<void> | undefined;

  const journal = deps.journal ?? memoryJournal();
  const periods = new AllocationPeriods({
    settings,
    logger,
    hooks,
    now,
    journal,
    openPools: (glm, allocation, onAgreementSigned) =>
      new ImagePools({
        glm,
        allocation,
        settings,
        logger,
        ledger,
        bans,
        reputation,
        now,
        onAgreementSigned(agreementId, provider) {
          onAgreementSigned(agreementId, provider);
          callHook(logger, hooks.onAgreementSigned, { agreementId, provider });
        },
      }),
  });
  const session = new GolemSession({
    settings,
    logger,
    override: deps.override,
    onInvoiceAccepted(invoice) {
      const amount = Number(invoice.amount);
      const cost = ledger.invoiced(invoice.agreementId, providerRef(invoice.provider), Number.isFinite(amount) ? amount : 0);
      logger.info({ agreementId: cost.agreementId, provider: cost.provider.id, amount: invoice.amount }, "accepted a Golem invoice");
      journal.agreementSettled(invoice.agreementId);
      periods.invoiceSettled(invoice.agreementId);
      callHook(logger, hooks.onAgreementCost, cost);
    },
    onAgreementCreated(agreementId) {
      journal.agreementSigned({ agreementId, allocationId: periods.fundingAllocationId() ?? "" });
    },
    onAgreementVoid: (agreementId) => journal.agreementSettled(agreementId),
    onDebitNoteAccepted(debitNote) {
      const amount = Number(debitNote.totalAmountDue);
      callHook(logger, hooks.onDebitNoteAccepted, {
        agreementId: debitNote.agreementId,
        provider: providerRef(debitNote.provider),
        totalAmountDueGlm: Number.isFinite(amount) ? amount : 0,
      });
    },
    onInvoiceRejected(invoice) {
      journal.agreementSettled(invoice.agreementId);
      periods.invoiceSettled(invoice.agreementId);
    },
    onInvoiceRefused(invoice, error) {
      logger.error({ err: error, invoiceId: invoice.id, agreementId: invoice.agreementId }, "could not accept a Golem invoice");
      periods.invoiceSettled(invoice.agreementId);
    },
  });
  const connect = () => session.connect();

  async function runChunk(chunk: Chunk, external: AbortSignal | undefined): Promise<ChunkOutcome> {
    let files: Map<string, Uint8Array>;
    try {
      files = chunkInputFiles(chunk);
    } catch (error) {
      throw new ExecutorError((error as Error).message, 0);
    }
    const image = imageOrder(chunk, settings);
    const signal = external ? AbortSignal.any([external, closing.signal]) : closing.signal;
    const abandoned = (attempts: number) =>
      new ExecutorError(`chunk ${chunk.id} was abandoned (${describeReason(signal.reason)})`, attempts, { cause: signal.reason });

    let period: AllocationPeriod | undefined;
    let currentPool: () => Promise<RentalPool>;
    try {
      const entered = await periods.enter(connect, signal);
      period = entered;
      currentPool = () => untilAborted(entered.pools.get(image), signal);
      await currentPool();
    } catch (error) {
      if (period) periods.leave(period);
      if (signal.aborted) throw abandoned(0);
      throw new ExecutorError(`cannot order Golem providers for chunk ${chunk.id}: ${(error as Error).message}`, 0, { cause: error });
    }
    try {
      const downloads = () => session.transfers();
      const context = { settings, ledger, bans, reputation, logger, hooks, downloads };
      return await runAudited(
        async (avoid) => {
          const started = performance.now();
          const outcome = await runOnProviders(context, chunk, files, currentPool, signal, abandoned, avoid);
          return { ...outcome, durationMs: performance.now() - started };
        },
        {
          policy: auditPolicy,
          reputation,
          ...(settings.auditLocal && deps.recompute ? { runLocally: () => deps.recompute!(chunk, signal) } : {}),
          banLiar(providerId, reason) {
            bans.banForGood(providerId);
            logger.error({ chunkId: chunk.id, provider: providerId, reason }, "banned a Golem provider that gave wrong answers");
          },
          log: (details, message) => logger.warn({ chunkId: chunk.id, ...details }, message),
        },
      );
    } finally {
      periods.leave(period);
      reputation.persist();
    }
  }

  async function shutDown(): Promise<void> {
    closing.abort(new Error("the Golem executor is closing"));
    await inFlight.settled();
    const glm = await session.opened();
    periods.retireCurrent();
    await periods.closed();
    if (!glm) return;
    await glm.disconnect().catch((error: unknown) => logger.warn({ err: error }, "disconnecting from yagna failed"));
    const report = ledger.report();
    logger.info({ totalGlm: report.totalGlm, awaitingInvoice: report.awaitingInvoice.length }, "Golem executor closed");
  }

  return {
    kind: "golem",
    capacity: settings.poolSize,
    async ready() {
      const task = connect().then((glm) => periods.fundingPeriod(glm));
      inFlight.add(task.catch(() => undefined));
      await task;
    },
    run(chunk, signal) {
      if (closed) return Promise.reject(new ExecutorError("the Golem executor is closed", 0));
      const task = runChunk(chunk, signal);
      inFlight.add(task.catch(() => undefined));
      return task;
    },
    close() {
      closed ??= shutDown();
      return closed;
    },
    costReport: () => ledger.report(),
    providers: () => reputation.all(),
  };
}
