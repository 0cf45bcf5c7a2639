/**
 * One ExeScript batch and yagna's rules for reading its results (ya-exe-unit
 * exe-unit/src/state.rs Batch::results and handlers/rpc.rs GetExecBatchResults):
 *
 * - commands run in order; the first failing one ends the batch (later ones get no result);
 * - a result is `isBatchFinished` when it is the last command's or a failure;
 * - a results query waits (long-poll, `timeout` seconds, default 0) until the awaited
 *   command — `commandIndex`, else the last one — has finished; when the wait times out
 *   it answers what is there (200, possibly empty) or, with `commandIndex`, 408. A batch
 *   that stopped on a failure therefore keeps a query waiting its full timeout, as yagna does;
 * - with `commandIndex`, only that command's result carries stdout/stderr.
 */
import { Waiters } from "../event-log.ts";
import type { CommandOutcome, ExeScriptCommand } from "../exe-unit/exe-unit.ts";
import { ApiError } from "../http.ts";
import { isoMicros } from "../ids.ts";

export interface CommandResult {
  index: number;
  eventDate: string;
  result: "Ok" | "Error";
  stdout?: string;
  stderr?: string;
  message?: string;
  isBatchFinished: boolean;
}

export class Batch {
  readonly id: string;
  readonly commands: ExeScriptCommand[];
  readonly results: CommandResult[] = [];
  /** Set once no further result will come (all ran, one failed, or the activity ended). */
  done = false;
  readonly #changes = new Waiters();
  readonly #listeners = new Set<(result: CommandResult) => void>();

  constructor(id: string, commands: ExeScriptCommand[]) {
    this.id = id;
    this.commands = commands;
  }

  record(index: number, outcome: CommandOutcome, nowMs: number): CommandResult {
    const result: CommandResult = {
      index,
      eventDate: isoMicros(nowMs * 1000),
      result: outcome.result,
      ...(outcome.stdout !== undefined ? { stdout: outcome.stdout } : {}),
      ...(outcome.stderr !== undefined ? { stderr: outcome.stderr } : {}),
      ...(outcome.message !== undefined ? { message: outcome.message } : {}),
      isBatchFinished: index === this.commands.length - 1 || outcome.result === "Error",
    };
    this.results.push(result);
    if (result.isBatchFinished) this.done = true;
    for (const listener of this.#listeners) listener(result);
    this.#changes.wake();
    return result;
  }

  finish(): void {
    this.done = true;
    this.#changes.wake();
  }

  /** Called with each result as it is recorded (for the event stream); returns the unsubscribe function. */
  listen(listener: (result: CommandResult) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async query(commandIndex: number | undefined, timeoutSec: number, signal: AbortSignal): Promise<CommandResult[]> {
    if (this.commands.length === 0) return [];
    const last = this.commands.length - 1;
    if (commandIndex !== undefined && (!Number.isInteger(commandIndex) || commandIndex < 0 || commandIndex > last)) {
      throw new ApiError(400, `commandIndex ${commandIndex} is not in this batch of ${this.commands.length} commands`);
    }
    const awaited = commandIndex ?? last;
    const reached = () => this.results.length > awaited;
    const finished = await this.#changes.until(reached, timeoutSec, signal);
    if (!finished && commandIndex !== undefined) throw new ApiError(408, "Timeout");
    return this.results
      .filter((result) => result.index <= awaited)
      .map((result) => {
        const { stdout, stderr, ...rest } = result;
        const withOutput = commandIndex === undefined || commandIndex === result.index;
        return {
          ...rest,
          ...(withOutput && stdout !== undefined ? { stdout } : {}),
          ...(withOutput && stderr !== undefined ? { stderr } : {}),
          isBatchFinished: result.index === awaited || result.result === "Error",
        };
      });
  }
}
