/**
 * The Golem VM that ya-runtime-vm boots for an activity, stood in for by bubblewrap:
 * one sandbox per activity (`bootVm` at `start`), and each `run` command a process
 * entered into it, so what one command leaves running (the resident engine) and writes
 * to /tmp is there for the next, as in a VM (its init only ends the VM when the
 * activity does).
 *
 * - the image is the root, read-only; only the activity's volumes (/golem/input,
 *   /golem/output) are writable, plus a 128 MiB tmpfs on /tmp (the VM's writable
 *   overlay is a 128 MiB tmpfs too: init-container's `mode=0700,size=128M`); /dev is
 *   bwrap's minimal set, remounted read-only; /proc is the sandbox's own;
 * - new network, PID, IPC and UTS namespaces: no route to the host or anywhere, no DNS;
 *   a new session; killed with the devnet (--die-with-parent);
 * - the VM is kept up by the image's `sleep infinity` under bwrap's PID 1, which reaps
 *   whatever commands leave behind; a command is entered into its namespaces and root
 *   with `nsenter`, then drops every capability with the image's `setpriv` before it
 *   runs (bwrap's `--cap-drop ALL` covers only the keeper);
 * - the environment is exactly the image's `Env`, the working directory its
 *   `WorkingDir` (ya-runtime-vm: `deployment.env()`, `/` when unset);
 * - the memory limit is the offer's, over every process of the VM and its /tmp,
 *   enforced by a watchdog (process-tree.ts);
 * - the options go to bwrap through a pipe (`--args`), so the sandbox's /proc/1/cmdline
 *   names no host path.
 */
import { spawn } from "node:child_process";
import { constants } from "node:os";
import type { GvmiContainerConfig } from "@argus/provider-image/gvmi-format";
import { readFileSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { type TreeSample, treePids, VmAccounting } from "./process-tree.ts";

/** The /tmp tmpfs's size: the VM's writable layer is a 128 MiB tmpfs. */
export const SANDBOX_TMP_BYTES = 128 * 1024 * 1024;
/** stdout and stderr kept per command (see output-capture.ts for why the head). */
export const OUTPUT_LIMIT_BYTES = 4096;
const WATCH_INTERVAL_MS = 50;
const DEFAULT_CWD = "/";

export interface VmSpec {
  rootfs: string;
  config: GvmiContainerConfig;
  /** Host folder → path in the container, each mounted read-write. */
  volumes: readonly { hostDir: string; path: string }[];
  memoryBytes: number;
}

/** What keeps the VM up, and what drops a command's capabilities: both from the image. */
const KEEPER = ["/bin/sleep", "infinity"] as const;
const SETPRIV = "/usr/bin/setpriv";
const DROP_PRIVILEGES = [SETPRIV, "--bounding-set=-all", "--inh-caps=-all", "--ambient-caps=-all", "--no-new-privs", "--"];

export type KillReason = { kind: "memory"; sample: TreeSample } | { kind: "crash"; afterMs: number } | { kind: "abort" };

export interface SandboxExit {
  /** The command's exit status, or 128 + signal when a signal ended it. */
  exitCode: number;
  /** The first OUTPUT_LIMIT_BYTES of each stream, and how many bytes were written in all. */
  stdout: Buffer;
  stderr: Buffer;
  stdoutBytes: number;
  stderrBytes: number;
  /** The VM's peak memory while it ran. */
  peakMemoryBytes: number;
  wallMs: number;
  /** Set when the devnet killed it. */
  killed?: KillReason;
}

export interface SandboxProcess {
  readonly exited: Promise<SandboxExit>;
  kill(reason: KillReason): void;
}

/** bwrap's options for the VM's keeper (without the command itself). */
export function bwrapOptions(command: VmSpec): string[] {
  const options = [
    "--unshare-net",
    "--unshare-pid",
    "--unshare-ipc",
    "--unshare-uts",
    "--hostname",
    "golem-vm",
    "--die-with-parent",
    "--new-session",
    "--cap-drop",
    "ALL",
    "--ro-bind",
    command.rootfs,
    "/",
    "--proc",
    "/proc",
    "--dev",
    "/dev",
    "--remount-ro",
    "/dev",
    "--size",
    String(SANDBOX_TMP_BYTES),
    "--tmpfs",
    "/tmp",
  ];
  for (const volume of command.volumes) options.push("--bind", volume.hostDir, volume.path);
  options.push("--clearenv");
  for (const pair of command.config.Env ?? []) {
    const at = pair.indexOf("=");
    options.push("--setenv", pair.slice(0, at), pair.slice(at + 1));
  }
  const cwd = command.config.WorkingDir?.trim() ? command.config.WorkingDir : DEFAULT_CWD;
  options.push("--chdir", cwd);
  return options;
}

/** Keeps the first `limit` bytes written to a stream and counts the rest. */
function headCollector(limit: number) {
  const chunks: Buffer[] = [];
  let kept = 0;
  let total = 0;
  return {
    push(chunk: Buffer) {
      total += chunk.length;
      if (kept < limit) {
        const part = chunk.subarray(0, limit - kept);
        chunks.push(Buffer.from(part));
        kept += part.length;
      }
    },
    bytes: () => Buffer.concat(chunks),
    total: () => total,
  };
}

export interface SandboxVm {
  /** Runs one command inside the VM. */
  run(entryPoint: string, args: readonly string[]): SandboxProcess;
  /** CPU seconds of every process the VM has run so far. */
  cpuSec(): number;
  /** Stops the VM and everything in it; resolves once the keeper is gone. */
  destroy(): Promise<void>;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function childrenOf(pid: number): Promise<number[]> {
  const text = await readFile(`/proc/${pid}/task/${pid}/children`, "utf8").catch(() => "");
  return text
    .split(" ")
    .filter((entry) => entry.trim() !== "")
    .map(Number);
}

function killAll(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

/** Reads bwrap's --info-fd JSON: the host pid of the sandbox's PID 1. */
function sandboxPid(info: NodeJS.ReadableStream, keeperExit: Promise<string>): Promise<number> {
  return new Promise((resolve, reject) => {
    let text = "";
    info.setEncoding("utf8");
    info.on("data", (chunk: string) => {
      text += chunk;
      try {
        const pid = (JSON.parse(text) as { "child-pid"?: number })["child-pid"];
        if (typeof pid === "number") resolve(pid);
      } catch {
        // not the whole object yet
      }
    });
    keeperExit.then((why) => reject(new Error(`the VM's keeper exited before it started: ${why}`)));
  });
}

/** Boots the VM: the keeper under bwrap, once its `sleep` runs inside the namespaces. */
export async function bootVm(spec: VmSpec): Promise<SandboxVm> {
  for (const tool of [KEEPER[0], SETPRIV]) {
    if (!(await exists(join(spec.rootfs, tool)))) {
      throw new Error(
        `the devnet keeps a VM up with the image's \`${KEEPER.join(" ")}\` and drops each command's privileges with its ${SETPRIV} (util-linux): the image has no ${tool}`,
      );
    }
  }
  const keeper = spawn("bwrap", ["--args", "3", "--info-fd", "4", "--", ...KEEPER], {
    stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"],
  });
  const argsPipe = keeper.stdio[3] as NodeJS.WritableStream;
  argsPipe.on("error", () => {}); // bwrap gone before reading its options: the exit says why
  argsPipe.end(
    Buffer.from(
      bwrapOptions(spec)
        .map((option) => `${option}\0`)
        .join(""),
    ),
  );
  let keeperStderr = "";
  keeper.stderr?.setEncoding("utf8").on("data", (text: string) => (keeperStderr = (keeperStderr + text).slice(-2000)));
  const keeperClosed = new Promise<string>((resolve) => {
    keeper.once("error", (error) => resolve(error.message));
    keeper.once("close", (code, signal) => resolve(`${signal ?? `exit code ${code}`} ${keeperStderr.trim()}`.trim()));
  });

  let keeperPid: number | undefined;
  try {
    const pid1 = await sandboxPid(keeper.stdio[4] as NodeJS.ReadableStream, keeperClosed);
    for (let tries = 0; tries < 200 && keeperPid === undefined; tries++) {
      for (const pid of await childrenOf(pid1)) {
        const comm = await readFile(`/proc/${pid}/comm`, "utf8").catch(() => "");
        if (comm.trim() === "sleep") keeperPid = pid;
      }
      if (keeperPid === undefined) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    if (keeperPid === undefined) throw new Error("the VM's keeper did not start within 2 s");
  } catch (error) {
    keeper.kill("SIGKILL");
    await keeperClosed;
    throw error;
  }
  const inside = keeperPid;
  const ownUserNamespace = (await stat("/proc/self/ns/user")).ino;
  const enterUserNamespace = (await stat(`/proc/${inside}/ns/user`)).ino !== ownUserNamespace;
  const nsenter = [
    "--target",
    String(inside),
    "--mount",
    "--pid",
    "--net",
    "--ipc",
    "--uts",
    ...(enterUserNamespace ? ["--user", "--preserve-credentials"] : []),
    "--root",
    "--wd",
    "--",
    ...DROP_PRIVILEGES,
  ];
  const env = Object.fromEntries(
    (spec.config.Env ?? []).map((pair) => [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)] as const),
  );

  // One watchdog for the whole VM: the keeper's tree (and what commands left in it) plus
  // the command running now; over the offer's memory, a guest's OOM killer would strike.
  const accounting = new VmAccounting(SANDBOX_TMP_BYTES);
  let current: { pid: number; onOverLimit: (sample: TreeSample) => void; peak: number } | undefined;
  let destroyed = false;
  let timer: NodeJS.Timeout | undefined;
  const keeperRoot = keeper.pid!;
  const tick = () => {
    if (destroyed) return;
    const roots = current === undefined ? [keeperRoot] : [keeperRoot, current.pid];
    const sample = accounting.sample(roots, inside);
    if (current !== undefined) current.peak = Math.max(current.peak, sample.memoryBytes);
    if (sample.memoryBytes > spec.memoryBytes) {
      // Everything but the keeper: bwrap, its PID 1 and `sleep` are the VM, not a workload.
      killAll(treePids(keeperRoot).filter((pid) => pid !== keeperRoot && pid !== inside && !isPid1(pid)));
      current?.onOverLimit(sample);
    }
    timer = setTimeout(tick, WATCH_INTERVAL_MS);
  };
  const pid1 = (await readFile(`/proc/${inside}/stat`, "utf8").catch(() => "")).split(") ")[1]?.split(" ")[1];
  const isPid1 = (pid: number) => String(pid) === pid1;
  tick();

  return {
    cpuSec: () => accounting.cpuSec(),
    run(entryPoint, args) {
      const started = performance.now();
      const child = spawn("nsenter", [...nsenter, entryPoint, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
      const stdout = headCollector(OUTPUT_LIMIT_BYTES);
      const stderr = headCollector(OUTPUT_LIMIT_BYTES);
      child.stdout?.on("data", (chunk: Buffer) => stdout.push(chunk));
      child.stderr?.on("data", (chunk: Buffer) => stderr.push(chunk));
      let killed: KillReason | undefined;
      const kill = (reason: KillReason) => {
        if (killed !== undefined || child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
        killed = reason;
        // nsenter waits for the command, which it forked into the VM: take the whole tree.
        killAll(treePids(child.pid));
      };
      const entry =
        child.pid === undefined
          ? undefined
          : { pid: child.pid, onOverLimit: (sample: TreeSample) => kill({ kind: "memory", sample }), peak: 0 };
      if (entry !== undefined) current = entry;
      const exited = new Promise<SandboxExit>((resolve, reject) => {
        child.on("error", (error) => {
          if (current === entry) current = undefined;
          reject(error);
        });
        child.on("close", (code, signal) => {
          if (current === entry) current = undefined;
          resolve({
            exitCode: code ?? 128 + signalNumber(signal),
            stdout: stdout.bytes(),
            stderr: stderr.bytes(),
            stdoutBytes: stdout.total(),
            stderrBytes: stderr.total(),
            peakMemoryBytes: entry?.peak ?? 0,
            wallMs: performance.now() - started,
            ...(killed === undefined ? {} : { killed }),
          });
        });
      });
      return { exited, kill };
    },
    async destroy() {
      let inVm: number[] = [];
      if (!destroyed) {
        destroyed = true;
        clearTimeout(timer);
        inVm = [...treePids(keeperRoot), ...(current === undefined ? [] : treePids(current.pid))];
        // bwrap's --die-with-parent takes the VM's PID 1, and the kernel the rest of its
        // PID namespace; killing each one too makes the end immediate, not eventual.
        keeper.kill("SIGKILL");
        killAll(inVm);
      }
      await keeperClosed;
      // Resolve only once nothing of the VM runs: the activity's end is the VM's.
      for (let tries = 0; tries < 100 && inVm.some(isRunning); tries++) await new Promise((resolve) => setTimeout(resolve, 20));
    },
  };
}

/** Alive and not a zombie (a killed process waiting to be reaped has stopped running). */
function isRunning(pid: number): boolean {
  try {
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

function signalNumber(signal: NodeJS.Signals | null): number {
  return signal === null ? 0 : (constants.signals[signal] ?? 0);
}
