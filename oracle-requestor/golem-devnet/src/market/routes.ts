/**
 * The market API operations golem-js uses (market-api.yaml, requestor side), by
 * operationId. Long-poll defaults as yagna's (rest_api.rs: `timeout` 5 s, events
 * `maxEvents` capped at 100).
 */
import type { Handlers } from "../http.ts";
import { ok, queryNumber, queryString } from "../http.ts";
import type { Network } from "../network.ts";

const DEFAULT_TIMEOUT_SEC = 5;
const MAX_EVENTS_DEFAULT = 20;
const MAX_EVENTS_MAX = 100;

const maxEvents = (value: number) => Math.max(1, Math.min(MAX_EVENTS_MAX, Math.floor(value)));

export function marketHandlers(network: Network): Handlers {
  const { market, agreements } = network;
  return {
    subscribeDemand: ({ body }) => ok(market.subscribeDemand(body as { properties?: unknown; constraints?: unknown })),
    getDemands: () =>
      ok(
        market.liveDemands().map((demand) => ({
          properties: demand.properties,
          constraints: demand.constraints,
          demandId: demand.id,
          requestorId: demand.requestorId,
          timestamp: demand.timestamp,
        })),
      ),
    unsubscribeDemand: ({ params }) => {
      market.unsubscribeDemand(params.subscriptionId!);
      return ok();
    },
    collectOffers: async (context) =>
      ok(
        await market.collectOffers(
          context.params.subscriptionId!,
          queryNumber(context, "timeout", DEFAULT_TIMEOUT_SEC),
          maxEvents(queryNumber(context, "maxEvents", MAX_EVENTS_DEFAULT)),
          context.signal,
        ),
      ),
    getProposalOffer: ({ params }) => ok(market.proposalJson(market.getProposal(params.subscriptionId!, params.proposalId!))),
    counterProposalDemand: ({ params, body }) =>
      ok(market.counterProposal(params.subscriptionId!, params.proposalId!, body as { properties?: unknown; constraints?: unknown })),
    rejectProposalOffer: ({ params }) => {
      market.rejectProposal(params.subscriptionId!, params.proposalId!);
      return ok();
    },
    createAgreement: ({ body }) => {
      const { proposalId, validTo } = body as { proposalId: string; validTo: string };
      return ok(agreements.create(proposalId, validTo));
    },
    getAgreement: ({ params }) => ok(agreements.json(agreements.get(params.agreementId!))),
    listAgreements: (context) => {
      const session = queryString(context, "appSessionId");
      const state = queryString(context, "state");
      const list = [...agreements.records.values()].filter(
        (record) => (session === undefined || record.appSessionId === session) && (state === undefined || record.state === state),
      );
      return ok(
        list.map((record) => ({ id: record.id, timestamp: record.timestamp, approvedDate: record.approvedDate, role: "Requestor" })),
      );
    },
    confirmAgreement: (context) => {
      agreements.confirm(context.params.agreementId!, queryString(context, "appSessionId"));
      return ok();
    },
    waitForApproval: async (context) => {
      await agreements.waitForApproval(context.params.agreementId!, queryNumber(context, "timeout", DEFAULT_TIMEOUT_SEC), context.signal);
      return ok();
    },
    terminateAgreement: ({ params, body }) => {
      agreements.terminateByRequestor(params.agreementId!, body as Record<string, unknown> | undefined);
      return ok();
    },
    getTerminateAgreementReason: ({ params }) => {
      const record = agreements.get(params.agreementId!);
      if (record.state !== "Terminated") return { status: 400, body: { message: `Agreement [${record.id}] is not terminated` } };
      return ok({
        eventType: "AgreementTerminatedEvent",
        eventDate: record.timestamp,
        agreementId: record.id,
        terminator: record.terminator,
        signature: "",
        reason: record.reason,
      });
    },
    collectAgreementEvents: async (context) =>
      ok(
        await agreements.collectEvents(
          queryString(context, "afterTimestamp"),
          queryNumber(context, "timeout", DEFAULT_TIMEOUT_SEC),
          maxEvents(queryNumber(context, "maxEvents", MAX_EVENTS_DEFAULT)),
          queryString(context, "appSessionId"),
          context.signal,
        ),
      ),
  };
}
