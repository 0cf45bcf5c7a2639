/**
 * One emulated provider node: its offer, ya-provider's reactions to proposals and
 * agreements (agent/provider/src/market/provider_market.rs process_proposal,
 * process_agreement), its agreements (agreement-agent.ts), the exe-units it starts for
 * activities, and the faults the control API sets on it.
 *
 * - The offer is re-published when its subscription expires (an hour, yagna's default
 *   TTL; ya-provider re-subscribes on the 404 that follows), which matches it again with
 *   the live demands.
 * - A requestor proposal is answered after the negotiator's step: a counter-offer (Draft)
 *   or a rejection. A non-final rejection is remembered and negotiated again when one of
 *   the provider's agreements ends (renegotiate_demands).
 * - An agreement is approved only if a new negotiation step on it is "ready" (composite.rs
 *   ReactToAgreement), else rejected.
 * - A vanished provider receives and sends nothing: requests to it time out.
 */
import type { ExeUnit, ExeUnitFaults, GsbCaller } from "../exe-unit/exe-unit.ts";
import type { ExeUnitFactory } from "../activity/activities.ts";
import { nodeIdOf, subscriptionId } from "../ids.ts";
import type { Filter } from "../market/constraints.ts";
import { parseConstraints } from "../market/constraints.ts";
import type { AgreementRecord } from "../market/agreements.ts";
import type { ProposalRecord } from "../market/market.ts";
import { DEMAND_TTL_MS } from "../market/market.ts";
import type { Properties } from "../market/properties.ts";
import { stringProperty } from "../market/properties.ts";
import type { Network } from "../network.ts";
import type { DebitNoteRecord, InvoiceRecord } from "../payment/documents.ts";
import { AgreementAgent } from "./agreement-agent.ts";
import { NegotiationError, negotiate } from "./negotiator.ts";
import type { ProviderSpec } from "./offer.ts";
import { offerTemplate } from "./offer.ts";

export interface OfferRecord {
  id: string;
  properties: Properties;
  constraints: string;
  filter: Filter;
  createdAtMs: number;
  expiresAtMs: number;
}

export interface ProviderEnvironment {
  subnet: string;
  exeUnits: ExeUnitFactory;
  gsb: GsbCaller;
  /** Folder for this provider's exe-units (image cache, volumes). */
  workDir: string;
}

export class EmulatedProvider {
  readonly spec: ProviderSpec;
  readonly nodeId: string;
  readonly agent: AgreementAgent;
  offer: OfferRecord | undefined;
  /** Faults the control API set (merged with the provider's speed for the exe-unit). */
  faults: ExeUnitFaults = {};
  vanished = false;
  /** Requestor proposals rejected for now (no free slot), negotiated again when an agreement ends. */
  readonly #postponed: { proposal: ProposalRecord; previous: ProposalRecord }[] = [];
  readonly #network: Network;
  readonly #environment: ProviderEnvironment;

  constructor(network: Network, spec: ProviderSpec, environment: ProviderEnvironment) {
    this.#network = network;
    this.spec = spec;
    this.#environment = environment;
    this.nodeId = nodeIdOf(spec.name);
    this.agent = new AgreementAgent(network, this.nodeId, () => this.#renegotiate());
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
    this.#network.scheduler.at(this.offer.expiresAtMs, `offer ${this.offer.id} expires`, () => this.publishOffer());
    if (this.reachable) this.#network.market.offerPublished(this);
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
    return this.#environment.exeUnits({
      providerId: this.nodeId,
      taskPackage,
      memoryBytes: Math.floor(this.spec.memoryGib * 1024 ** 3),
      threads: this.spec.threads,
      workRoot: this.#environment.workDir,
      gsb: this.#environment.gsb,
      faults: () => this.exeUnitFaults(),
    });
  }

  /** The faults the exe-unit applies: the control API's, with the provider's own speed folded into `slowFactor`. */
  exeUnitFaults(): ExeUnitFaults {
    const slowFactor = Math.max(1, this.spec.speed) * Math.max(1, this.faults.slowFactor ?? 1);
    return { ...this.faults, ...(slowFactor > 1 ? { slowFactor } : {}) };
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
