/**
 * The requestor node's market: demand subscriptions, the offers matched to them, and the
 * negotiation (proposals and counter-proposals) with the providers, as yagna's market
 * service does it (core/market/src/negotiation/requestor.rs, matcher/resolver.rs):
 *
 * - a demand lives an hour (SubscriptionConfig.default_ttl); its events answer 404 once
 *   it expired or was unsubscribed (rest_api/error.rs QueryEventsError);
 * - each offer that matches (both sides' constraints hold, different nodes) arrives as an
 *   `Initial` proposal event; a provider publishing a new offer is matched the same way;
 * - a requestor counter-proposal goes to the provider, whose negotiator answers with a
 *   `Draft` counter-proposal or a rejection (ProposalRejectedEvent);
 * - an offer its provider unsubscribed matches nothing more, and countering or rejecting
 *   a proposal of it is refused (negotiation/common.rs validate_proposal: 400 "Subscription
 *   [offer id] was already unsubscribed.");
 * - errors as in rest_api/error.rs: unknown subscription or own proposal 400, expired
 *   subscription or already-countered proposal 410, unknown proposal 404.
 */
import { EventLog } from "../event-log.ts";
import { badRequest, gone, notFound } from "../http.ts";
import { proposalId as newProposalId, subscriptionId as newSubscriptionId, isoMicros } from "../ids.ts";
import type { Network } from "../network.ts";
import { send } from "../network.ts";
import type { EmulatedProvider } from "../providers/provider.ts";
import type { Filter } from "./constraints.ts";
import { ConstraintError, matches, parseConstraints } from "./constraints.ts";
import type { Properties } from "./properties.ts";
import { flattenProperties } from "./properties.ts";

export const DEMAND_TTL_MS = 60 * 60 * 1000;

export type ProposalState = "Initial" | "Draft" | "Rejected" | "Accepted" | "Expired";

export interface ProposalRecord {
  id: string;
  demandId: string;
  issuer: "Requestor" | "Provider";
  issuerId: string;
  properties: Properties;
  constraints: string;
  state: ProposalState;
  timestamp: string;
  prevProposalId?: string;
  providerId: string;
  offerId: string;
  /** Set once the other side answered it with a counter-proposal. */
  counteredBy?: string;
}

export type MarketEvent =
  | { eventType: "ProposalEvent"; eventDate: string; proposal: Record<string, unknown> }
  | { eventType: "ProposalRejectedEvent"; eventDate: string; proposalId: string; reason: Record<string, unknown> };

export interface DemandRecord {
  id: string;
  properties: Properties;
  constraints: string;
  filter: Filter;
  requestorId: string;
  createdAtMs: number;
  expiresAtMs: number;
  timestamp: string;
  events: EventLog<MarketEvent>;
  unsubscribed: boolean;
}

export class Market {
  readonly demands = new Map<string, DemandRecord>();
  readonly proposals = new Map<string, ProposalRecord>();
  /** Offer subscriptions their providers withdrew. */
  readonly #unsubscribedOffers = new Set<string>();
  readonly #network: Network;

  constructor(network: Network) {
    this.#network = network;
  }

  subscribeDemand(body: { properties?: unknown; constraints?: unknown }): string {
    const properties = flattenProperties(body.properties ?? {});
    const constraints = String(body.constraints ?? "");
    let filter: Filter;
    try {
      filter = parseConstraints(constraints);
    } catch (error) {
      if (error instanceof ConstraintError) throw badRequest(error.message);
      throw error;
    }
    const now = this.#network.clock.now();
    const demand: DemandRecord = {
      id: newSubscriptionId(),
      properties,
      constraints,
      filter,
      requestorId: this.#network.requestorId,
      createdAtMs: now,
      expiresAtMs: now + DEMAND_TTL_MS,
      timestamp: isoMicros(now * 1000),
      events: new EventLog(() => this.#network.clock.now()),
      unsubscribed: false,
    };
    this.demands.set(demand.id, demand);
    this.#network.log("info", "demand subscribed", { demandId: demand.id });
    for (const provider of this.#network.providers.all()) this.#matchAndPropose(demand, provider);
    return demand.id;
  }

  unsubscribeDemand(id: string): void {
    const demand = this.demand(id, false);
    if (demand.unsubscribed) throw gone(`Demand ${id} already unsubscribed`);
    demand.unsubscribed = true;
    demand.events.wake();
  }

  /** The requestor's live demands (GET /demands). */
  liveDemands(): DemandRecord[] {
    const now = this.#network.clock.now();
    return [...this.demands.values()].filter((demand) => !demand.unsubscribed && demand.expiresAtMs > now);
  }

  /** A demand by id; `live` also refuses unsubscribed (400) and expired (410) ones. */
  demand(id: string, live = true): DemandRecord {
    const demand = this.demands.get(id);
    if (!demand) throw notFound(`Subscription [${id}] not found`);
    if (live && demand.unsubscribed) throw badRequest(`Subscription [${id}] was unsubscribed`);
    if (live && demand.expiresAtMs <= this.#network.clock.now()) throw gone(`Subscription [${id}] expired`);
    return demand;
  }

  async collectOffers(id: string, timeoutSec: number, maxEvents: number, signal: AbortSignal): Promise<MarketEvent[]> {
    const demand = this.demands.get(id);
    const closed = () => !demand || demand.unsubscribed || demand.expiresAtMs <= this.#network.clock.now();
    if (closed()) throw notFound(`Subscription [${id}] ${demand?.unsubscribed ? "unsubscribed" : "not found or expired"}`);
    const events = await demand!.events.collect({
      maxEvents,
      timeoutSec,
      signal,
      // Negotiation events are handed out once (yagna removes what a poll returns).
      filter: (event) => !taken.has(event),
      stop: closed,
    });
    if (closed()) throw notFound(`Subscription [${id}] unsubscribed`);
    for (const event of events) taken.add(event);
    return events;
  }

  proposalJson(proposal: ProposalRecord): Record<string, unknown> {
    return {
      properties: proposal.properties,
      constraints: proposal.constraints,
      proposalId: proposal.id,
      issuerId: proposal.issuerId,
      state: proposal.state,
      timestamp: proposal.timestamp,
      ...(proposal.prevProposalId ? { prevProposalId: proposal.prevProposalId } : {}),
    };
  }

  getProposal(demandId: string, proposalId: string): ProposalRecord {
    this.demand(demandId, false);
    const proposal = this.proposals.get(proposalId);
    if (!proposal || proposal.demandId !== demandId) throw notFound(`Proposal [${proposalId}] not found for subscription [${demandId}]`);
    return proposal;
  }

  /** The requestor answers a provider's proposal with its own (POST /demands/{id}/proposals/{proposalId}). */
  counterProposal(demandId: string, proposalId: string, body: { properties?: unknown; constraints?: unknown }): string {
    const demand = this.demand(demandId);
    const previous = this.getProposal(demandId, proposalId);
    if (previous.issuer === "Requestor") throw badRequest(`Proposal [${proposalId}] is our own`);
    this.#checkOffer(previous);
    if (previous.state === "Rejected" || previous.state === "Expired")
      throw gone(`Proposal [${proposalId}] is ${previous.state.toLowerCase()}`);
    if (previous.counteredBy) throw gone(`Proposal [${proposalId}] already countered`);
    const properties = flattenProperties(body.properties ?? {});
    const constraints = String(body.constraints ?? "");
    try {
      parseConstraints(constraints);
    } catch (error) {
      if (error instanceof ConstraintError) throw badRequest(error.message);
      throw error;
    }
    const counter: ProposalRecord = {
      id: newProposalId(),
      demandId: demand.id,
      issuer: "Requestor",
      issuerId: this.#network.requestorId,
      properties,
      constraints,
      state: "Draft",
      timestamp: isoMicros(this.#network.clock.now() * 1000),
      prevProposalId: previous.id,
      providerId: previous.providerId,
      offerId: previous.offerId,
    };
    this.proposals.set(counter.id, counter);
    previous.counteredBy = counter.id;
    const provider = this.#network.providers.byId(previous.providerId);
    if (provider) send(this.#network, provider.nodeId, () => provider.onRequestorProposal(counter, previous));
    return counter.id;
  }

  rejectProposal(demandId: string, proposalId: string): void {
    this.demand(demandId);
    const proposal = this.getProposal(demandId, proposalId);
    if (proposal.issuer === "Requestor") throw badRequest(`Proposal [${proposalId}] is our own`);
    this.#checkOffer(proposal);
    if (proposal.state === "Rejected") throw gone(`Proposal [${proposalId}] already rejected`);
    proposal.state = "Rejected";
  }

  /** A provider published (or re-published) its offer: every live demand it matches gets an Initial proposal. */
  offerPublished(provider: EmulatedProvider): void {
    for (const demand of this.liveDemands()) this.#matchAndPropose(demand, provider);
  }

  /** A provider unsubscribed one of its offers (it publishes a changed one under a new id). */
  offerUnsubscribed(offerId: string): void {
    this.#unsubscribedOffers.add(offerId);
  }

  /** The provider's answer to a requestor proposal: its counter-offer, a Draft. */
  providerCounter(
    requestorProposal: ProposalRecord,
    provider: EmulatedProvider,
    properties: Properties,
    constraints: string,
  ): ProposalRecord | undefined {
    const demand = this.demands.get(requestorProposal.demandId);
    if (!demand || demand.unsubscribed || demand.expiresAtMs <= this.#network.clock.now()) return undefined;
    const draft: ProposalRecord = {
      id: newProposalId(),
      demandId: demand.id,
      issuer: "Provider",
      issuerId: provider.nodeId,
      properties,
      constraints,
      state: "Draft",
      timestamp: isoMicros(this.#network.clock.now() * 1000),
      prevProposalId: requestorProposal.id,
      providerId: provider.nodeId,
      offerId: requestorProposal.offerId,
    };
    this.proposals.set(draft.id, draft);
    requestorProposal.counteredBy = draft.id;
    demand.events.push((eventDate) => ({ eventType: "ProposalEvent", eventDate, proposal: this.proposalJson(draft) }));
    return draft;
  }

  /** The provider rejected a requestor proposal (ProposalRejectedEvent, reason as ya-provider words it). */
  providerReject(requestorProposal: ProposalRecord, message: string, isFinal: boolean): void {
    const demand = this.demands.get(requestorProposal.demandId);
    requestorProposal.state = "Rejected";
    if (!demand || demand.unsubscribed) return;
    demand.events.push((eventDate) => ({
      eventType: "ProposalRejectedEvent",
      eventDate,
      proposalId: requestorProposal.id,
      reason: { message, "golem.proposal.rejection.is-final": isFinal },
    }));
  }

  #checkOffer(proposal: ProposalRecord): void {
    if (this.#unsubscribedOffers.has(proposal.offerId)) throw badRequest(`Subscription [${proposal.offerId}] was already unsubscribed.`);
  }

  #matchAndPropose(demand: DemandRecord, provider: EmulatedProvider): void {
    const offer = provider.offer;
    if (!offer || offer.expiresAtMs <= this.#network.clock.now() || provider.nodeId === demand.requestorId) return;
    if (!provider.reachable) return;
    if (!matches({ filter: demand.filter, properties: demand.properties }, { filter: offer.filter, properties: offer.properties })) return;
    const initial: ProposalRecord = {
      id: newProposalId(),
      demandId: demand.id,
      issuer: "Provider",
      issuerId: provider.nodeId,
      properties: offer.properties,
      constraints: offer.constraints,
      state: "Initial",
      timestamp: isoMicros(this.#network.clock.now() * 1000),
      providerId: provider.nodeId,
      offerId: offer.id,
    };
    this.proposals.set(initial.id, initial);
    demand.events.push((eventDate) => ({ eventType: "ProposalEvent", eventDate, proposal: this.proposalJson(initial) }));
  }
}

/** Events already returned by a poll (yagna hands each negotiation event out once). */
const taken = new WeakSet<object>();
