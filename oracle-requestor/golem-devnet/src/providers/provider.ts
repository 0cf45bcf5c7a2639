/**
 * One emulated provider node: its offer, ya-provider's reactions to proposals and
 * agreements (agent/provider/src/market/provider_market.rs process_proposal,
 * process_agreement), its agreements (agreement-agent.ts), the exe-units it starts for
 * activities, and the faults the control API sets on it.
 *
 * - The offer is re-published when its subscription expires (an hour, yagna's default
 *   TTL; ya-provider re-subscribes on the 404 that follows), which matches it again with
 *   the live demands.
 * - A changed offer (control API: threads, memory, prices) is withdrawn and published
 *   anew, as ya-provider does when a preset or the hardware changes (provider_agent.rs:
 *   Unsubscribe the offers, then CreateOffers): a new subscription id, proposals of the
 *   old one refused by the market. Agreements keep the offer they were signed on, and
 *   their activities' exe-units get the agreement's threads and memory.
 * - A requestor proposal is answered after the negotiator's step: a counter-offer (Draft)
 *   or a rejection. A non-final rejection is remembered and negotiated again when one of
 *   the provider's agreements ends (renegotiate_demands).
 * - An agreement is approved only if a new negotiation step on it is "ready" (composite.rs
 *   ReactToAgreement), else rejected.
 * - A vanished provider receives and sends nothing: requests to it time out.
 */
import type { ExeUnitFactory } from "../activity/activities.ts";
import type { ScheduledTask } from "../clock.ts";
import type { ExeUnit, ExeUnitFaults, GsbCaller } from "../exe-unit/exe-unit.ts";
import { nodeIdOf, subscriptionId } from "../ids.ts";
import type { Filter } from "../market/constraints.ts";
import { parseConstraints } from "../market/constraints.ts";
import type { AgreementRecord } from "../market/agreements.ts";
import type { ProposalRecord } from "../market/market.ts";
import { DEMAND_TTL_MS } from "../market/market.ts";
import type { Properties } from "../market/properties.ts";
import { numberProperty, stringProperty } from "../market/properties.ts";
import type { Network } from "../network.ts";
import type { DebitNoteRecord, InvoiceRecord } from "../payment/documents.ts";
import { AgreementAgent } from "./agreement-agent.ts";
import { NegotiationError, negotiate } from "./negotiator.ts";
import type { OfferUpdate, ProviderSpec } from "./offer.ts";
import { offerTemplate, updatedSpec } from "./offer.ts";

export interface OfferRecord {
  id: string;
  properties: Properties;
  constraints: string;
  filter: Filter;
  createdAtMs: number;
  expiresAtMs: number;
}

/** The exe-unit faults, and the provider's own: billing more than the agreement's prices give. */
export interface ProviderFaults extends ExeUnitFaults {
  /** ≥ 1: debit notes and invoices state this many times the linear-pricing amount (a provider lying about the amount). */
  overchargeFactor?: number;
}

export interface ProviderEnvironment {
  subnet: string;
  exeUnits: ExeUnitFactory;
  gsb: GsbCaller;
  /** Folder for this provider's exe-units (image cache, volumes). */
  workDir: string;
}

export class EmulatedProvider {
  readonly nodeId: string;
  readonly agent: AgreementAgent;
  offer: OfferRecord | undefined;
  /** Faults the control API set (the exe-unit's merged with the provider's speed, see exeUnitFaults). */
  faults: ProviderFaults = {};
  vanished = false;
  /** Requestor proposals rejected for now (no free slot), negotiated again when an agreement ends. */
  #postponed: { proposal: ProposalRecord; previous: ProposalRecord }[] = [];
  #spec: ProviderSpec;
  /** The current offer's re-publication at its expiry (cancelled when the offer is withdrawn first). */
  #offerExpiry: ScheduledTask | undefined;
  readonly #network: Network;
  readonly #environment: ProviderEnvironment;

  constructor(network: Network, spec: ProviderSpec, environment: ProviderEnvironment) {
    this.#network = network;
    this.#spec = updatedSpec(spec, {}); // a copy: the caller's specs may share one prices object
    this.#environment = environment;
    this.nodeId = nodeIdOf(spec.name);
    this.agent = new AgreementAgent(network, this.nodeId, {
      onFinalized: () => this.#renegotiate(),
      overchargeFactor: () => this.faults.overchargeFactor ?? 1,
    });
  }

  /** Hardware, prices and speed as the current offer states them. */
  get spec(): ProviderSpec {
    return this.#spec;
  }

  get reachable(): boolean {
    return !this.vanished;
  }

  publishOffer(): void {
    const now = this.#network.clock.now();
    const template = offerTemplate(this.spec, this.nodeId, this.#environment.subnet, now);
    this.offer = {
      id: subscriptionId(),
      properties: template.properties,
      constraints: template.constraints,
      filter: parseConstraints(template.constraints),
      createdAtMs: now,
      expiresAtMs: now + DEMAND_TTL_MS,
    };
    this.#offerExpiry = this.#network.scheduler.at(this.offer.expiresAtMs, `offer ${this.offer.id} expires`, () => this.publishOffer());
    if (this.reachable) this.#network.market.offerPublished(this);
  }

  /** Changes the offer: the old one is unsubscribed, a new one published (a new subscription id). */
  updateOffer(update: OfferUpdate): void {
    this.#spec = updatedSpec(this.#spec, update);
    const old = this.offer;
    if (old) {
      this.#offerExpiry?.cancel();
      this.#network.market.offerUnsubscribed(old.id);
      // Negotiations on the old offer are over: the market refuses its proposals now.
      this.#postponed = this.#postponed.filter(({ proposal }) => proposal.offerId !== old.id);
    }
    this.publishOffer();
    this.#network.log("info", "provider re-published its offer", { provider: this.spec.name, old: old?.id, offerId: this.offer?.id });
  }

  /** The requestor countered one of our proposals (or our offer's Initial proposal). */
  onRequestorProposal(proposal: ProposalRecord, previous: ProposalRecord): void {
    const result = this.#negotiate(proposal.properties, previous.properties, proposal.id);
    if (!result) return;
    if (result.kind === "reject") {
      if (!result.isFinal) this.#postponed.push({ proposal, previous });
      this.#network.market.providerReject(proposal, result.message, result.isFinal);
      return;
    }
    this.#network.market.providerCounter(proposal, this, result.offer, previous.constraints);
  }

  onAgreementProposed(record: AgreementRecord): void {
    const result = this.#negotiate(record.demand.properties, record.offer.properties, record.id);
    if (result?.kind === "ready") {
      this.agent.approved(record);
      this.#network.agreements.approvedByProvider(record);
      this.#network.log("info", "provider approved agreement", { provider: this.spec.name, agreementId: record.id });
      return;
    }
    const message = result === undefined ? "Negotiator error" : result.kind === "reject" ? result.message : "Negotiations aren't finished.";
    const isFinal = result?.kind === "reject" ? result.isFinal : false;
    this.#network.agreements.rejectedByProvider(record, { message, "golem.proposal.rejection.is-final": isFinal });
  }

  onAgreementTerminatedByRequestor(record: AgreementRecord): void {
    this.agent.closedByRequestor(record.id);
  }

  onDebitNoteAccepted(note: DebitNoteRecord): void {
    this.agent.debitNoteAccepted(note);
  }

  onInvoiceAccepted(invoice: InvoiceRecord): void {
    this.#network.log("debug", "provider's invoice accepted", { provider: this.spec.name, invoiceId: invoice.id });
  }

  /** Starts the exe-unit of a new activity on this agreement. */
  async startExeUnit(record: AgreementRecord): Promise<ExeUnit> {
    const taskPackage = stringProperty(record.demand.properties, "golem.srv.comp.task_package");
    if (!taskPackage) throw new Error("the agreement's demand has no golem.srv.comp.task_package");
    // The VM is sized by the agreement (ya-exe-unit hands its golem.inf.* to the runtime), not by a later offer.
    const offer = record.offer.properties;
    const memoryGib = numberProperty(offer, "golem.inf.mem.gib") ?? this.spec.memoryGib;
    return this.#environment.exeUnits({
      providerId: this.nodeId,
      taskPackage,
      memoryBytes: Math.floor(memoryGib * 1024 ** 3),
      threads: numberProperty(offer, "golem.inf.cpu.threads") ?? this.spec.threads,
      workRoot: this.#environment.workDir,
      gsb: this.#environment.gsb,
      faults: () => this.exeUnitFaults(),
    });
  }

  /** The faults the exe-unit applies: the control API's (not billing's), with the provider's own speed folded into `slowFactor`. */
  exeUnitFaults(): ExeUnitFaults {
    const { overchargeFactor: _billing, ...faults } = this.faults;
    const slowFactor = Math.max(1, this.spec.speed) * Math.max(1, faults.slowFactor ?? 1);
    return { ...faults, ...(slowFactor > 1 ? { slowFactor } : {}) };
  }

  #negotiate(demand: Properties, offer: Properties, id: string) {
    try {
      return negotiate(demand, offer, { nowMs: this.#network.clock.now(), hasFreeSlot: this.agent.activeCount < 1 });
    } catch (error) {
      if (!(error instanceof NegotiationError)) throw error;
      // ya-provider logs the negotiator error and answers nothing.
      this.#network.log("warn", `provider ${this.spec.name} cannot negotiate ${id}: ${error.message}`);
      return undefined;
    }
  }

  #renegotiate(): void {
    const postponed = this.#postponed.splice(0);
    for (const { proposal, previous } of postponed) {
      const demand = this.#network.market.demands.get(proposal.demandId);
      if (!demand || demand.unsubscribed) continue;
      setTimeout(() => this.reachable && this.onRequestorProposal(proposal, previous), this.#network.latencyMs).unref();
    }
  }
}
