/**
 * Closes what a previous process left open on yagna (journal.ts), once the new one has
 * its own allocation. golem-js reads payment events of its own app session only, so
 * after a crash nobody would settle the old agreements' invoices, and the old
 * allocations would keep their budget reserved until they expire. For each leftover:
 *
 * - an agreement still running is terminated (the provider then sends its invoice); one
 *   the previous process had only created or confirmed is awaited until the provider
 *   decides, and one never approved (rejected, cancelled, expired) owes nothing;
 * - its invoice, once there (waited for up to `finalizeTimeoutMs`), is accepted when
 *   it is within the worst case of the offer the agreement was signed on (spending.ts)
 *   — from the agreement's own allocation while that lives, else the current one — and
 *   rejected with `INCORRECT_AMOUNT` above it;
 * - an allocation none of whose agreements is still owed is released.
 *
 * What cannot be closed now (no invoice yet, yagna unreachable) stays in the journal for
 * the next start. Nothing here blocks a chunk: it runs beside them.
 */
import type { Allocation, GolemNetwork } from "@golem-sdk/golem-js";
import type { GolemExecutorConfig } from "./config.ts";
import type { GolemJournal, OpenAgreement } from "./journal.ts";
import type { ExecutorLogger } from "./reporting.ts";
import { agreementWorstCaseGlm } from "./spending.ts";

const INVOICE_POLL_MS = 1_000;

export interface RecoveryReport {
  /** Leftover invoices accepted, and the GLM they came to. */
  accepted: number;
  acceptedGlm: number;
  /** Leftover invoices above their agreement's worst case, rejected. */
  rejected: number;
  /** Agreements of the previous process still running, terminated. */
  terminated: number;
  releasedAllocations: number;
  /** Agreement and allocation ids left in the journal for the next start. */
  pending: string[];
}

export interface RecoveryOptions {
  glm: GolemNetwork;
  journal: GolemJournal;
  /** The allocation this process pays from: not a leftover. */
  current: Allocation;
  settings: Pick<GolemExecutorConfig, "rentHours" | "finalizeTimeoutMs">;
  logger: ExecutorLogger;
}

type InvoiceDto = Awaited<ReturnType<GolemNetwork["services"]["yagna"]["payment"]["getInvoices"]>>[number];

export async function recoverLeftovers(options: RecoveryOptions): Promise<RecoveryReport> {
  const { journal, current, logger } = options;
  const open = journal.open();
  const report: RecoveryReport = { accepted: 0, acceptedGlm: 0, rejected: 0, terminated: 0, releasedAllocations: 0, pending: [] };
  const staleAllocations = open.allocationIds.filter((id) => id !== current.id);
  // Agreements of this process are settled by golem-js; only a previous process's are leftovers.
  const leftovers = open.agreements.filter((agreement) => agreement.allocationId !== current.id);
  if (staleAllocations.length === 0 && leftovers.length === 0) return report;
  logger.info(
    { allocations: staleAllocations, agreements: leftovers.map((agreement) => agreement.agreementId) },
    "closing what a previous run left open on yagna",
  );

  const deadline = Date.now() + options.settings.finalizeTimeoutMs;
  const owed = new Set<string>();
  // One listing of yagna's invoices per poll interval, shared by every leftover agreement.
  let listed: { at: number; invoices: Promise<InvoiceDto[]> } | undefined;
  const invoices = () => {
    if (listed === undefined || Date.now() - listed.at >= INVOICE_POLL_MS)
      listed = { at: Date.now(), invoices: options.glm.services.yagna.payment.getInvoices() };
    return listed.invoices;
  };
  await Promise.all(
    leftovers.map(async (agreement) => {
      try {
        const settled = await settleAgreement(options, agreement, staleAllocations, deadline, report, invoices);
        if (settled) journal.agreementSettled(agreement.agreementId);
        else {
          owed.add(agreement.allocationId);
          report.pending.push(agreement.agreementId);
        }
      } catch (error) {
        owed.add(agreement.allocationId);
        report.pending.push(agreement.agreementId);
        logger.warn(
          { err: error, agreementId: agreement.agreementId },
          "could not settle a leftover Golem agreement; the next start tries again",
        );
      }
    }),
  );

  const { payment } = options.glm.services.yagna;
  for (const allocationId of staleAllocations) {
    if (owed.has(allocationId)) {
      report.pending.push(allocationId);
      continue;
    }
    try {
      await payment.releaseAllocation(allocationId);
      report.releasedAllocations++;
    } catch (error) {
      // Gone already (yagna releases expired allocations): nothing is reserved any more.
      if (statusOf(error) !== 404) {
        report.pending.push(allocationId);
        logger.warn({ err: error, allocationId }, "could not release a leftover Golem allocation; the next start tries again");
        continue;
      }
    }
    journal.allocationReleased(allocationId);
  }
  logger.info({ ...report }, "closed what a previous run left open on yagna");
  return report;
}

/** True once the agreement's invoice is accepted or rejected (by us now, or already). */
async function settleAgreement(
  options: RecoveryOptions,
  { agreementId, allocationId }: OpenAgreement,
  liveAllocations: readonly string[],
  deadline: number,
  report: RecoveryReport,
  invoices: () => Promise<InvoiceDto[]>,
): Promise<boolean> {
  const { glm, current, settings, logger } = options;
  const { market, payment } = glm.services.yagna;
  let agreement: Awaited<ReturnType<typeof market.getAgreement>>;
  try {
    agreement = await market.getAgreement(agreementId);
  } catch (error) {
    // yagna does not know it (another node's data, or pruned): no invoice can come for it.
    if (statusOf(error) === 404) return true;
    throw error;
  }
  // Created or confirmed when the previous process died: the provider may still approve it.
  while ((agreement.state === "Proposal" || agreement.state === "Pending") && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, INVOICE_POLL_MS));
    agreement = await market.getAgreement(agreementId);
  }
  if (agreement.state === "Proposal" || agreement.state === "Pending") return false;
  // Never approved: nothing was used, no invoice comes.
  if (agreement.state === "Rejected" || agreement.state === "Cancelled" || agreement.state === "Expired") return true;
  if (agreement.state === "Approved") {
    await market.terminateAgreement(agreementId, { message: "the requestor restarted; this agreement is closed" });
    report.terminated++;
  }
  let invoice: InvoiceDto | undefined;
  for (;;) {
    invoice = (await invoices()).find((candidate) => candidate.agreementId === agreementId);
    if (invoice !== undefined || Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, INVOICE_POLL_MS));
  }
  if (invoice === undefined) return false;
  if (invoice.status !== "RECEIVED") return true; // accepted, settled, rejected or cancelled before we got here

  const worstCase = agreementWorstCaseGlm(agreement.offer.properties as Record<string, unknown>, settings.rentHours);
  const amount = Number(invoice.amount);
  if (worstCase === undefined || !(amount <= worstCase * (1 + 1e-9))) {
    await payment.rejectInvoice(invoice.invoiceId, {
      rejectionReason: "INCORRECT_AMOUNT",
      totalAmountAccepted: "0",
      message: `${invoice.amount} GLM is more than the agreement can cost (${worstCase ?? "no linear prices"})`,
    });
    report.rejected++;
    logger.warn(
      { agreementId, invoiceId: invoice.invoiceId, amount: invoice.amount, worstCaseGlm: worstCase },
      "rejected a leftover Golem invoice above what its agreement can cost",
    );
    return true;
  }
  const payFrom = liveAllocations.includes(allocationId) ? allocationId : current.id;
  await payment.acceptInvoice(invoice.invoiceId, { allocationId: payFrom, totalAmountAccepted: invoice.amount });
  report.accepted++;
  report.acceptedGlm += amount;
  logger.info(
    { agreementId, invoiceId: invoice.invoiceId, amount: invoice.amount, allocationId: payFrom },
    "accepted a leftover Golem invoice",
  );
  return true;
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | undefined)?.status;
  return typeof status === "number" ? status : undefined;
}
