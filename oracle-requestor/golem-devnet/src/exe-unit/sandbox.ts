/**
 * Runs one `run` command inside an unpacked image under bubblewrap, standing in for the
 * Golem VM that ya-runtime-vm boots:
 *
 * - the image is the root, read-only; only the activity's volumes (/golem/input,
 *   /golem/output) are writable, plus a 128 MiB tmpfs on /tmp (the VM's writable
 *   overlay is a 128 MiB tmpfs too: init-container's `mode=0700,size=128M`); /dev is
 *   bwrap's minimal set, remounted read-only; /proc is the sandbox's own;
 * - new network, PID, IPC and UTS namespaces: no route to the host or anywhere, no DNS;
 *   every capability dropped; a new session; killed with the devnet (--die-with-parent);
 * - the environment is exactly the image's `Env`, the working directory its
 *   `WorkingDir` (ya-runtime-vm: `deployment.env()`, `/` when unset);
 * - the memory limit is the offer's, enforced by a watchdog (process-tree.ts);
 * - the options go to bwrap through a pipe (`--args`), so the sandbox's /proc/1/cmdline
 *   names no host path.
 */
import { spawn } from "node:child_process";
import { constants } from "node:os";
import type { GvmiContainerConfig } from "@argus/provider-image/gvmi-format";
import { type TreeSample, watchTree } from "./process-tree.ts";

/** The /tmp tmpfs's size: the VM's writable layer is a 128 MiB tmpfs. */
export const SANDBOX_TMP_BYTES = 128 * 1024 * 1024;
/** stdout and stderr kept per command (see output-capture.ts for why the head). */
export const OUTPUT_LIMIT_BYTES = 4096;
const WATCH_INTERVAL_MS = 50;
const DEFAULT_CWD = "/";

export interface SandboxCommand {
  rootfs: string;
  config: GvmiContainerConfig;
  /** Host folder → path in the container, each mounted read-write. */
  volumes: readonly { hostDir: string; path: string }[];
  entryPoint: string;
  args: readonly string[];
  memoryBytes: number;
}

export type KillReason = { kind: "memory"; sample: TreeSample } | { kind: "crash"; afterMs: number } | { kind: "abort" };

export interface SandboxExit {
  /** bwrap's exit status: the command's, or 128 + signal when a signal ended it. */
  exitCode: number;
  /** The first OUTPUT_LIMIT_BYTES of each stream, and how many bytes were written in all. */
  stdout: Buffer;
  stderr: Buffer;
  stdoutBytes: number;
  stderrBytes: number;
  cpuSec: number;
  peakMemoryBytes: number;
  wallMs: number;
  /** Set when the devnet killed it. */
  killed?: KillReason;
}

export interface SandboxProcess {
  readonly exited: Promise<SandboxExit>;
  /** CPU seconds so far (for usage while it runs). */
  cpuSec(): number;
  kill(reason: KillReason): void;
}

/** bwrap's options for `command` (without the command itself). */
export function bwrapOptions(command: SandboxCommand): string[] {
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

export function startSandbox(command: SandboxCommand): SandboxProcess {
  const started = performance.now();
  const child = spawn("bwrap", ["--args", "3", "--", command.entryPoint, ...command.args], {
    stdio: ["ignore", "pipe", "pipe", "pipe"],
  });
  const argsPipe = child.stdio[3] as NodeJS.WritableStream;
  argsPipe.on("error", () => {}); // bwrap gone before reading its options: the exit says why
  argsPipe.end(
    Buffer.from(
      bwrapOptions(command)
        .map((option) => `${option}\0`)
        .join(""),
    ),
  );

  const stdout = headCollector(OUTPUT_LIMIT_BYTES);
  const stderr = headCollector(OUTPUT_LIMIT_BYTES);
  child.stdout?.on("data", (chunk: Buffer) => stdout.push(chunk));
  child.stderr?.on("data", (chunk: Buffer) => stderr.push(chunk));

  let killed: KillReason | undefined;
  const kill = (reason: KillReason) => {
    if (killed !== undefined || child.exitCode !== null || child.signalCode !== null) return;
    killed = reason;
    child.kill("SIGKILL"); // bwrap's --die-with-parent takes the sandbox's PID 1, and the namespace with it
  };
  const watch =
    child.pid === undefined
      ? undefined
      : watchTree(child.pid, {
          limitBytes: command.memoryBytes,
          tmpfsSize: SANDBOX_TMP_BYTES,
          intervalMs: WATCH_INTERVAL_MS,
          onOverLimit: (sample) => kill({ kind: "memory", sample }),
        });

  const exited = new Promise<SandboxExit>((resolve, reject) => {
    child.on("error", (error) => {
      watch?.stop();
      reject(error);
    });
    child.on("close", (code, signal) => {
      watch?.stop();
      resolve({
        exitCode: code ?? 128 + signalNumber(signal),
        stdout: stdout.bytes(),
        stderr: stderr.bytes(),
        stdoutBytes: stdout.total(),
        stderrBytes: stderr.total(),
        cpuSec: watch?.cpuSec() ?? 0,
        peakMemoryBytes: watch?.peakMemoryBytes() ?? 0,
        wallMs: performance.now() - started,
        ...(killed === undefined ? {} : { killed }),
      });
    });
  });
  return { exited, cpuSec: () => watch?.cpuSec() ?? 0, kill };
}

function signalNumber(signal: NodeJS.Signals | null): number {
  return signal === null ? 0 : (constants.signals[signal] ?? 0);
}
