/**
 * The rental pools of one allocation period: one per provider image, created on first
 * use, at most `poolSize` providers each, with the configured CPU/memory/storage minimums
 * and price limits. A provider that failed is destroyed (never released back to its
 * pool); one that answered correctly is released for the next chunk.
 */
import { DraftOfferProposalPool, ResourceRentalPool } from "@golem-sdk/golem-js";
import type { Allocation, GolemNetwork, MarketOrderSpec, OfferProposal, ResourceRental } from "@golem-sdk/golem-js";
import type { GolemExecutorConfig } from "./config.ts";
import type { CostLedger, ProviderRef } from "./costs.ts";
import type { ImageOrder } from "./image-order.ts";
import { PendingWork } from "./promises.ts";
import type { ProviderBans } from "./provider-bans.ts";
import type { ExecutorLogger } from "./reporting.ts";
import { golemLogger, providerRef } from "./reporting.ts";

export interface ImagePoolsOptions {
  glm: GolemNetwork;
  /** Pays every agreement, debit note and invoice of these pools. */
  allocation: Allocation;
  settings: GolemExecutorConfig;
  logger: ExecutorLogger;
  ledger: CostLedger;
  bans: ProviderBans;
  /** An agreement was signed: its invoice will be accepted against `allocation`. */
  onAgreementSigned(agreementId: string, provider: ProviderRef): void;
}

/** A rental pool, the demand feeding it offers, and the rentals it is destroying. */
export class RentalPool {
  readonly rentals: ResourceRentalPool;
  readonly offers: ReturnType<DraftOfferProposalPool["readFrom"]>;
  readonly #finalizing = new PendingWork();
  readonly #bans: ProviderBans;
  readonly #finalizeTimeoutMs: number;

  constructor(
    rentals: ResourceRentalPool,
    offers: ReturnType<DraftOfferProposalPool["readFrom"]>,
    bans: ProviderBans,
    finalizeTimeoutMs: number,
  ) {
    this.rentals = rentals;
    this.offers = offers;
    this.#bans = bans;
    this.#finalizeTimeoutMs = finalizeTimeoutMs;
  }

  /** Borrows a provider that is neither banned nor one this chunk already failed on. */
  async acquire(failedOn: ReadonlySet<string>, signal: AbortSignal): Promise<ResourceRental> {
    for (;;) {
      const rental = await this.rentals.acquire(signal);
      const { id } = rental.agreement.provider;
      if (!this.#bans.isBanned(id) && !failedOn.has(id)) return rental;
      this.destroy(rental);
    }
  }

  /** Ends the agreement in the background (the retry does not wait for the invoice). */
  destroy(rental: ResourceRental): void {
    this.#finalizing.add(this.rentals.destroy(rental, this.#finalizeTimeoutMs));
  }

  /**
   * Returns a provider that answered correctly to the pool. Bounded, since golem-js
   * destroys (and waits for the invoice of) a rental whose agreement ended.
   */
  release(rental: ResourceRental): Promise<void> {
    return this.rentals.release(rental, this.#finalizeTimeoutMs);
  }

  /** Settles once every rental destroyed so far has finished. */
  finalized(): Promise<void> {
    return this.#finalizing.settled();
  }
}

export class ImagePools {
  readonly #pools = new Map<string, Promise<RentalPool>>();
  readonly #options: ImagePoolsOptions;

  constructor(options: ImagePoolsOptions) {
    this.#options = options;
  }

  /** The image's pool, created on first use; a pool that could not be created is tried again next time. */
  get(image: ImageOrder): Promise<RentalPool> {
    let pool = this.#pools.get(image.key);
    if (!pool) {
      pool = this.#create(image).catch((error: unknown) => {
        this.#pools.delete(image.key);
        throw error;
      });
      this.#pools.set(image.key, pool);
    }
    return pool;
  }

  /** Withdraws every pool's demand and ends its agreements, waiting for them until `deadline`. */
  async close(deadline: AbortSignal): Promise<void> {
    const created = await Promise.allSettled(this.#pools.values());
    const pools = created.flatMap((entry) => (entry.status === "fulfilled" ? [entry.value] : []));
    for (const pool of pools) pool.offers.unsubscribe();
    await Promise.allSettled(pools.map((pool) => pool.rentals.drainAndClear(deadline)));
    await Promise.allSettled(pools.map((pool) => pool.finalized()));
  }

  async #create(image: ImageOrder): Promise<RentalPool> {
    const { glm, allocation, settings, logger, ledger, bans } = this.#options;
    // Sees every offer, and every draft again when it is taken from the pool.
    const offerFilter = (proposal: OfferProposal): boolean => {
      notePricing(ledger, proposal);
      return !bans.isBanned(proposal.provider.id);
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
    const proposals = new DraftOfferProposalPool({
      logger: golemLogger(logger, "golem-js:proposal-pool"),
      validateOfferProposal: offerFilter,
    });
    const demandSpecification = await glm.market.buildDemandDetails(order.demand, order.market, allocation);
    const offers = proposals.readFrom(
      glm.market.collectDraftOfferProposals({ demandSpecification, pricing: order.market.pricing, filter: offerFilter }),
    );
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
      this.#options.onAgreementSigned(agreement.id, providerRef(agreement.provider));
      logger.info(
        {
          agreementId: agreement.id,
          provider: agreement.provider.id,
          name: agreement.provider.name,
          image: image.key,
          allocationId: allocation.id,
        },
        "signed a Golem agreement",
      );
    });
    logger.info({ image: image.key, poolSize: settings.poolSize, allocationId: allocation.id }, "created a Golem rental pool");
    return new RentalPool(rentals, offers, bans, settings.finalizeTimeoutMs);
  }
}

/** Remembers the provider's offered price, from which each attempt's cost is estimated. */
function notePricing(ledger: CostLedger, proposal: OfferProposal): void {
  try {
    const { start, envSec, cpuSec } = proposal.pricing;
    ledger.notePricing(proposal.provider.id, {
      start,
      envPerSec: envSec,
      cpuPerSec: cpuSec,
      cpuThreads: proposal.getDto().cpuThreads ?? 1,
    });
  } catch {
    // An offer without a readable price vector is rejected by golem-js anyway.
  }
}
