/**
 * The oracle as a child process (`node oracle-requestor/src/main.ts`), for tests and
 * benchmarks that kill it, measure it, or must not share its event loop. Its
 * configuration is the given OracleConfig written to a JSON file (ARGUS_ORACLE_CONFIG);
 * the parent's own ARGUS_* variables are not passed on, so they cannot override it.
 * It runs in a process group of its own: `kill()` sends SIGKILL to the group, as a
 * container or cgroup kill would, so no orphaned chunk process outlives it.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { OracleConfig } from "@argus/oracle/config";
import { ORACLE_NODE_FLAGS } from "@argus/oracle/node-flags";
import { REPO_ROOT, withoutArgusSettings } from "../../support/shared.ts";

export const ORACLE_MAIN = join(REPO_ROOT, "oracle-requestor/src/main.ts");

export interface OracleProcess {
  child: ChildProcess;
  pid: number;
  statusUrl: string;
  /** Resolves with the exit code or signal once the process is gone. */
  exited: Promise<number | NodeJS.Signals | null>;
  /** The last lines it wrote (logs), for failure messages. */
  tail(): string;
  /** SIGKILL to its whole process group; resolves when it is gone. */
  kill(): Promise<void>;
  /** SIGTERM (graceful stop); resolves with its exit code. */
  stop(): Promise<number | NodeJS.Signals | null>;
}

/** Starts the oracle and resolves once it has printed its ready line. */
export async function spawnOracle(
  config: OracleConfig,
  options: { env?: NodeJS.ProcessEnv; configFile?: string; readyTimeoutMs?: number; nodeFlags?: readonly string[] } = {},
): Promise<OracleProcess> {
  const configFile = options.configFile ?? join(config.dataDir, "..", `oracle-config-${process.pid}.json`);
  await writeFile(
    configFile,
    JSON.stringify(config, (_, value) => (typeof value === "bigint" ? value.toString() : value)),
  );
  const env = withoutArgusSettings();
  const child = spawn(process.execPath, [...(options.nodeFlags ?? ORACLE_NODE_FLAGS), ORACLE_MAIN], {
    cwd: REPO_ROOT,
    env: { ...env, ...options.env, ARGUS_ORACLE_CONFIG: configFile },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const lines: string[] = [];
  const remember = (line: string) => {
    lines.push(line);
    if (lines.length > 40) lines.shift();
  };
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) => child.once("exit", (code, signal) => resolve(signal ?? code)));
  const ready = new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      remember(line);
      if (line.startsWith('{"event":"ready"')) resolve((JSON.parse(line) as { status: string }).status);
    });
    createInterface({ input: child.stderr! }).on("line", remember);
    void exited.then((how) => reject(new Error(`the oracle exited (${how}) before it was ready:\n${lines.join("\n")}`)));
    setTimeout(
      () => reject(new Error(`the oracle was not ready within ${options.readyTimeoutMs ?? 60_000} ms:\n${lines.join("\n")}`)),
      options.readyTimeoutMs ?? 60_000,
    ).unref();
  });
  let statusUrl: string;
  try {
    statusUrl = await ready;
  } catch (error) {
    killGroup(child);
    throw error;
  }
  return {
    child,
    pid: child.pid!,
    statusUrl,
    exited,
    tail: () => lines.join("\n"),
    async kill() {
      killGroup(child);
      await exited;
    },
    async stop() {
      child.kill("SIGTERM");
      return exited;
    },
  };
}

function killGroup(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, "SIGKILL");
  } catch {
    child.kill("SIGKILL");
  }
}

/** GET `<statusUrl>/requests/<id>` as JSON (undefined for 404). */
export async function requestStatus(statusUrl: string, requestId: bigint): Promise<Record<string, unknown> | undefined> {
  const response = await fetch(`${statusUrl}/requests/${requestId}`);
  if (response.status === 404) return undefined;
  if (!response.ok) throw new Error(`${statusUrl}/requests/${requestId}: HTTP ${response.status}`);
  return (await response.json()) as Record<string, unknown>;
}

/** The oracle's queue depth by state, from its /metrics. */
export async function queueCounts(statusUrl: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${statusUrl}/metrics`)).text();
  const counts: Record<string, number> = {};
  for (const match of text.matchAll(/^argus_queue_requests\{[^}]*state="(\w+)"[^}]*\} (\d+)$/gm))
    counts[match[1]!] = (counts[match[1]!] ?? 0) + Number(match[2]);
  return counts;
}
