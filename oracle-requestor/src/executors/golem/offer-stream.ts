/**
 * The offers feeding one rental pool, kept flowing. golem-js 3.6.0's
 * `collectDraftOfferProposals` ends at the first error while polling offers (anything
 * but a 404), and worse, its batching step subscribes upstream without an error
 * handler, so that error is thrown uncaught and takes the process down (fixed
 * upstream in 3.6.1, which our registry does not have). So the pipeline is rebuilt
 * here from the module's public pieces — publish the demand, read its proposal events,
 * negotiate initial offers, hand drafts to the pool — and subscribed again after each
 * error with an exponential backoff; re-subscribing publishes the demand anew.
 */
import type { DemandSpecification, DraftOfferProposalPool, GolemNetwork, OfferProposal } from "@golem-sdk/golem-js";
import type { ExecutorLogger } from "./reporting.ts";

export const OFFER_RETRY_FIRST_MS = 1_000;
export const OFFER_RETRY_MAX_MS = 30_000;

export interface OfferStreamOptions {
  glm: GolemNetwork;
  proposals: DraftOfferProposalPool;
  demandSpecification: DemandSpecification;
  /** Price limits and the executor's own filter: false drops the offer. */
  accept: (proposal: OfferProposal) => boolean;
  logger: ExecutorLogger;
  /** For the log lines. */
  image: string;
}

/** A subscription to a demand's offers that survives errors until `unsubscribe`. */
export interface OfferStream {
  unsubscribe(): void;
}

interface Unsubscribable {
  unsubscribe(): void;
}

export function keepOffersFlowing(options: OfferStreamOptions): OfferStream {
  const { glm, proposals, demandSpecification, accept, logger, image } = options;
  let stopped = false;
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;
  let subscriptions: Unsubscribable[] = [];

  const onProposal = (proposal: OfferProposal) => {
    if (!(proposal.isInitial() || proposal.isDraft()) || !proposal.isValid() || !accept(proposal)) return;
    failures = 0;
    if (proposal.isDraft()) proposals.add(proposal);
    else
      glm.market
        .negotiateProposal(proposal, demandSpecification)
        .catch((error: unknown) => logger.debug({ err: error, image }, "negotiating a Golem offer failed"));
  };
  const onError = (error: unknown) => {
    if (stopped || subscriptions.length === 0) return;
    for (const subscription of subscriptions) subscription.unsubscribe();
    subscriptions = [];
    const delayMs = Math.min(OFFER_RETRY_FIRST_MS * 2 ** failures, OFFER_RETRY_MAX_MS);
    failures++;
    logger.warn({ err: error, image, retryInMs: delayMs }, "the Golem offer stream failed; subscribing again");
    timer = setTimeout(subscribe, delayMs);
    timer.unref();
  };
  const subscribe = () => {
    if (stopped) return;
    let events: Unsubscribable | undefined;
    const demands = glm.market.publishAndRefreshDemand(demandSpecification).subscribe({
      next: (demand) => {
        events?.unsubscribe();
        events = glm.market.collectMarketProposalEvents(demand).subscribe({
          next: (event) => {
            if (event.type === "ProposalReceived") onProposal(event.proposal);
          },
          error: onError,
        });
        subscriptions.push(events);
      },
      error: onError,
    });
    subscriptions.push(demands);
  };
  subscribe();
  return {
    unsubscribe() {
      stopped = true;
      clearTimeout(timer);
      for (const subscription of subscriptions) subscription.unsubscribe();
    },
  };
}
