/**
 * One provider's agreements after approval: ya-provider's TaskManager and Payments actors
 * (agent/provider/src/tasks/task_manager.rs, payments/payments.rs) on the emulated clock.
 *
 * - The agreement is broken at the demand's `golem.srv.comp.expiration` ("Expired") and
 *   when no activity exists for 90 s (idle_agreement_timeout, "NoActivity"), counted
 *   from approval and again from each activity's end.
 * - One activity at a time; while it runs a debit note goes out every interval with the
 *   cost so far. A note not accepted within the negotiated acceptance timeout breaks the
 *   agreement ("DebitNotesDeadline"); a payable note (payment timeout negotiated, one per
 *   timeout, and always the last one) not paid by its due date breaks it
 *   ("DebitNoteNotPaid"). Payments here are instant: accepting a payable note pays it.
 * - When an activity ends, a final debit note; when the agreement ends (either side, or
 *   broken), its activities are ended and, once all are costed, the invoice (their
 *   costs' sum, due after the payment timeout or a day) goes to the requestor.
 * - Breaking terminates the agreement with `{ message, "golem.provider.code" }`
 *   (market/termination_reason.rs GolemReason).
 * - Under the `overchargeFactor` fault the notes and the invoice state that many times the
 *   cost (read when each is sent): a provider lying about the amount, for the requestor's
 *   checks to catch. The costs themselves stay the agreement's linear pricing.
 */
import type { ScheduledTask } from "../clock.ts";
import type { Amount } from "../decimal.ts";
import { scaleAmount } from "../decimal.ts";
import { ApiError } from "../http.ts";
import type { AgreementRecord } from "../market/agreements.ts";
import { numberProperty } from "../market/properties.ts";
import type { Network } from "../network.ts";
import type { DebitNoteRecord } from "../payment/documents.ts";
import type { PaymentTerms } from "./billing.ts";
import { activityCost, humanDuration, nextIntervalAt, paymentTerms } from "./billing.ts";

export const IDLE_AGREEMENT_TIMEOUT_MS = 90_000;

interface ActivityBilling {
  state: "running" | "destroyed" | "finalized";
  cost?: Amount;
  nextNote?: ScheduledTask;
}

export interface AgreementTask {
  record: AgreementRecord;
  terms: PaymentTerms;
  approvedAtMs: number;
  multiActivity: boolean;
  activities: Map<string, ActivityBilling>;
  timers: Set<ScheduledTask>;
  idle?: ScheduledTask;
  lastPayableMs: number;
  closed: boolean;
  deadlineElapsed: boolean;
  /** What ended it (a break reason, or the requestor). */
  endReason?: string;
  invoiced: boolean;
}

export interface BreakReason {
  code: "Expired" | "NoActivity" | "DebitNotesDeadline" | "DebitNoteNotPaid" | "InitializationError" | "Shutdown" | "Success";
  message: string;
}

export interface AgreementAgentHooks {
  /** Called when an agreement is finalized (its slot is free again). */
  onFinalized(task: AgreementTask): void;
  /** ≥ 1: how many times the cost the provider's documents state (the overchargeFactor fault). */
  overchargeFactor(): number;
}

export class AgreementAgent {
  readonly tasks = new Map<string, AgreementTask>();
  readonly #network: Network;
  readonly #providerId: string;
  readonly #hooks: AgreementAgentHooks;

  constructor(network: Network, providerId: string, hooks: AgreementAgentHooks) {
    this.#network = network;
    this.#providerId = providerId;
    this.#hooks = hooks;
  }

  get activeCount(): number {
    return [...this.tasks.values()].filter((task) => !task.closed).length;
  }

  approved(record: AgreementRecord): void {
    const now = this.#network.clock.now();
    const task: AgreementTask = {
      record,
      terms: paymentTerms(record.offer.properties),
      approvedAtMs: now,
      multiActivity: record.demand.properties["golem.srv.caps.multi-activity"] === true,
      activities: new Map(),
      timers: new Set(),
      lastPayableMs: now,
      closed: false,
      deadlineElapsed: false,
      invoiced: false,
    };
    this.tasks.set(record.id, task);
    const expiration = numberProperty(record.demand.properties, "golem.srv.comp.expiration") ?? now;
    this.#timer(task, expiration, "expiration", () =>
      this.breakAgreement(task, { code: "Expired", message: `Agreement expired @ ${new Date(expiration).toISOString()}` }),
    );
    this.#scheduleIdle(task);
  }

  /** An activity is being created (task_manager.rs CreateActivity): only one at a time. */
  activityCreated(agreementId: string, activityId: string): void {
    const task = this.#open(agreementId);
    if ([...task.activities.values()].some((activity) => activity.state === "running")) {
      throw new ApiError(500, "Can't create 2 simultaneous Activities.");
    }
    task.idle?.cancel();
    task.idle = undefined;
    const billing: ActivityBilling = { state: "running" };
    task.activities.set(activityId, billing);
    this.#scheduleNote(task, activityId, billing);
  }

  /** The exe-unit of a new activity could not start: as if it had never been created. */
  activityFailed(agreementId: string, activityId: string): void {
    const task = this.tasks.get(agreementId);
    const billing = task?.activities.get(activityId);
    if (!task || !billing) return;
    billing.nextNote?.cancel();
    task.activities.delete(activityId);
    if (!task.closed) this.#scheduleIdle(task);
  }

  /** The activity ended: last (payable) debit note, its cost fixed, idle timer again. */
  activityDestroyed(agreementId: string, activityId: string): void {
    const task = this.tasks.get(agreementId);
    const billing = task?.activities.get(activityId);
    if (!task || !billing || billing.state !== "running") return;
    billing.state = "destroyed";
    billing.nextNote?.cancel();
    billing.cost = this.#sendDebitNote(task, activityId, { finalNote: true });
    billing.state = "finalized";
    if (task.closed) {
      this.#invoiceWhenDone(task);
      return;
    }
    if (!task.multiActivity) {
      this.#close(task, { code: "Success", message: "Finished with success." }, true);
      return;
    }
    this.#scheduleIdle(task);
  }

  debitNoteAccepted(note: DebitNoteRecord): void {
    const task = this.tasks.get(note.agreementId);
    if (!task) return;
    for (const timer of task.timers) if (timer.label === `accept ${note.id}` || timer.label === `payment ${note.id}`) timer.cancel();
  }

  /** The requestor terminated the agreement: end its activities and invoice. */
  closedByRequestor(agreementId: string): void {
    const task = this.tasks.get(agreementId);
    if (!task || task.closed) return;
    this.#close(task, { code: "Success", message: "Terminated by requestor" }, false);
  }

  breakAgreement(task: AgreementTask, reason: BreakReason): void {
    if (task.closed) return;
    this.#network.log("info", `provider breaks agreement: ${reason.message}`, { agreementId: task.record.id, code: reason.code });
    this.#close(task, reason, true);
  }

  #close(task: AgreementTask, reason: BreakReason, terminateAtMarket: boolean): void {
    task.closed = true;
    task.endReason = reason.code;
    for (const timer of task.timers) timer.cancel();
    task.timers.clear();
    task.idle?.cancel();
    if (terminateAtMarket && this.#network.providers.isReachable(this.#providerId)) {
      this.#network.agreements.terminatedByProvider(task.record, { message: reason.message, "golem.provider.code": reason.code });
    }
    for (const [activityId, billing] of task.activities) {
      if (billing.state === "running") this.#network.activities.terminateByProvider(activityId, reason.message);
    }
    this.#invoiceWhenDone(task);
  }

  #invoiceWhenDone(task: AgreementTask): void {
    if (task.invoiced || [...task.activities.values()].some((activity) => activity.state !== "finalized")) return;
    task.invoiced = true;
    this.#hooks.onFinalized(task);
    if (!this.#network.providers.isReachable(this.#providerId)) return;
    const amount = [...task.activities.values()].reduce((sum, activity) => sum + (activity.cost ?? 0n), 0n);
    const dueInSec = task.terms.paymentTimeoutSec ?? 24 * 3600;
    this.#network.payments.documents.receiveInvoice({
      issuerId: this.#providerId,
      agreementId: task.record.id,
      activityIds: [...task.activities.keys()],
      paymentPlatform: this.#platform(task),
      amount: this.#billed(amount),
      paymentDueDateMs: this.#network.clock.now() + dueInSec * 1000,
    });
  }

  #scheduleIdle(task: AgreementTask): void {
    task.idle?.cancel();
    task.idle = this.#network.scheduler.after(IDLE_AGREEMENT_TIMEOUT_MS, `idle ${task.record.id}`, () => {
      if ([...task.activities.values()].some((activity) => activity.state === "running")) return;
      this.breakAgreement(task, { code: "NoActivity", message: `No activity created within ${IDLE_AGREEMENT_TIMEOUT_MS / 1000}s` });
    });
  }

  #scheduleNote(task: AgreementTask, activityId: string, billing: ActivityBilling): void {
    const at = nextIntervalAt(task.approvedAtMs, task.terms.intervalSec, this.#network.clock.now());
    billing.nextNote = this.#network.scheduler.at(at, `debit note ${activityId}`, () => {
      if (billing.state !== "running" || task.closed) return;
      this.#sendDebitNote(task, activityId, { finalNote: false });
      this.#scheduleNote(task, activityId, billing);
    });
  }

  /** Sends a debit note for the activity's usage now (read once: the amount is that usage's cost); returns the cost. */
  #sendDebitNote(task: AgreementTask, activityId: string, { finalNote }: { finalNote: boolean }): Amount {
    const usage = this.#network.activities.usage(activityId);
    const cost = activityCost(task.terms, usage);
    if (!this.#network.providers.isReachable(this.#providerId)) return cost;
    const now = this.#network.clock.now();
    const { acceptTimeoutSec, paymentTimeoutSec } = task.terms;
    let dueMs: number | undefined;
    if (paymentTimeoutSec !== undefined && (finalNote || task.lastPayableMs + paymentTimeoutSec * 1000 <= now)) {
      dueMs = now + paymentTimeoutSec * 1000;
      task.lastPayableMs = now;
    }
    const note = this.#network.payments.documents.receiveDebitNote({
      issuerId: this.#providerId,
      agreementId: task.record.id,
      activityId,
      paymentPlatform: this.#platform(task),
      totalAmountDue: this.#billed(cost),
      usageCounterVector: usage,
      paymentDueDateMs: dueMs,
      acceptDeadlineMs: acceptTimeoutSec === undefined ? undefined : now + acceptTimeoutSec * 1000,
    });
    if (task.closed) return cost;
    if (acceptTimeoutSec !== undefined) {
      this.#timer(task, now + acceptTimeoutSec * 1000, `accept ${note.id}`, () => {
        if (task.deadlineElapsed || note.status === "ACCEPTED") return;
        task.deadlineElapsed = true;
        this.breakAgreement(task, {
          code: "DebitNotesDeadline",
          message: `Requestor isn't accepting DebitNotes in time (${humanDuration(acceptTimeoutSec)})`,
        });
      });
    }
    if (dueMs !== undefined) {
      this.#timer(task, dueMs, `payment ${note.id}`, () => {
        if (note.status === "ACCEPTED") return;
        this.breakAgreement(task, {
          code: "DebitNoteNotPaid",
          message: `Requestor didn't pay for DebitNote in time (${humanDuration(paymentTimeoutSec!)})`,
        });
      });
    }
    return cost;
  }

  /** What the documents state for `cost`. */
  #billed(cost: Amount): Amount {
    return scaleAmount(cost, this.#hooks.overchargeFactor());
  }

  #platform(task: AgreementTask): string {
    return String(task.record.demand.properties["golem.com.payment.chosen-platform"] ?? "erc20-hoodi-tglm");
  }

  #timer(task: AgreementTask, at: number, label: string, run: () => void): void {
    const timer = this.#network.scheduler.at(at, label, () => {
      task.timers.delete(timer);
      run();
    });
    task.timers.add(timer);
  }

  #open(agreementId: string): AgreementTask {
    const task = this.tasks.get(agreementId);
    if (!task || task.closed) throw new ApiError(500, `Agreement [${agreementId}] is not active on this provider`);
    return task;
  }
}
