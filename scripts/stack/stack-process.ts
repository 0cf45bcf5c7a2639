/**
 * One component of the local stack as a child process: started through stack-child.ts
 * in its own process group (so stopping it also stops whatever it started, e.g. the
 * oracle's inference processes), its output shown line by line under its prefix, and
 * its readiness taken from the one JSON line `{"event":"ready",…}` it prints on stdout.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { formatLogLine, type StackLog } from "./stack-log.ts";

const CHILD = join(import.meta.dirname, "stack-child.ts");

export interface ComponentOptions {
  name: string;
  /** The module to run, absolute. */
  module: string;
  args?: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  log: StackLog;
  /** Signal that starts a graceful stop (default SIGINT). */
  stopSignal?: NodeJS.Signals;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class Component {
  readonly name: string;
  readonly child: ChildProcess;
  /** The ready line's fields; rejects if the process exits first. */
  readonly ready: Promise<Record<string, unknown>>;
  readonly exited: Promise<Exit>;
  private readonly stopSignal: NodeJS.Signals;
  private readonly recent: string[] = [];
  stopping = false;

  constructor(options: ComponentOptions) {
    this.name = options.name;
    this.stopSignal = options.stopSignal ?? "SIGINT";
    this.child = spawn(process.execPath, [CHILD, options.module, ...(options.args ?? [])], {
      cwd: options.cwd,
      env: options.env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    this.exited = once(this.child, "exit").then(([code, signal]) => ({ code, signal }) as Exit);
    let onReady: (fields: Record<string, unknown>) => void = () => {};
    this.ready = new Promise<Record<string, unknown>>((resolve, reject) => {
      onReady = resolve;
      this.exited.then((exit) => reject(new Error(`${this.name} exited (${describeExit(exit)}) before it was ready${this.tail()}`)));
    });
    this.ready.catch(() => {});
    const show = (line: string) => {
      const text = formatLogLine(line);
      this.recent.push(text);
      if (this.recent.length > 20) this.recent.shift();
      options.log.line(this.name, text);
    };
    createInterface({ input: this.child.stdout! }).on("line", (line) => {
      const ready = readyLine(line);
      if (ready) onReady(ready);
      else show(line);
    });
    createInterface({ input: this.child.stderr! }).on("line", show);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The last lines it printed, for error messages. */
  tail(): string {
    return this.recent.length === 0 ? "" : `; its last output:\n  ${this.recent.slice(-8).join("\n  ")}`;
  }

  /**
   * Asks it to stop (its graceful signal), waits up to `graceMs`, then kills its whole
   * process group. Resolves once it has exited.
   */
  async stop(graceMs: number): Promise<Exit> {
    this.stopping = true;
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.signalGroup(this.stopSignal);
      const timer = setTimeout(() => this.signalGroup("SIGKILL"), graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    // Anything it started and left behind goes with it.
    this.signalGroup("SIGKILL");
    return this.exited;
  }

  /** Synchronous last resort (process "exit" handler). */
  kill(): void {
    this.signalGroup("SIGKILL");
  }

  private signalGroup(signal: NodeJS.Signals): void {
    if (this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, signal);
    } catch {
      // already gone
    }
  }
}

function readyLine(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{"event":"ready"')) return undefined;
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

export function describeExit(exit: Exit): string {
  return exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
}
