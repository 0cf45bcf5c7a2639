/**
 * Allocation periods. golem-js binds a pool's agreements, debit notes and invoices to
 * the allocation the pool was made with. Before each chunk the allocation is read back
 * from yagna; when it ends within `renewalLeadMs` or has less left than one agreement
 * can cost, a new allocation (the full budget) starts a new period with new pools. The
 * old period closes once its last chunk returns: its demands are withdrawn, its
 * agreements ended, their invoices settled, and only then its allocation released.
 * A failed renewal fails that chunk (retryable, no attempt made); the next one retries.
 * Every allocation and agreement is written to the journal while open, and the first
 * allocation of a process starts closing what a previous one left (recovery.ts).
 */
import type { Allocation, GolemNetwork } from "@golem-sdk/golem-js";
import type { GolemExecutorConfig } from "./config.ts";
import { maxAgreementCostGlm, renewalLeadMs } from "./limits.ts";
import type { ProviderRef } from "./costs.ts";
import type { GolemJournal } from "./journal.ts";
import type { ImagePools } from "./pools.ts";
import { recoverLeftovers } from "./recovery.ts";
import { describeReason, PendingWork, untilAborted } from "./promises.ts";
import type { AllocationReport, ExecutorLogger, GolemExecutorHooks } from "./reporting.ts";
import { callHook } from "./reporting.ts";

/** One allocation and the pools that pay from it. */
export class AllocationPeriod {
  readonly glm: GolemNetwork;
  readonly allocation: Allocation;
  readonly pools: ImagePools;
  /** Chunks running on its pools: it is not closed under them. */
  chunks = 0;
  /** A successor funds new chunks; this one closes when its last chunk returns. */
  retired = false;
  closing?: Promise<void>;
  /** Its agreements whose invoice is neither accepted nor refused yet. */
  readonly unsettled = new Set<string>();
  #onSettled?: () => void;

  constructor(glm: GolemNetwork, allocation: Allocation, openPools: (period: AllocationPeriod) => ImagePools) {
    this.glm = glm;
    this.allocation = allocation;
    this.pools = openPools(this);
  }

  settle(agreementId: string): void {
    this.unsettled.delete(agreementId);
    if (this.unsettled.size === 0) this.#onSettled?.();
  }

  /** True once every invoice of the period is settled, false if the deadline passes first. */
  invoicesSettled(deadline: AbortSignal): Promise<boolean> {
    if (this.unsettled.size === 0) return Promise.resolve(true);
    if (deadline.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      this.#onSettled = () => resolve(true);
      deadline.addEventListener("abort", () => resolve(false), { once: true });
    });
  }
}

export interface AllocationPeriodsOptions {
  settings: GolemExecutorConfig;
  logger: ExecutorLogger;
  hooks: GolemExecutorHooks;
  /** The clock allocation expiry is measured by. */
  now: () => number;
  /** Open allocations and agreements, kept across restarts. */
  journal: GolemJournal;
  /** The pools of a new period; they report each agreement they sign. */
  openPools(glm: GolemNetwork, allocation: Allocation, onAgreementSigned: (agreementId: string, provider: ProviderRef) => void): ImagePools;
}

export class AllocationPeriods {
  readonly #options: AllocationPeriodsOptions;
  readonly #leadMs: number;
  readonly #agreementCostGlm: number;
  /** Agreement id → the period whose allocation pays its invoice. */
  readonly #billedPeriod = new Map<string, AllocationPeriod>();
  readonly #closingPeriods = new PendingWork();
  #current: AllocationPeriod | undefined;
  #fundingCheck: Promise<AllocationPeriod> | undefined;

  constructor(options: AllocationPeriodsOptions) {
    this.#options = options;
    this.#leadMs = renewalLeadMs(options.settings);
    this.#agreementCostGlm = maxAgreementCostGlm(options.settings);
  }

  /** The period that funds the next chunk; concurrent chunks share one check. */
  fundingPeriod(glm: GolemNetwork): Promise<AllocationPeriod> {
    this.#fundingCheck ??= this.#checkFunding(glm).finally(() => {
      this.#fundingCheck = undefined;
    });
    return this.#fundingCheck;
  }

  /** The period that funds this chunk, which holds it open until `leave`. */
  async enter(connect: () => Promise<GolemNetwork>, signal: AbortSignal): Promise<AllocationPeriod> {
    for (;;) {
      const glm = await untilAborted(connect(), signal);
      const period = await untilAborted(this.fundingPeriod(glm), signal);
      // A renewal may have retired it while this chunk waited for the check.
      if (!period.retired) {
        period.chunks++;
        return period;
      }
    }
  }

  leave(period: AllocationPeriod): void {
    period.chunks--;
    this.#closeWhenIdle(period);
  }

  /** Retires the current period (closing the executor): it closes once its chunks return. */
  retireCurrent(): void {
    if (this.#current) this.#retire(this.#current);
  }

  /** The allocation funding new chunks now, if one was made. */
  fundingAllocationId(): string | undefined {
    return this.#current?.allocation.id;
  }

  /** Settles once every retired period has closed. */
  closed(): Promise<void> {
    return this.#closingPeriods.settled();
  }

  /** An invoice of this agreement was accepted or refused: its period need not wait for it. */
  invoiceSettled(agreementId: string): void {
    const period = this.#billedPeriod.get(agreementId);
    if (!period) return;
    this.#billedPeriod.delete(agreementId);
    period.settle(agreementId);
  }

  /** The current period if its allocation, as yagna reports it now, can fund a chunk; else a new one. */
  async #checkFunding(glm: GolemNetwork): Promise<AllocationPeriod> {
    const { settings, logger, hooks } = this.#options;
    const previous = this.#current;
    let latest: Allocation | undefined;
    let reason: string | undefined;
    if (previous) {
      try {
        latest = await glm.payment.getAllocation(previous.allocation.id);
        reason = this.#shortfall(latest);
      } catch (error) {
        // Gone (yagna releases expired allocations) or unreadable: either way not to be relied on.
        reason = `yagna could not report it (${describeReason(error)})`;
      }
      if (reason === undefined) {
        callHook(logger, hooks.onAllocation, allocationReport(latest!, false));
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
    const { journal } = this.#options;
    journal.allocationCreated(allocation.id);
    const current = new AllocationPeriod(glm, allocation, (period) =>
      this.#options.openPools(glm, allocation, (agreementId) => {
        journal.agreementSigned({ agreementId, allocationId: allocation.id });
        period.unsettled.add(agreementId);
        this.#billedPeriod.set(agreementId, period);
      }),
    );
    // Beside the chunks, not before them: waiting for a leftover invoice can take minutes.
    if (!previous)
      this.#closingPeriods.add(
        recoverLeftovers({ glm, journal, current: allocation, settings, logger }).then(
          (report) => callHook(logger, hooks.onRecovery, report),
          (error: unknown) => logger.warn({ err: error }, "could not close what a previous run left open on yagna"),
        ),
      );
    this.#current = current;
    const renewed = previous && {
      previousAllocationId: previous.allocation.id,
      previousSpent: latest?.spentAmount,
      previousRemaining: latest?.remainingAmount,
      previousExpires: (latest ?? previous.allocation).timeout,
      reason,
    };
    logger.info(
      {
        allocationId: allocation.id,
        budget: allocation.totalAmount,
        expires: allocation.timeout,
        platform: allocation.paymentPlatform,
        ...renewed,
      },
      previous ? "renewed the Golem allocation" : "created the Golem allocation",
    );
    callHook(logger, hooks.onAllocation, {
      ...allocationReport(allocation, true),
      ...(reason === undefined ? {} : { renewalReason: reason }),
    });
    if (previous) this.#retire(previous);
    return current;
  }

  /** Why the allocation cannot fund the next chunk, or undefined when it can. */
  #shortfall(allocation: Allocation): string | undefined {
    const leadMs = this.#leadMs;
    const endsAt = allocation.timeout === undefined ? Number.POSITIVE_INFINITY : Date.parse(allocation.timeout);
    if (endsAt - this.#options.now() < leadMs)
      return `it ends at ${allocation.timeout}, within the ${Math.round(leadMs / 60_000)} min a chunk's agreements may still bill it`;
    const remaining = Number(allocation.remainingAmount);
    if (!(remaining >= this.#agreementCostGlm))
      return `${allocation.remainingAmount} GLM remain, less than the ${this.#agreementCostGlm} GLM one agreement can cost`;
    return undefined;
  }

  #retire(period: AllocationPeriod): void {
    period.retired = true;
    this.#closeWhenIdle(period);
  }

  #closeWhenIdle(period: AllocationPeriod): void {
    if (!period.retired || period.chunks > 0 || period.closing) return;
    period.closing = this.#close(period);
    this.#closingPeriods.add(period.closing);
  }

  /**
   * Withdraws the period's demands, ends its agreements, waits (bounded) for their
   * invoices to be accepted, and only then releases its allocation: golem-js accepts
   * each invoice against the allocation its pool was made with.
   */
  async #close(period: AllocationPeriod): Promise<void> {
    const { logger, settings } = this.#options;
    const { glm, allocation } = period;
    const deadline = AbortSignal.timeout(settings.finalizeTimeoutMs);
    await period.pools.close(deadline);
    if (!(await period.invoicesSettled(deadline))) {
      logger.warn(
        { allocationId: allocation.id, agreements: [...period.unsettled] },
        "releasing a Golem allocation before every invoice was settled",
      );
      for (const agreementId of period.unsettled) this.#billedPeriod.delete(agreementId);
    }
    const latest = await glm.payment.getAllocation(allocation.id).catch(() => allocation);
    await glm.payment.releaseAllocation(allocation).then(
      () => {
        this.#options.journal.allocationReleased(allocation.id);
        logger.info({ allocationId: allocation.id, spent: latest.spentAmount, budget: latest.totalAmount }, "released a Golem allocation");
      },
      (error: unknown) => logger.warn({ err: error, allocationId: allocation.id }, "releasing a Golem allocation failed"),
    );
  }
}

function allocationReport(allocation: Allocation, created: boolean): AllocationReport {
  return {
    allocationId: allocation.id,
    remainingGlm: Number(allocation.remainingAmount),
    ...(allocation.timeout === undefined ? {} : { expiresAt: allocation.timeout }),
    created,
  };
}
