/**
 * Agreements on the requestor's node (core/market/src/negotiation/requestor.rs and
 * common.rs, errors as rest_api/error.rs maps them):
 *
 * - created from the provider's last `Draft` proposal (an `Initial` one is 400
 *   "no negotiations", one already used 409), state `Proposal`, `validTo` in the future;
 * - confirmed (`Pending`, remembers the appSessionId its events are filtered by) and sent
 *   to the provider, whose negotiator approves or rejects it; `wait` long-polls for that
 *   (204 approved, 408 timeout, 410 rejected/cancelled/expired, 400 unconfirmed or terminated);
 * - terminated by either side (`AgreementTerminatedEvent` with terminator and reason);
 * - an agreement not approved by its `validTo` expires.
 */
import { EventLog, Waiters } from "../event-log.ts";
import { ApiError, badRequest, conflict, gone, notFound } from "../http.ts";
import { agreementId as newAgreementId, isoMicros, parseMicros } from "../ids.ts";
import type { Network } from "../network.ts";
import { send } from "../network.ts";
import type { ProposalRecord } from "./market.ts";

export type AgreementState = "Proposal" | "Pending" | "Cancelled" | "Rejected" | "Approved" | "Expired" | "Terminated";

export interface AgreementRecord {
  id: string;
  state: AgreementState;
  proposal: ProposalRecord;
  demand: { properties: Record<string, unknown>; constraints: string; demandId: string; requestorId: string; timestamp: string };
  offer: { properties: Record<string, unknown>; constraints: string; offerId: string; providerId: string; timestamp: string };
  validToMs: number;
  validTo: string;
  timestamp: string;
  approvedDate?: string;
  appSessionId?: string;
  terminator?: "Requestor" | "Provider";
  reason?: Record<string, unknown>;
  /** When it ended (emulated ms), for the control API. */
  endedAtMs?: number;
}

export type AgreementEvent = {
  eventType: "AgreementApprovedEvent" | "AgreementRejectedEvent" | "AgreementCancelledEvent" | "AgreementTerminatedEvent";
  eventDate: string;
  agreementId: string;
  terminator?: "Requestor" | "Provider";
  signature?: string;
  reason?: Record<string, unknown>;
};

export class Agreements {
  readonly records = new Map<string, AgreementRecord>();
  readonly events: EventLog<AgreementEvent>;
  readonly #changes = new Waiters();
  readonly #network: Network;

  constructor(network: Network) {
    this.#network = network;
    this.events = new EventLog(() => network.clock.now());
  }

  create(proposalId: string, validTo: string): string {
    const proposal = this.#network.market.proposals.get(proposalId);
    if (!proposal) throw badRequest(`Proposal [${proposalId}] not found`);
    if (proposal.issuer === "Requestor") throw badRequest(`Can't create Agreement from our own Proposal [${proposalId}]`);
    if (proposal.state === "Initial" || !proposal.prevProposalId)
      throw badRequest(`No negotiations were conducted for Proposal [${proposalId}]`);
    if (proposal.state === "Rejected") throw badRequest(`Proposal [${proposalId}] was rejected`);
    if (proposal.state === "Accepted") throw conflict(`Proposal [${proposalId}] already accepted`);
    if (proposal.counteredBy) throw badRequest(`Proposal [${proposalId}] was countered`);
    const validToMicros = parseMicros(validTo);
    const now = this.#network.clock.now();
    if (Number.isNaN(validToMicros) || validToMicros / 1000 <= now)
      throw badRequest(`Invalid validTo ${validTo}: must be a date in the future`);
    const demandProposal = this.#network.market.proposals.get(proposal.prevProposalId);
    const demand = this.#network.market.demands.get(proposal.demandId);
    if (!demandProposal || !demand) throw badRequest(`Proposal [${proposalId}] has no counterpart`);
    proposal.state = "Accepted";
    const record: AgreementRecord = {
      id: newAgreementId(),
      state: "Proposal",
      proposal,
      demand: {
        properties: demandProposal.properties,
        constraints: demandProposal.constraints,
        demandId: demand.id,
        requestorId: demand.requestorId,
        timestamp: demandProposal.timestamp,
      },
      offer: {
        properties: proposal.properties,
        constraints: proposal.constraints,
        offerId: proposal.offerId,
        providerId: proposal.providerId,
        timestamp: proposal.timestamp,
      },
      validToMs: Math.floor(validToMicros / 1000),
      validTo: isoMicros(validToMicros),
      timestamp: isoMicros(now * 1000),
    };
    this.records.set(record.id, record);
    this.#network.scheduler.at(record.validToMs, `agreement ${record.id} validTo`, () => this.#expireUnapproved(record));
    return record.id;
  }

  get(id: string): AgreementRecord {
    const record = this.records.get(id);
    if (!record) throw notFound(`Agreement [${id}] not found`);
    return record;
  }

  json(record: AgreementRecord): Record<string, unknown> {
    return {
      agreementId: record.id,
      demand: record.demand,
      offer: record.offer,
      validTo: record.validTo,
      ...(record.approvedDate ? { approvedDate: record.approvedDate } : {}),
      state: record.state,
      timestamp: record.timestamp,
      ...(record.appSessionId !== undefined ? { appSessionId: record.appSessionId } : {}),
    };
  }

  confirm(id: string, appSessionId: string | undefined): void {
    const record = this.get(id);
    if (record.state !== "Proposal") throw new ApiError(410, `Agreement [${id}] is ${record.state}, not in Proposal state`);
    record.state = "Pending";
    record.appSessionId = appSessionId;
    this.#changes.wake();
    const provider = this.#network.providers.byId(record.offer.providerId);
    if (provider) send(this.#network, provider.nodeId, () => provider.onAgreementProposed(record));
  }

  async waitForApproval(id: string, timeoutSec: number, signal: AbortSignal): Promise<void> {
    const record = this.get(id);
    if (record.state === "Proposal") throw badRequest(`Agreement [${id}] not confirmed yet`);
    const settled = () => record.state !== "Pending";
    await this.#changes.until(settled, timeoutSec, signal);
    switch (record.state) {
      case "Approved":
        return;
      case "Pending":
        throw new ApiError(408, `Timeout while waiting for Agreement [${id}] approval`);
      case "Terminated":
        throw badRequest(`Agreement [${id}] terminated`);
      case "Expired":
        throw gone(`Agreement [${id}] expired`);
      default:
        throw gone(record.state);
    }
  }

  /** The requestor terminates (POST /agreements/{id}/terminate). */
  terminateByRequestor(id: string, reason: Record<string, unknown> | undefined): void {
    const record = this.get(id);
    if (record.state === "Proposal" || record.state === "Pending")
      throw conflict(`Agreement [${id}] can't be terminated in state ${record.state}`);
    if (record.state !== "Approved") throw gone(`Agreement [${id}] is ${record.state}`);
    const provider = this.#network.providers.byId(record.offer.providerId);
    if (!provider?.reachable)
      throw new ApiError(500, `Failed to terminate Agreement [${id}]: provider ${record.offer.providerId} unreachable`);
    this.#terminated(record, "Requestor", reason ?? { message: "Terminated by requestor" });
    send(this.#network, provider.nodeId, () => provider.onAgreementTerminatedByRequestor(record));
  }

  /** The provider approved the agreement it was sent. */
  approvedByProvider(record: AgreementRecord): void {
    if (record.state !== "Pending") return;
    record.state = "Approved";
    record.approvedDate = isoMicros(this.#network.clock.now() * 1000);
    this.#push(record, { eventType: "AgreementApprovedEvent" });
    this.#changes.wake();
  }

  rejectedByProvider(record: AgreementRecord, reason: Record<string, unknown>): void {
    if (record.state !== "Pending") return;
    record.state = "Rejected";
    record.reason = reason;
    record.endedAtMs = this.#network.clock.now();
    this.#push(record, { eventType: "AgreementRejectedEvent", reason });
    this.#changes.wake();
  }

  terminatedByProvider(record: AgreementRecord, reason: Record<string, unknown>): void {
    if (record.state !== "Approved") return;
    this.#terminated(record, "Provider", reason);
  }

  #terminated(record: AgreementRecord, terminator: "Requestor" | "Provider", reason: Record<string, unknown>): void {
    record.state = "Terminated";
    record.terminator = terminator;
    record.reason = reason;
    record.endedAtMs = this.#network.clock.now();
    this.#push(record, { eventType: "AgreementTerminatedEvent", terminator, signature: "", reason });
    this.#changes.wake();
    this.#network.log("info", "agreement terminated", { agreementId: record.id, terminator, reason: reason.message });
  }

  #expireUnapproved(record: AgreementRecord): void {
    if (record.state !== "Proposal" && record.state !== "Pending") return;
    record.state = "Expired";
    record.endedAtMs = this.#network.clock.now();
    this.#changes.wake();
  }

  #push(record: AgreementRecord, event: Omit<AgreementEvent, "eventDate" | "agreementId">): void {
    this.events.push((eventDate) => ({ ...event, eventDate, agreementId: record.id }));
  }

  /** The app session an agreement's events belong to (events are filtered by it). */
  sessionOf(agreementId: string): string | undefined {
    return this.records.get(agreementId)?.appSessionId;
  }

  async collectEvents(
    afterTimestamp: string | undefined,
    timeoutSec: number,
    maxEvents: number,
    appSessionId: string | undefined,
    signal: AbortSignal,
  ): Promise<AgreementEvent[]> {
    const afterMicros = afterTimestamp === undefined ? undefined : parseMicros(afterTimestamp);
    if (Number.isNaN(afterMicros)) throw badRequest(`afterTimestamp ${afterTimestamp} is not a date-time`);
    return this.events.collect({
      afterMicros,
      maxEvents,
      timeoutSec,
      signal,
      filter: (event) => appSessionId === undefined || this.sessionOf(event.agreementId) === appSessionId,
    });
  }
}
