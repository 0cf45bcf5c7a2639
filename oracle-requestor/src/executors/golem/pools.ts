/**
 * The rental pools of one allocation period: one per provider image, created on first
 * use, at most `poolSize` providers each, with the configured CPU/memory/storage minimums
 * and the spending bounds of spending.ts (offers within the limits, the cheapest first,
 * no debit note or invoice above what its agreement can cost). A provider that failed is destroyed (never released back to its
 * pool); one that answered correctly is released for the next chunk.
 *
 * A pool's demand carries a fixed expiration (`rentHours` after it was built), after
 * which no provider signs and every agreement from it ends; so a pool is replaced by a
 * fresh one (new demand, new drafts) `demandRefreshMs` after its creation and the old
 * one is withdrawn and drained in the background.
 */
import { DraftOfferProposalPool, ResourceRentalPool } from "@golem-sdk/golem-js";
import type { Allocation, GolemNetwork, MarketOrderSpec, OfferProposal, ResourceRental } from "@golem-sdk/golem-js";
import type { GolemExecutorConfig } from "./config.ts";
import { chunkTimeMs, demandRefreshMs } from "./limits.ts";
import type { CostLedger, ProviderRef } from "./costs.ts";
import { type ImageOrder, marketOrderFor } from "./image-order.ts";
import type { OfferStream } from "./offer-stream.ts";
import { keepOffersFlowing } from "./offer-stream.ts";
import { PendingWork } from "./promises.ts";
import type { ProviderBans } from "./provider-bans.ts";
import type { ProviderReputation } from "./reputation.ts";
import { cheapestOffer, offerRefusal, paymentGuard } from "./spending.ts";
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
  /** Providers' records: offers are compared by expected cost per successful chunk. */
  reputation: ProviderReputation;
  /** The clock a pool's age (and its demand's expiration) is measured by. */
  now: () => number;
  /** An agreement was signed: its invoice will be accepted against `allocation`. */
  onAgreementSigned(agreementId: string, provider: ProviderRef): void;
}

/** A rental pool, the demand feeding it offers, and the rentals it is destroying. */
export class RentalPool {
  readonly rentals: ResourceRentalPool;
  readonly offers: OfferStream;
  /** When its demand was built: the demand expires `rentHours` later. */
  readonly createdAtMs: number;
  readonly #finalizing = new PendingWork();
  #avoidingTurn: Promise<void> = Promise.resolve();
  readonly #bans: ProviderBans;
  readonly #finalizeTimeoutMs: number;

  constructor(rentals: ResourceRentalPool, offers: OfferStream, bans: ProviderBans, finalizeTimeoutMs: number, createdAtMs: number) {
    this.createdAtMs = createdAtMs;
    this.rentals = rentals;
    this.offers = offers;
    this.#bans = bans;
    this.#finalizeTimeoutMs = finalizeTimeoutMs;
  }

  /**
   * Borrows a provider that is neither banned nor one this chunk already failed on (those
   * are let go), nor one in `avoid` (those are held while the pool finds another, then
   * given back: an audit needs a second provider, not the end of the first's agreement).
   */
  async acquire(failedOn: ReadonlySet<string>, signal: AbortSignal, avoid: ReadonlySet<string> = new Set()): Promise<ResourceRental> {
    if (avoid.size === 0) return this.#acquire(failedOn, signal, avoid);
    // One holder at a time: two audits holding each other's provider would both wait
    // for the pool to grow past its size.
    const turn = this.#avoidingTurn.then(() => this.#acquire(failedOn, signal, avoid));
    this.#avoidingTurn = turn.then(
      () => undefined,
      () => undefined,
    );
    return turn;
  }

  async #acquire(failedOn: ReadonlySet<string>, signal: AbortSignal, avoid: ReadonlySet<string>): Promise<ResourceRental> {
    const held: ResourceRental[] = [];
    try {
      for (;;) {
        const rental = await this.rentals.acquire(signal);
        const { id } = rental.agreement.provider;
        if (this.#bans.isBanned(id) || failedOn.has(id)) this.destroy(rental);
        else if (avoid.has(id)) held.push(rental);
        else return rental;
      }
    } finally {
      for (const rental of held) void this.release(rental).catch(() => undefined);
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

  /** Withdraws its demand, ends its agreements (waiting for those borrowed until `deadline`) and their invoices. */
  async close(deadline: AbortSignal): Promise<void> {
    this.offers.unsubscribe();
    await this.rentals.drainAndClear(deadline).catch(() => undefined);
    await this.finalized();
  }
}

interface PoolEntry {
  pool: Promise<RentalPool>;
  createdAtMs: number;
}

export class ImagePools {
  readonly #pools = new Map<string, PoolEntry>();
  /** Pools whose demand is about to expire, being withdrawn. */
  readonly #retiring = new PendingWork();
  readonly #options: ImagePoolsOptions;

  constructor(options: ImagePoolsOptions) {
    this.#options = options;
  }

  /**
   * The image's pool, created on first use and replaced once its demand nears expiry; a
   * pool that could not be created is tried again next time.
   */
  get(image: ImageOrder): Promise<RentalPool> {
    const { now, settings, logger } = this.#options;
    const current = this.#pools.get(image.key);
    if (current && now() - current.createdAtMs < demandRefreshMs(settings)) return current.pool;
    if (current) {
      logger.info({ image: image.key }, "replacing a Golem rental pool whose demand is about to expire");
      this.#retire(current.pool);
    }
    const createdAtMs = now();
    const pool: Promise<RentalPool> = this.#create(image, createdAtMs).catch((error: unknown) => {
      if (this.#pools.get(image.key)?.pool === pool) this.#pools.delete(image.key);
      throw error;
    });
    this.#pools.set(image.key, { pool, createdAtMs });
    return pool;
  }

  /** Withdraws every pool's demand and ends its agreements, waiting for them until `deadline`. */
  async close(deadline: AbortSignal): Promise<void> {
    const created = await Promise.allSettled([...this.#pools.values()].map((entry) => entry.pool));
    this.#pools.clear();
    const pools = created.flatMap((entry) => (entry.status === "fulfilled" ? [entry.value] : []));
    await Promise.allSettled(pools.map((pool) => pool.close(deadline)));
    await this.#retiring.settled();
  }

  /** Chunks still on the old pool finish there; its rentals are destroyed once returned. */
  #retire(pool: Promise<RentalPool>): void {
    const { settings } = this.#options;
    const deadline = AbortSignal.timeout(chunkTimeMs(settings) + settings.finalizeTimeoutMs);
    this.#retiring.add(pool.then((old) => old.close(deadline)).catch(() => undefined));
  }

  async #create(image: ImageOrder, createdAtMs: number): Promise<RentalPool> {
    const { glm, allocation, settings, logger, ledger, bans, reputation } = this.#options;
    // Sees every offer, and every draft again when it is taken from the pool.
    const offerFilter = (proposal: OfferProposal): boolean => {
      notePricing(ledger, proposal);
      return !bans.isBanned(proposal.provider.id);
    };
    const asked = marketOrderFor(image, settings);
    const order: Omit<MarketOrderSpec, "payment"> = { ...asked, market: { ...asked.market, offerProposalFilter: offerFilter } };
    // What glm.manyOf does, by hand: manyOf keeps its demand published until disconnect,
    // while a closed period (or a replaced pool) must withdraw its own. An agreement's
    // length is the demand's golem.srv.comp.expiration (providers end it then), not
    // agreementOptions.expirationSec, which is only the proposal's approval deadline.
    const proposals = new DraftOfferProposalPool({
      logger: golemLogger(logger, "golem-js:proposal-pool"),
      validateOfferProposal: offerFilter,
      selectOfferProposal: cheapestOffer(settings.rentHours, (providerId) => reputation.successShare(providerId)),
    });
    const demandSpecification = await glm.market.buildDemandDetails(order.demand, order.market, allocation);
    const offers = keepOffersFlowing({
      glm,
      proposals,
      demandSpecification,
      // The spending bounds (prices, threads, worst case, allow-list), then the bans.
      accept: (proposal) => {
        const refusal = offerRefusal(proposal, settings);
        if (refusal !== undefined) {
          logger.debug({ provider: proposal.provider.id, name: proposal.provider.name, image: image.key }, `offer not taken: ${refusal}`);
          return false;
        }
        return offerFilter(proposal);
      },
      logger,
      image: image.key,
    });
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
      resourceRentalOptions: { payment: paymentGuard({ rentHours: settings.rentHours, bans, logger }) },
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
    return new RentalPool(rentals, offers, bans, settings.finalizeTimeoutMs, createdAtMs);
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
