/** The payment API operations golem-js uses (payment-api.yaml, requestor side), by operationId. */
import type { Handlers, RequestContext } from "../http.ts";
import { ApiError, ok, queryNumber, queryString } from "../http.ts";
import type { Network } from "../network.ts";
import type { Rejection } from "./documents.ts";

const DEFAULT_EVENT_TIMEOUT_SEC = 5;
const MAX_EVENTS_DEFAULT = 10;

function eventQuery(context: RequestContext) {
  return {
    afterTimestamp: queryString(context, "afterTimestamp"),
    timeoutSec: queryNumber(context, "timeout", DEFAULT_EVENT_TIMEOUT_SEC),
    maxEvents: Math.max(1, Math.min(100, Math.floor(queryNumber(context, "maxEvents", MAX_EVENTS_DEFAULT)))),
    appSessionId: queryString(context, "appSessionId"),
    signal: context.signal,
  };
}

type Acceptance = { totalAmountAccepted: string; allocationId: string };

export function paymentHandlers(network: Network): Handlers {
  const { allocations, documents } = network.payments;
  return {
    createAllocation: ({ body }) => ok(allocations.json(allocations.create(body as Record<string, unknown>))),
    getAllocations: () => ok(allocations.live().map((record) => allocations.json(record))),
    getAllocation: ({ params }) => ok(allocations.json(allocations.get(params.allocationId!))),
    releaseAllocation: ({ params }) => {
      allocations.release(params.allocationId!);
      return ok();
    },
    getRequestorAccounts: () => ok(allocations.accounts()),
    getDemandDecorations: ({ query }) => ok(allocations.demandDecorations((query.allocationIds as string[] | undefined) ?? [])),
    getDebitNote: ({ params }) => ok(documents.debitNoteJson(documents.debitNote(params.debitNoteId!))),
    getDebitNotes: () => ok([...documents.debitNotes.values()].map((note) => documents.debitNoteJson(note))),
    getInvoice: ({ params }) => ok(documents.invoiceJson(documents.invoice(params.invoiceId!))),
    getInvoices: () => ok([...documents.invoices.values()].map((invoice) => documents.invoiceJson(invoice))),
    acceptDebitNote: ({ params, body }) => {
      documents.acceptDebitNote(params.debitNoteId!, body as Acceptance);
      return ok();
    },
    acceptInvoice: ({ params, body }) => {
      documents.acceptInvoice(params.invoiceId!, body as Acceptance);
      return ok();
    },
    rejectInvoice: ({ params, body }) => {
      documents.rejectInvoice(params.invoiceId!, (body ?? {}) as Rejection); // a missing body is a recorded violation
      return ok();
    },
    // yagna has never implemented it (golem-js does not call it, golemfactory/yagna#1249): the note stays RECEIVED.
    rejectDebitNote: ({ params }) => {
      documents.debitNote(params.debitNoteId!);
      throw new ApiError(501, "Not implemented: yagna does not reject debit notes (core/payment/src/api/debit_notes.rs reject_debit_note)");
    },
    getDebitNoteEvents: async (context) =>
      ok(await documents.collect(documents.debitNoteEvents, (event) => event.debitNoteId, "debitNote", eventQuery(context))),
    getInvoiceEvents: async (context) =>
      ok(await documents.collect(documents.invoiceEvents, (event) => event.invoiceId, "invoice", eventQuery(context))),
  };
}
