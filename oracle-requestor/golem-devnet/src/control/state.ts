/**
 * Read-only views of the devnet for the control API, the tests and the stack's /metrics:
 * providers (current offer, faults, agreements, runs), agreements, debit notes and invoices
 * (with whether each was accepted before its deadline, and an invoice's rejection),
 * allocations (spent), and totals.
 */
import { formatAmount } from "../decimal.ts";
import { isoMicros } from "../ids.ts";
import type { Network } from "../network.ts";

const iso = (ms: number | undefined) => (ms === undefined ? undefined : isoMicros(ms * 1000));

export function providersView(network: Network) {
  return network.providers.all().map((provider) => {
    const tasks = [...provider.agent.tasks.values()];
    const runs = [...network.activities.records.values()]
      .filter((record) => record.providerId === provider.nodeId)
      .reduce((sum, record) => sum + record.runs, 0);
    return {
      id: provider.nodeId,
      name: provider.spec.name,
      threads: provider.spec.threads,
      memoryGib: provider.spec.memoryGib,
      prices: provider.spec.prices,
      speed: provider.spec.speed,
      offerId: provider.offer?.id,
      offerPublishedAt: iso(provider.offer?.createdAtMs),
      vanished: provider.vanished,
      faults: provider.faults,
      agreements: { total: tasks.length, active: tasks.filter((task) => !task.closed).length },
      runCommands: runs,
    };
  });
}

export function agreementsView(network: Network) {
  return [...network.agreements.records.values()].map((record) => {
    const provider = network.providers.byId(record.offer.providerId);
    return {
      id: record.id,
      providerId: record.offer.providerId,
      providerName: provider?.spec.name,
      state: record.state,
      createdAt: record.timestamp,
      approvedAt: record.approvedDate,
      endedAt: iso(record.endedAtMs),
      terminator: record.terminator,
      reason: record.reason,
      expiresAt:
        typeof record.demand.properties["golem.srv.comp.expiration"] === "number"
          ? new Date(record.demand.properties["golem.srv.comp.expiration"] as number).toISOString()
          : undefined,
    };
  });
}

export function debitNotesView(network: Network) {
  return [...network.payments.documents.debitNotes.values()].map((note) => ({
    id: note.id,
    agreementId: note.agreementId,
    activityId: note.activityId,
    providerId: note.issuerId,
    amount: formatAmount(note.totalAmountDue),
    status: note.status,
    receivedAt: iso(note.receivedAtMs),
    acceptedAt: iso(note.acceptedAtMs),
    deadline: iso(note.acceptDeadlineMs),
    acceptedInTime: note.acceptedAtMs !== undefined && (note.acceptDeadlineMs === undefined || note.acceptedAtMs <= note.acceptDeadlineMs),
    paymentDueDate: note.paymentDueDate,
  }));
}

export function invoicesView(network: Network) {
  return [...network.payments.documents.invoices.values()].map((invoice) => ({
    id: invoice.id,
    agreementId: invoice.agreementId,
    providerId: invoice.issuerId,
    amount: formatAmount(invoice.amount),
    status: invoice.status,
    receivedAt: iso(invoice.receivedAtMs),
    acceptedAt: iso(invoice.acceptedAtMs),
    allocationId: invoice.allocationId,
    rejection: invoice.rejection,
  }));
}

export function allocationsView(network: Network) {
  return [...network.payments.allocations.records.values()].map((record) => ({
    ...network.payments.allocations.json(record),
    released: record.released,
    releasedBy: record.releasedBy,
  }));
}

export function activitiesView(network: Network) {
  return [...network.activities.records.values()].map((record) => ({
    id: record.id,
    agreementId: record.agreementId,
    providerId: record.providerId,
    state: network.activities.state(record).state[0],
    createdAt: iso(record.createdAtMs),
    endedAt: iso(record.endedAtMs),
    usage: network.activities.usage(record.id),
    batches: record.batches.size,
    runCommands: record.runs,
  }));
}

/** Totals for dashboards: agreements by state, documents accepted, GLM spent. */
export function summaryView(network: Network) {
  const agreements: Record<string, number> = {};
  for (const record of network.agreements.records.values()) agreements[record.state] = (agreements[record.state] ?? 0) + 1;
  const notes = debitNotesView(network);
  const invoices = invoicesView(network);
  const spent = [...network.payments.allocations.records.values()].reduce((sum, record) => sum + record.spentAmount, 0n);
  return {
    now: new Date(network.clock.now()).toISOString(),
    clockOffsetMs: network.clock.offsetMs,
    providers: network.providers.all().length,
    agreements,
    debitNotes: {
      received: notes.length,
      accepted: notes.filter((note) => note.acceptedAt).length,
      acceptedLate: notes.filter((note) => note.acceptedAt && !note.acceptedInTime).length,
    },
    invoices: { received: invoices.length, accepted: invoices.filter((invoice) => invoice.status === "ACCEPTED").length },
    glmSpent: formatAmount(spent),
    invoicedGlm: formatAmount(
      [...network.payments.documents.invoices.values()]
        .filter((invoice) => invoice.status === "ACCEPTED")
        .reduce((sum, invoice) => sum + invoice.amount, 0n),
    ),
  };
}
