/**
 * Activities on the requestor's node and their exe-units on the providers
 * (core/activity/src/requestor/control.rs and state.rs; the provider side of ya-exe-unit):
 *
 * - created on an Approved agreement, one at a time (the provider refuses a second);
 *   the provider starts an exe-unit (exe-unit/, the other half of the devnet) for it;
 * - `exec` parses ExeScriptRequest.text (a JSON array of commands, 400 if it is not) and
 *   queues the batch; batches of an activity run one after another, their commands in
 *   order through `ExeUnit.execute` (batches.ts has the result rules);
 * - state is the exe-unit's, as yagna's (current, next) pair; usage is
 *   [golem.usage.cpu_sec, golem.usage.duration_sec], the duration on the emulated clock;
 * - destroying (the requestor, or the provider when the agreement ends) kills the running
 *   command, removes the exe-unit and tells the provider, who sends the last debit note.
 */
import type { CommandOutcome, ExeScriptCommand, ExeUnit, ExeUnitOptions, ExeUnitState } from "../exe-unit/exe-unit.ts";
import { ApiError, badRequest, notFound } from "../http.ts";
import { activityId as newActivityId, batchId as newBatchId } from "../ids.ts";
import type { Network } from "../network.ts";
import { call } from "../network.ts";
import { Batch } from "./batches.ts";

export type ExeUnitFactory = (options: ExeUnitOptions) => ExeUnit | Promise<ExeUnit>;

export interface ActivityRecord {
  id: string;
  agreementId: string;
  providerId: string;
  createdAtMs: number;
  endedAtMs?: number;
  /** Why it ended, when the provider ended it. */
  endReason?: string;
  exeUnit: ExeUnit;
  batches: Map<string, Batch>;
  /** The last queued batch's run, so the next one starts after it. */
  queue: Promise<void>;
  stop: AbortController;
  /** `run` commands executed (the control API's per-provider count). */
  runs: number;
}

const COMMANDS = new Set(["deploy", "start", "run", "transfer", "terminate", "sign"]);

export class Activities {
  readonly records = new Map<string, ActivityRecord>();
  readonly #network: Network;
  /** Checks one ExeScript command against the spec (recording violations); returns the problems that refuse it (strict mode). */
  readonly #checkCommand: (command: Record<string, unknown>) => string[];

  constructor(network: Network, checkCommand: (command: Record<string, unknown>) => string[]) {
    this.#network = network;
    this.#checkCommand = checkCommand;
  }

  async create(agreementId: string, timeoutSec: number): Promise<string> {
    const agreement = this.#network.agreements.get(agreementId);
    const provider = this.#network.providers.byId(agreement.offer.providerId);
    if (!provider) throw notFound(`Agreement [${agreementId}] has no provider`);
    return call(this.#network, provider.nodeId, timeoutSec, async () => {
      if (agreement.state !== "Approved") throw new ApiError(500, `Agreement [${agreementId}] is ${agreement.state}, not Approved`);
      const id = newActivityId();
      provider.agent.activityCreated(agreementId, id);
      let exeUnit: ExeUnit;
      try {
        exeUnit = await provider.startExeUnit(agreement);
      } catch (error) {
        provider.agent.activityFailed(agreementId, id);
        throw new ApiError(500, `Failed to create activity: ${(error as Error).message}`);
      }
      this.records.set(id, {
        id,
        agreementId,
        providerId: provider.nodeId,
        createdAtMs: this.#network.clock.now(),
        exeUnit,
        batches: new Map(),
        queue: Promise.resolve(),
        stop: new AbortController(),
        runs: 0,
      });
      this.#network.log("info", "activity created", { activityId: id, agreementId, provider: provider.spec.name });
      return id;
    });
  }

  get(id: string): ActivityRecord {
    const record = this.records.get(id);
    if (!record) throw notFound(`Activity [${id}] not found`);
    return record;
  }

  /** Calls the activity's provider (a vanished one times out). */
  reach<T>(id: string, timeoutSec: number, request: (record: ActivityRecord) => T | Promise<T>): Promise<T> {
    const record = this.get(id);
    return call(this.#network, record.providerId, timeoutSec, () => request(record));
  }

  exec(record: ActivityRecord, text: string): string {
    if (record.endedAtMs !== undefined) throw new ApiError(500, `Activity [${record.id}] is terminated`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw badRequest(`ExeScript is not JSON: ${(error as Error).message}`);
    }
    if (!Array.isArray(parsed)) throw badRequest("ExeScript must be a JSON array of commands");
    const commands = parsed.map((command, index) => {
      const keys = typeof command === "object" && command !== null ? Object.keys(command) : [];
      if (keys.length !== 1 || !COMMANDS.has(keys[0]!))
        throw badRequest(`ExeScript command ${index} is not one of ${[...COMMANDS].join(", ")}`);
      const problems = this.#checkCommand(command as Record<string, unknown>);
      if (problems.length > 0) throw badRequest(`ExeScript command ${index}: ${problems.join("; ")}`);
      return command as ExeScriptCommand;
    });
    const batch = new Batch(newBatchId(), commands);
    record.batches.set(batch.id, batch);
    record.queue = record.queue.then(() => this.#run(record, batch));
    return batch.id;
  }

  batch(record: ActivityRecord, batchId: string): Batch {
    const batch = record.batches.get(batchId);
    if (!batch) throw notFound(`batch_id = ${batchId}`);
    return batch;
  }

  /** yagna's ActivityState: the (current, next) pair of the exe-unit's state machine. */
  state(record: ActivityRecord): { state: [string, string | null]; reason?: string; errorMessage?: string } {
    if (record.endedAtMs !== undefined) return { state: ["Terminated", null], ...(record.endReason ? { reason: record.endReason } : {}) };
    return { state: STATE_PAIRS[record.exeUnit.state] };
  }

  /** [cpu seconds, duration seconds]: the exe-unit's CPU time, the emulated time since creation. */
  usage(id: string): number[] {
    const record = this.records.get(id);
    if (!record) return [0, 0];
    const end = record.endedAtMs ?? this.#network.clock.now();
    const durationSec = Math.max(0, (end - record.createdAtMs) / 1000);
    return [round6(record.exeUnit.usage().cpuSec), round6(durationSec)];
  }

  /** The requestor destroys the activity (DELETE /activity/{id}). */
  async destroy(record: ActivityRecord): Promise<void> {
    await this.#end(record, undefined);
  }

  /** The provider ends the activity (its agreement ended). */
  terminateByProvider(id: string, reason: string): void {
    const record = this.records.get(id);
    if (!record) return;
    this.#end(record, reason).catch((error: unknown) => this.#network.log("error", "ending an activity failed", { activityId: id, error }));
  }

  async #end(record: ActivityRecord, reason: string | undefined): Promise<void> {
    if (record.endedAtMs !== undefined) return;
    record.endedAtMs = this.#network.clock.now();
    record.endReason = reason;
    record.stop.abort(new Error(reason ?? "activity destroyed"));
    for (const batch of record.batches.values()) batch.finish();
    try {
      await record.exeUnit.destroy();
    } finally {
      const provider = this.#network.providers.byId(record.providerId);
      provider?.agent.activityDestroyed(record.agreementId, record.id);
      this.#network.log("info", "activity ended", { activityId: record.id, by: reason ? "provider" : "requestor" });
    }
  }

  async #run(record: ActivityRecord, batch: Batch): Promise<void> {
    for (const [index, command] of batch.commands.entries()) {
      if (record.stop.signal.aborted) break;
      let outcome: CommandOutcome;
      try {
        outcome = await record.exeUnit.execute(command, record.stop.signal);
      } catch (error) {
        outcome = { result: "Error", message: `exe-unit failure: ${(error as Error).message}` };
      }
      if ("run" in command) record.runs++;
      batch.record(index, outcome, this.#network.clock.now());
      if (outcome.result === "Error") break;
    }
    batch.finish();
  }
}

const STATE_PAIRS: Record<ExeUnitState, [string, string | null]> = {
  Initialized: ["Initialized", null],
  Deploying: ["Initialized", "Deployed"],
  Deployed: ["Deployed", null],
  Starting: ["Deployed", "Ready"],
  Ready: ["Ready", null],
  Unresponsive: ["Unresponsive", null],
  Terminated: ["Terminated", null],
};

const round6 = (value: number) => Math.round(value * 1e6) / 1e6;
