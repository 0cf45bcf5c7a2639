/**
 * Debit notes and invoices as the requestor's node receives and accepts them
 * (core/payment/src/api/debit_notes.rs, invoices.rs, dao/debit_note.rs):
 *
 * - a received document is RECEIVED and raises a `…ReceivedEvent`; the requestor's event
 *   endpoints return RECEIVED and CANCELLED events only (their `X-Requestor-Events` default),
 *   filtered by the agreement's appSessionId;
 * - accepting needs `totalAmountAccepted` equal to the amount due (400 "Invalid amount
 *   accepted"), a live allocation (400 unknown, 410 released) with enough left (400
 *   "Not enough funds"); it spends what the agreement/activity has not paid yet, marks the
 *   document ACCEPTED and tells the provider; accepting twice is a no-op;
 * - a debit note arriving once the agreement's invoice was accepted is acknowledged
 *   without spending;
 * - rejecting an invoice (invoices.rs reject_invoice) marks it REJECTED with the requestor's
 *   Rejection (again: a no-op; accepted, settled or cancelled: 400), and it can still be
 *   accepted; debit notes cannot be rejected (yagna answers 501, see routes.ts).
 */
import type { Amount } from "../decimal.ts";
import { formatAmount, parseAmount } from "../decimal.ts";
import { EventLog } from "../event-log.ts";
import { badRequest, notFound } from "../http.ts";
import { documentId, isoMicros, parseMicros } from "../ids.ts";
import type { Network } from "../network.ts";
import { send } from "../network.ts";

export type DocumentStatus = "ISSUED" | "RECEIVED" | "ACCEPTED" | "REJECTED" | "FAILED" | "SETTLED" | "CANCELLED";

interface DocumentBase {
  id: string;
  issuerId: string;
  recipientId: string;
  payeeAddr: string;
  payerAddr: string;
  paymentPlatform: string;
  timestamp: string;
  /** Emulated ms it arrived. */
  receivedAtMs: number;
  agreementId: string;
  status: DocumentStatus;
  paymentDueDate?: string;
  /** Emulated ms it was accepted, and the allocation it was paid from. */
  acceptedAtMs?: number;
  allocationId?: string;
}

export interface DebitNoteRecord extends DocumentBase {
  activityId: string;
  totalAmountDue: Amount;
  usageCounterVector: number[];
  previousDebitNoteId?: string;
  /** Emulated ms by which the provider wants it accepted. */
  acceptDeadlineMs?: number;
}

export interface InvoiceRecord extends DocumentBase {
  activityIds: string[];
  amount: Amount;
  /** The requestor's Rejection (payment-api.yaml), once it rejected the invoice. */
  rejection?: Rejection;
}

export interface Rejection {
  rejectionReason: string;
  totalAmountAccepted: string;
  message?: string;
}

type DocumentEvent<K extends string> = { eventType: string; eventDate: string } & Record<K, string>;

export interface NewDebitNote {
  issuerId: string;
  agreementId: string;
  activityId: string;
  paymentPlatform: string;
  totalAmountDue: Amount;
  usageCounterVector: number[];
  paymentDueDateMs?: number;
  acceptDeadlineMs?: number;
}

export interface NewInvoice {
  issuerId: string;
  agreementId: string;
  activityIds: string[];
  paymentPlatform: string;
  amount: Amount;
  paymentDueDateMs: number;
}

export class Documents {
  readonly debitNotes = new Map<string, DebitNoteRecord>();
  readonly invoices = new Map<string, InvoiceRecord>();
  readonly debitNoteEvents: EventLog<DocumentEvent<"debitNoteId">>;
  readonly invoiceEvents: EventLog<DocumentEvent<"invoiceId">>;
  /** What the requestor has accepted so far, per activity and per agreement (the provider is paid the difference). */
  readonly #acceptedPerActivity = new Map<string, Amount>();
  readonly #acceptedPerAgreement = new Map<string, Amount>();
  readonly #network: Network;

  constructor(network: Network) {
    this.#network = network;
    this.debitNoteEvents = new EventLog(() => network.clock.now());
    this.invoiceEvents = new EventLog(() => network.clock.now());
  }

  /** A provider's debit note reaches the requestor. */
  receiveDebitNote(note: NewDebitNote): DebitNoteRecord {
    const previous = [...this.debitNotes.values()].filter((other) => other.activityId === note.activityId).at(-1);
    const now = this.#network.clock.now();
    const record: DebitNoteRecord = {
      ...this.#base(note.issuerId, note.agreementId, note.paymentPlatform, now),
      activityId: note.activityId,
      totalAmountDue: note.totalAmountDue,
      usageCounterVector: note.usageCounterVector,
      previousDebitNoteId: previous?.id,
      paymentDueDate: note.paymentDueDateMs === undefined ? undefined : isoMicros(note.paymentDueDateMs * 1000),
      acceptDeadlineMs: note.acceptDeadlineMs,
    };
    this.debitNotes.set(record.id, record);
    this.debitNoteEvents.push((eventDate) => ({ eventType: "DebitNoteReceivedEvent", eventDate, debitNoteId: record.id }));
    return record;
  }

  receiveInvoice(invoice: NewInvoice): InvoiceRecord {
    const now = this.#network.clock.now();
    const record: InvoiceRecord = {
      ...this.#base(invoice.issuerId, invoice.agreementId, invoice.paymentPlatform, now),
      activityIds: invoice.activityIds,
      amount: invoice.amount,
      paymentDueDate: isoMicros(invoice.paymentDueDateMs * 1000),
    };
    this.invoices.set(record.id, record);
    this.invoiceEvents.push((eventDate) => ({ eventType: "InvoiceReceivedEvent", eventDate, invoiceId: record.id }));
    this.#network.log("info", "invoice received", {
      invoiceId: record.id,
      agreementId: record.agreementId,
      amount: formatAmount(record.amount),
    });
    return record;
  }

  debitNote(id: string): DebitNoteRecord {
    const record = this.debitNotes.get(id);
    if (!record) throw notFound(`Debit note ${id} not found`);
    return record;
  }

  invoice(id: string): InvoiceRecord {
    const record = this.invoices.get(id);
    if (!record) throw notFound(`Invoice ${id} not found`);
    return record;
  }

  acceptDebitNote(id: string, acceptance: { totalAmountAccepted: string; allocationId: string }): void {
    const note = this.debitNote(id);
    if (parseAmount(acceptance.totalAmountAccepted) !== note.totalAmountDue) throw badRequest("Invalid amount accepted");
    if (note.status === "ACCEPTED" || note.status === "SETTLED") return;
    if (note.status === "CANCELLED") throw badRequest("Debit note cancelled");
    const invoice = [...this.invoices.values()].find((other) => other.agreementId === note.agreementId);
    if (invoice && invoice.status !== "RECEIVED") return;
    const paid = this.#acceptedPerActivity.get(note.activityId) ?? 0n;
    const toPay = note.totalAmountDue - paid;
    if (toPay > 0n) this.#network.payments.allocations.spend(acceptance.allocationId, toPay);
    else this.#network.payments.allocations.get(acceptance.allocationId);
    this.#acceptedPerActivity.set(note.activityId, paid + (toPay > 0n ? toPay : 0n));
    this.#acceptedPerAgreement.set(note.agreementId, (this.#acceptedPerAgreement.get(note.agreementId) ?? 0n) + (toPay > 0n ? toPay : 0n));
    note.status = "ACCEPTED";
    note.acceptedAtMs = this.#network.clock.now();
    note.allocationId = acceptance.allocationId;
    const provider = this.#network.providers.byId(note.issuerId);
    if (provider) send(this.#network, provider.nodeId, () => provider.onDebitNoteAccepted(note));
  }

  acceptInvoice(id: string, acceptance: { totalAmountAccepted: string; allocationId: string }): void {
    const invoice = this.invoice(id);
    if (parseAmount(acceptance.totalAmountAccepted) !== invoice.amount) throw badRequest("Invalid amount accepted");
    if (invoice.status === "ACCEPTED" || invoice.status === "SETTLED") return;
    if (invoice.status === "CANCELLED") throw badRequest("Invoice cancelled");
    const paid = this.#acceptedPerAgreement.get(invoice.agreementId) ?? 0n;
    if (invoice.amount < paid) {
      throw badRequest(
        `Invoice is smaller than agreement.total_amount_accepted. invoice_id=${id}, invoice_amount=${formatAmount(invoice.amount)}, total_amount_accepted=${formatAmount(paid)}`,
      );
    }
    const toPay = invoice.amount - paid;
    if (toPay > 0n) this.#network.payments.allocations.spend(acceptance.allocationId, toPay);
    else this.#network.payments.allocations.get(acceptance.allocationId);
    this.#acceptedPerAgreement.set(invoice.agreementId, invoice.amount);
    invoice.status = "ACCEPTED";
    invoice.acceptedAtMs = this.#network.clock.now();
    invoice.allocationId = acceptance.allocationId;
    this.#network.log("info", "invoice accepted", {
      invoiceId: id,
      agreementId: invoice.agreementId,
      amount: formatAmount(invoice.amount),
    });
    const provider = this.#network.providers.byId(invoice.issuerId);
    if (provider) send(this.#network, provider.nodeId, () => provider.onInvoiceAccepted(invoice));
  }

  /** The requestor refuses an invoice (golem-js does when its invoice filter says so); a rejected one can still be accepted later. */
  rejectInvoice(id: string, rejection: Rejection): void {
    const invoice = this.invoice(id);
    if (invoice.status === "REJECTED") return;
    if (invoice.status === "ACCEPTED" || invoice.status === "SETTLED" || invoice.status === "CANCELLED")
      throw badRequest(`Invoice ${invoice.status.toLowerCase()}`);
    invoice.status = "REJECTED";
    invoice.rejection = { ...rejection };
    this.#network.log("info", "invoice rejected", {
      invoiceId: id,
      agreementId: invoice.agreementId,
      amount: formatAmount(invoice.amount),
      reason: rejection.rejectionReason,
    });
  }

  debitNoteJson(note: DebitNoteRecord): Record<string, unknown> {
    return {
      ...this.#baseJson(note),
      debitNoteId: note.id,
      ...(note.previousDebitNoteId ? { previousDebitNoteId: note.previousDebitNoteId } : {}),
      activityId: note.activityId,
      totalAmountDue: formatAmount(note.totalAmountDue),
      usageCounterVector: note.usageCounterVector,
    };
  }

  invoiceJson(invoice: InvoiceRecord): Record<string, unknown> {
    return { ...this.#baseJson(invoice), invoiceId: invoice.id, activityIds: invoice.activityIds, amount: formatAmount(invoice.amount) };
  }

  /** The requestor's document events (RECEIVED and CANCELLED kinds) after a timestamp, for one app session. */
  async collect<K extends string>(
    log: EventLog<DocumentEvent<K>>,
    idOf: (event: DocumentEvent<K>) => string,
    kind: "debitNote" | "invoice",
    query: { afterTimestamp?: string; timeoutSec: number; maxEvents: number; appSessionId?: string; signal: AbortSignal },
  ): Promise<DocumentEvent<K>[]> {
    const afterMicros = query.afterTimestamp === undefined ? undefined : parseMicros(query.afterTimestamp);
    if (Number.isNaN(afterMicros)) throw badRequest(`afterTimestamp ${query.afterTimestamp} is not a date-time`);
    const agreementOf = (event: DocumentEvent<K>) =>
      (kind === "debitNote" ? this.debitNotes.get(idOf(event)) : this.invoices.get(idOf(event)))?.agreementId ?? "";
    return log.collect({
      afterMicros,
      maxEvents: query.maxEvents,
      timeoutSec: query.timeoutSec,
      signal: query.signal,
      filter: (event) =>
        /(Received|Cancelled)Event$/.test(event.eventType) &&
        (query.appSessionId === undefined || this.#network.agreements.sessionOf(agreementOf(event)) === query.appSessionId),
    });
  }

  #base(issuerId: string, agreementId: string, paymentPlatform: string, nowMs: number): DocumentBase {
    return {
      id: documentId(),
      issuerId,
      recipientId: this.#network.requestorId,
      payeeAddr: issuerId,
      payerAddr: this.#network.requestorId,
      paymentPlatform,
      timestamp: isoMicros(nowMs * 1000),
      receivedAtMs: nowMs,
      agreementId,
      status: "RECEIVED",
    };
  }

  #baseJson(document: DocumentBase): Record<string, unknown> {
    return {
      issuerId: document.issuerId,
      recipientId: document.recipientId,
      payeeAddr: document.payeeAddr,
      payerAddr: document.payerAddr,
      paymentPlatform: document.paymentPlatform,
      timestamp: document.timestamp,
      agreementId: document.agreementId,
      ...(document.paymentDueDate ? { paymentDueDate: document.paymentDueDate } : {}),
      status: document.status,
    };
  }
}
