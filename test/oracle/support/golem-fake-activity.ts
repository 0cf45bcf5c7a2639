/**
 * A fake of golem-js's activity API (`IActivityApi`) whose activities are local
 * folders: it interprets the ExeScripts golem-js sends (deploy, start, transfer, run)
 * against a per-activity folder standing in for the VM's /golem/input and
 * /golem/output, and runs `run` commands as real child processes after mapping the
 * VM's paths to local ones (the provider image's Node and entry command become this
 * Node and the checkout's entry script).
 *
 * Results are served the way yagna serves them to golem-js's polling: each call of
 * `getExecBatchResults` returns every result so far, waiting (up to its timeout) for a
 * new one; a failed command ends the batch, the later commands get no result.
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Activity, ActivityStateEnum, Result } from "@golem-sdk/golem-js";
import type { Agreement, IActivityApi } from "@golem-sdk/golem-js";
import { throwError } from "rxjs";

/** What a fake provider does wrong, if anything. */
export type ProviderFault =
  /** Its entry command is killed mid-batch (exit by SIGKILL, as when the VM runs out of memory). */
  | "crash"
  /** It answers with a results file whose first result names another request. */
  | "wrong-request-id"
  /** It answers with a results file claiming other model weights. */
  | "wrong-weights"
  /** Its entry command never finishes. */
  | "hang"
  /** Its VM fails to deploy. */
  | "deploy-fails";

/** How the fake maps the VM's file system onto this machine. */
export interface VmLayout {
  /** VM path prefix → local path (longest prefixes are replaced first). */
  paths: Record<string, string>;
  /** Environment of `run` commands (on top of this process's). */
  env: Record<string, string>;
  /** The program that marks a `run` as the provider image's entry command. */
  entryProgram: string;
}

/** The provider side of a transfer: where `gftp://` URLs lead. */
export interface TransferEndpoint {
  fetch(url: string): Uint8Array;
  deliver(url: string, bytes: Uint8Array): Promise<void>;
}

/** One command the fake executed, for the tests to inspect. */
export interface ExecutedCommand {
  providerId: string;
  activityId: string;
  /** deploy, start, transfer or run. */
  command: string;
  args: Record<string, unknown>;
  result: "Ok" | "Error";
}

type ResultData = ConstructorParameters<typeof Result>[0];
type BatchEvents = ReturnType<IActivityApi["getExecBatchEvents"]>;
/** What a command produced. */
interface CommandOutcome {
  result: "Ok" | "Error";
  stdout?: string;
  stderr?: string;
  message?: string;
}

interface BatchState {
  results: ResultData[];
  finished: boolean;
  delivered: number;
  wake: () => void;
  changed: Promise<void>;
}

interface ActivityState {
  id: string;
  agreement: Agreement;
  fault: ProviderFault | undefined;
  state: ActivityStateEnum;
  previous: ActivityStateEnum;
  input: string;
  output: string;
  /** ARGUS_RESIDENT_DIR of its commands: the resident engine the entry command starts lives here. */
  residentDir: string;
  batches: Map<string, BatchState>;
  children: Set<ChildProcess>;
  /** Aborted when the activity is destroyed: ends hanging commands. */
  terminated: AbortController;
}

/** Ends the activity's resident engine, as the end of a VM would (its pid file names it). */
async function stopResidentEngine(activity: ActivityState): Promise<void> {
  const pid = Number((await readFile(join(activity.residentDir, "engine.pid"), "utf8").catch(() => "")).trim());
  if (!Number.isInteger(pid) || pid <= 0) return;
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // already gone
  }
}

/** A crashing provider's entry command dies this long after it starts (well before it could finish). */
const CRASH_AFTER_MS = 100;

export class FakeActivityApi implements IActivityApi {
  readonly executed: ExecutedCommand[] = [];
  readonly #activities = new Map<string, ActivityState>();
  readonly #root: string;
  readonly #layout: VmLayout;
  readonly #transfers: TransferEndpoint;
  readonly #faultOf: (agreement: Agreement) => ProviderFault | undefined;
  #next = 0;

  constructor(root: string, layout: VmLayout, transfers: TransferEndpoint, faultOf: (agreement: Agreement) => ProviderFault | undefined) {
    this.#root = root;
    this.#layout = layout;
    this.#transfers = transfers;
    this.#faultOf = faultOf;
  }

  /** Activities that were created and not destroyed. */
  liveActivities(): string[] {
    return [...this.#activities.values()]
      .filter((activity) => activity.state !== ActivityStateEnum.Terminated)
      .map((activity) => activity.id);
  }

  async getActivity(id: string): Promise<Activity> {
    return this.#view(this.#get(id));
  }

  async createActivity(agreement: Agreement): Promise<Activity> {
    if (agreement.getState() !== "Approved") throw new Error(`agreement ${agreement.id} is ${agreement.getState()}`);
    const id = `activity-${++this.#next}`;
    const folder = await mkdtemp(join(this.#root, `${id}-`));
    const activity: ActivityState = {
      id,
      agreement,
      fault: this.#faultOf(agreement),
      state: ActivityStateEnum.Initialized,
      previous: ActivityStateEnum.New,
      input: join(folder, "input"),
      output: join(folder, "output"),
      residentDir: join(folder, "resident"),
      batches: new Map(),
      children: new Set(),
      terminated: new AbortController(),
    };
    await mkdir(activity.input, { recursive: true });
    await mkdir(activity.output, { recursive: true });
    this.#activities.set(id, activity);
    return this.#view(activity);
  }

  async destroyActivity(view: Activity): Promise<Activity> {
    const activity = this.#get(view.id);
    this.#setState(activity, ActivityStateEnum.Terminated);
    activity.terminated.abort(new Error(`activity ${activity.id} was destroyed`));
    for (const child of activity.children) child.kill("SIGKILL");
    await stopResidentEngine(activity);
    for (const batch of activity.batches.values()) batch.wake();
    return this.#view(activity);
  }

  async getActivityState(id: string): Promise<ActivityStateEnum> {
    return this.#get(id).state;
  }

  async executeScript(view: Activity, script: { text: string }): Promise<string> {
    const activity = this.#get(view.id);
    if (activity.state === ActivityStateEnum.Terminated) throw new Error(`activity ${activity.id} is terminated`);
    const commands = JSON.parse(script.text) as Record<string, Record<string, unknown>>[];
    const batchId = `batch-${++this.#next}`;
    const batch = newBatch();
    activity.batches.set(batchId, batch);
    void this.#runBatch(activity, batch, commands);
    return batchId;
  }

  async getExecBatchResults(view: Activity, batchId: string, _commandIndex?: number, timeout?: number): Promise<Result[]> {
    const activity = this.#get(view.id);
    const batch = activity.batches.get(batchId);
    if (!batch) throw new Error(`unknown batch ${batchId}`);
    const deadline = Date.now() + (timeout ?? 5) * 1000;
    while (batch.results.length === batch.delivered && !batch.finished && Date.now() < deadline) {
      if (activity.state === ActivityStateEnum.Terminated) throw new Error(`activity ${activity.id} was destroyed`);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([batch.changed, new Promise((resolve) => (timer = setTimeout(resolve, deadline - Date.now())))]);
      clearTimeout(timer);
    }
    batch.delivered = batch.results.length;
    return batch.results.map((result) => new Result(result));
  }

  getExecBatchEvents(): BatchEvents {
    return throwError(() => new Error("the fake activity API serves batch results by polling only"));
  }

  async #runBatch(activity: ActivityState, batch: BatchState, commands: Record<string, Record<string, unknown>>[]): Promise<void> {
    for (const [index, command] of commands.entries()) {
      const [name, args] = Object.entries(command)[0] ?? ["(empty)", {}];
      let outcome: CommandOutcome;
      try {
        outcome = await this.#execute(activity, name, args);
      } catch (error) {
        outcome = { result: "Error", message: (error as Error).message };
      }
      if (activity.state === ActivityStateEnum.Terminated) return;
      this.executed.push({
        providerId: activity.agreement.provider.id,
        activityId: activity.id,
        command: name,
        args,
        result: outcome.result,
      });
      const last = index === commands.length - 1 || outcome.result === "Error";
      batch.results.push({ index, eventDate: new Date().toISOString(), ...outcome, isBatchFinished: last });
      if (last) batch.finished = true;
      batch.wake();
      if (last) return;
    }
  }

  async #execute(activity: ActivityState, name: string, args: Record<string, unknown>): Promise<CommandOutcome> {
    switch (name) {
      case "deploy":
        if (activity.fault === "deploy-fails") return { result: "Error", message: "deploy failed: the image could not be downloaded" };
        this.#setState(activity, ActivityStateEnum.Deployed);
        return { result: "Ok" };
      case "start":
        this.#setState(activity, ActivityStateEnum.Ready);
        return { result: "Ok" };
      case "transfer":
        return this.#transfer(activity, String(args.from), String(args.to));
      case "run":
        return this.#run(activity, String(args.entry_point), (args.args as string[] | undefined) ?? []);
      default:
        return { result: "Error", message: `the fake exe-unit does not implement ${name}` };
    }
  }

  async #transfer(activity: ActivityState, from: string, to: string): Promise<CommandOutcome> {
    if (activity.state !== ActivityStateEnum.Ready) return { result: "Error", message: "the exe-unit is not started" };
    if (to.startsWith("container:")) {
      const target = this.#local(activity, to.slice("container:".length));
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, this.#transfers.fetch(from));
      return { result: "Ok" };
    }
    if (from.startsWith("container:")) {
      const source = this.#local(activity, from.slice("container:".length));
      let bytes: Uint8Array;
      try {
        bytes = await readFile(source);
      } catch {
        return { result: "Error", message: `transfer failed: ${from} does not exist` };
      }
      await this.#transfers.deliver(to, bytes);
      return { result: "Ok" };
    }
    return { result: "Error", message: `unsupported transfer ${from} -> ${to}` };
  }

  async #run(activity: ActivityState, program: string, args: string[]): Promise<CommandOutcome> {
    if (activity.state !== ActivityStateEnum.Ready) return { result: "Error", message: "the exe-unit is not started" };
    const isEntry = program === this.#layout.entryProgram;
    if (isEntry && activity.fault === "hang") {
      await new Promise((resolve) => activity.terminated.signal.addEventListener("abort", resolve, { once: true }));
      return { result: "Error", message: "the activity was destroyed" };
    }
    const child = spawn(
      this.#local(activity, program),
      args.map((arg) => this.#local(activity, arg)),
      {
        env: {
          ...process.env,
          ...this.#layout.env,
          ARGUS_INPUT_DIR: activity.input,
          ARGUS_OUTPUT_DIR: activity.output,
          // The VM's /tmp, where `entry.ts --resident` keeps its engine: one per activity.
          ARGUS_RESIDENT_DIR: activity.residentDir,
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    activity.children.add(child);
    if (isEntry && activity.fault === "crash") {
      setTimeout(() => {
        child.kill("SIGKILL");
        void stopResidentEngine(activity); // the provider crashed, with all its VM ran
      }, CRASH_AFTER_MS);
    }
    const [stdout, stderr, code, signal] = await collect(child);
    activity.children.delete(child);
    if (isEntry && activity.fault === "crash")
      return { result: "Error", stdout, stderr: `${stderr}Killed\n`, message: "ExeScript command exited with code 137" };
    if (code !== 0) return { result: "Error", stdout, stderr, message: `ExeScript command exited with code ${code ?? signal}` };
    if (isEntry && (activity.fault === "wrong-request-id" || activity.fault === "wrong-weights"))
      await this.#tamper(activity, activity.fault);
    return { result: "Ok", stdout, stderr };
  }

  /** What a dishonest provider does to an honest results file. */
  async #tamper(activity: ActivityState, fault: "wrong-request-id" | "wrong-weights"): Promise<void> {
    const path = join(activity.output, "results.json");
    const results = JSON.parse(await readFile(path, "utf8")) as Record<string, unknown>[];
    const first = results[0];
    if (first) {
      if (fault === "wrong-request-id") first.requestId = `${BigInt(String(first.requestId)) + 1000n}`;
      else first.weightsSha256 = "0".repeat(64);
    }
    await writeFile(path, JSON.stringify(results));
  }

  /** A VM path (or a command line mentioning VM paths) on this machine. */
  #local(activity: ActivityState, text: string): string {
    const prefixes: Record<string, string> = { ...this.#layout.paths, "/golem/input": activity.input, "/golem/output": activity.output };
    let mapped = text;
    for (const prefix of Object.keys(prefixes).sort((a, b) => b.length - a.length)) mapped = mapped.replaceAll(prefix, prefixes[prefix]!);
    return mapped;
  }

  #get(id: string): ActivityState {
    const activity = this.#activities.get(id);
    if (!activity) throw new Error(`unknown activity ${id}`);
    return activity;
  }

  #setState(activity: ActivityState, state: ActivityStateEnum): void {
    activity.previous = activity.state;
    activity.state = state;
  }

  #view(activity: ActivityState): Activity {
    return new Activity(activity.id, activity.agreement, activity.state, activity.previous, { timestamp: Date.now() });
  }
}

function newBatch(): BatchState {
  const batch = { results: [], finished: false, delivered: 0 } as unknown as BatchState;
  const arm = () => {
    batch.changed = new Promise<void>((resolve) => {
      batch.wake = () => {
        resolve();
        arm();
      };
    });
  };
  arm();
  return batch;
}

function collect(child: ChildProcess): Promise<[string, string, number | null, NodeJS.Signals | null]> {
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (data: Buffer) => (stdout += data.toString()));
  child.stderr?.on("data", (data: Buffer) => (stderr += data.toString()));
  return new Promise((resolve) => {
    child.on("error", (error) => resolve([stdout, `${stderr}${error.message}\n`, 127, null]));
    child.on("close", (code, signal) => resolve([stdout, stderr, code, signal]));
  });
}
