/**
 * The emulated exe-unit: one activity's ExeScript commands, with yagna's state machine
 * (exe-unit/src/exe_unit.rs `exec_stateful`): `deploy` only when Initialized, `start`
 * only when Deployed, everything else only after a successful start, one command at a
 * time; a failure is an "Error" outcome worded as the exe-unit words it, never a throw.
 *
 * deploy → image-cache.ts (download, sha3, trailer, unpack once) and the volumes the
 * image declares, one `vol-<uuid>` folder each, as ya-runtime-vm names them;
 * start → boots the VM (sandbox.ts), which lives until the activity ends; run → a
 * process in it; transfer → transfer.ts; terminate → stops the VM and returns to
 * Initialized (yagna does the same).
 * Faults are read from `options.faults()` at the start of every command.
 */
import { randomUUID } from "node:crypto";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { GvmiContainerConfig } from "@argus/provider-image/gvmi-format";
import type { CommandOutcome, ExeScriptCommand, ExeUnit, ExeUnitFaults, ExeUnitOptions, ExeUnitState } from "./exe-unit.ts";
import { type CachedImage, deployImage, ImageError, REQUIRED_VOLUMES, requireSandboxTools } from "./image-cache.ts";
import { captureOf, capturedText } from "./output-capture.ts";
import { applyResultFaults } from "./result-faults.ts";
import { bootVm, type SandboxExit, type SandboxProcess, type SandboxVm } from "./sandbox.ts";
import { parseTaskPackage, TransferError } from "./task-package.ts";
import { transfer, type Volume } from "./transfer.ts";

export interface DevnetExeUnit extends ExeUnit {
  /** Where the deployed image came from (a download with its timings, or the cache). */
  deployedImage(): CachedImage["source"] | undefined;
}

const STATE_ERROR = "Local service error: State error: ";
const TRANSFER_ERROR = "Local service error: Transfer error: ";

function invalidStateMessage(state: ExeUnitState): string {
  if (state === "Initialized") return "Activity is initialized - deploy() command is expected now";
  if (state === "Deployed") return "Activity is deployed - start() command is expected now";
  if (state === "Ready") return "Cannot send command after a successful start()";
  return `This command is not allowed when activity is in the ${state} state`;
}

const error = (message: string, extra: Partial<CommandOutcome> = {}): CommandOutcome => ({ result: "Error", message, ...extra });

/** Waits `ms`, or less when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}

export function createExeUnit(options: ExeUnitOptions): DevnetExeUnit {
  const createdAt = performance.now();
  const activityDir = join(options.workRoot, "activities", `${options.providerId}-${randomUUID()}`);
  let state: ExeUnitState = "Initialized";
  let busy = false;
  let image: CachedImage | undefined;
  let volumes: Volume[] = [];
  let vm: SandboxVm | undefined;
  /** CPU seconds of the VMs this activity booted before the current one. */
  let earlierVmsCpuSec = 0;
  let running: SandboxProcess | undefined;
  let runningExit: Promise<void> = Promise.resolve();
  const runningCommands = new Set<AbortController>();

  async function deploy(faults: ExeUnitFaults, signal: AbortSignal): Promise<CommandOutcome> {
    state = "Deploying";
    try {
      if (faults.deployDelayMs) await pause(faults.deployDelayMs, signal);
      const taskPackage = parseTaskPackage(options.taskPackage);
      await requireSandboxTools();
      image = await deployImage(options.workRoot, taskPackage, signal);
      volumes = await createVolumes(image.config);
      state = "Deployed";
      const vols = volumes.map(({ name, path }) => ({ name, path }));
      // What ya-runtime-vm prints for a deploy (ya-runtime-api DeployResult).
      return { result: "Ok", stdout: JSON.stringify({ valid: { Ok: "" }, vols, startMode: "blocking" }) };
    } catch (cause) {
      state = "Initialized";
      const message = (cause as Error).message;
      if (cause instanceof TransferError) return error(TRANSFER_ERROR + message);
      if (cause instanceof ImageError) return error(`Runtime error: ${message}`);
      return error(`Runtime error: deploy failed: ${message}`);
    }
  }

  async function createVolumes(config: GvmiContainerConfig): Promise<Volume[]> {
    const paths = Object.keys(config.Volumes ?? {});
    const created: Volume[] = [];
    for (const path of paths) {
      const name = `vol-${randomUUID()}`;
      const hostDir = join(activityDir, name);
      await mkdir(hostDir, { recursive: true });
      created.push({ name, path, hostDir });
    }
    return created;
  }

  async function start(): Promise<CommandOutcome> {
    if (image === undefined) return error("Runtime error: no image deployed");
    try {
      vm = await bootVm({ rootfs: image.rootfs, config: image.config, volumes, memoryBytes: options.memoryBytes });
    } catch (cause) {
      return error(`Runtime error: the VM did not start: ${(cause as Error).message}`);
    }
    state = "Ready";
    return { result: "Ok" };
  }

  async function stopVm(): Promise<void> {
    const stopping = vm;
    vm = undefined;
    if (stopping === undefined) return;
    await stopping.destroy();
    earlierVmsCpuSec += stopping.cpuSec();
  }

  async function run(command: { entry_point: string; args?: string[]; capture?: unknown }, faults: ExeUnitFaults, signal: AbortSignal) {
    if (vm === undefined) return error("Runtime error: the VM is not running");
    const crash = new AbortController();
    const stop = AbortSignal.any([signal, crash.signal]);
    const sandbox = vm.run(command.entry_point, command.args ?? []);
    running = sandbox;
    runningExit = sandbox.exited.then(
      () => {},
      () => {},
    );
    const crashAfterMs = faults.crashAfterMs;
    const crashTimer =
      crashAfterMs === undefined
        ? undefined
        : setTimeout(() => {
            sandbox.kill({ kind: "crash", afterMs: crashAfterMs });
            crash.abort();
            void stopVm(); // the provider is gone, and its VM with it
          }, crashAfterMs);
    const onAbort = () => sandbox.kill({ kind: "abort" });
    signal.addEventListener("abort", onAbort, { once: true });
    let exit: SandboxExit;
    try {
      exit = await sandbox.exited;
      if (faults.slowFactor !== undefined && faults.slowFactor > 1) await pause((faults.slowFactor - 1) * exit.wallMs, stop);
    } catch (cause) {
      return error(`Runtime error: the command did not start: ${(cause as Error).message}`);
    } finally {
      clearTimeout(crashTimer);
      signal.removeEventListener("abort", onAbort);
      running = undefined;
    }
    const capture = captureOf(command.capture);
    const output = { stdout: capturedText(exit.stdout, capture.stdout), stderr: capturedText(exit.stderr, capture.stderr) };
    if (crash.signal.aborted) {
      state = "Terminated";
      return error(`ExeScript command exited with code 9 (devnet fault: the provider crashed after ${crashAfterMs} ms)`, output);
    }
    if (signal.aborted) return error("Runtime error: the command was cancelled", output);
    if (exit.killed?.kind === "memory") {
      const used = (exit.killed.sample.memoryBytes / 2 ** 20).toFixed(0);
      const limit = (options.memoryBytes / 2 ** 20).toFixed(0);
      return error(`ExeScript command exited with code 9 (killed: the VM ran out of memory, ${used} MiB used of ${limit} MiB)`, output);
    }
    if (exit.exitCode !== 0) return error(`ExeScript command exited with code ${exit.exitCode}`, output);
    const input = volumes.find((volume) => volume.path === REQUIRED_VOLUMES[0]);
    const outputVolume = volumes.find((volume) => volume.path === REQUIRED_VOLUMES[1]);
    if (input && outputVolume) await applyResultFaults(outputVolume.hostDir, input.hostDir, faults);
    return { result: "Ok" as const, ...output };
  }

  async function execute(command: ExeScriptCommand, signal: AbortSignal): Promise<CommandOutcome> {
    const faults = options.faults();
    if ("terminate" in command) {
      for (const controller of runningCommands) controller.abort();
      await stopVm();
      if (state !== "Terminated") state = "Initialized";
      return { result: "Ok" };
    }
    if (busy) return error(`${STATE_ERROR}Busy: the exe-unit is running another command`);
    const allowed = "deploy" in command ? state === "Initialized" : "start" in command ? state === "Deployed" : state === "Ready";
    if (!allowed) return error(STATE_ERROR + invalidStateMessage(state));
    busy = true;
    const controller = new AbortController();
    runningCommands.add(controller);
    const stop = AbortSignal.any([signal, controller.signal]);
    try {
      if ("deploy" in command) return await deploy(faults, stop);
      if ("start" in command) return await start();
      if ("run" in command) return await run(command.run, faults, stop);
      if ("transfer" in command) {
        try {
          await transfer(command.transfer.from, command.transfer.to, {
            volumes,
            gsb: options.gsb,
            ...(faults.dropTransferAfterBytes === undefined ? {} : { dropAfterBytes: faults.dropTransferAfterBytes }),
            signal: stop,
          });
          return { result: "Ok" };
        } catch (cause) {
          if (stop.aborted) return error("Local service error: Transfer error: Cancelled");
          return error(TRANSFER_ERROR + (cause instanceof TransferError ? cause.message : `IO error: ${(cause as Error).message}`));
        }
      }
      return error(`ExeScript command error: unsupported command ${JSON.stringify(Object.keys(command))}`);
    } finally {
      busy = false;
      runningCommands.delete(controller);
    }
  }

  return {
    get state() {
      return state;
    },
    execute,
    usage: () => ({ cpuSec: earlierVmsCpuSec + (vm?.cpuSec() ?? 0), durationSec: (performance.now() - createdAt) / 1000 }),
    deployedImage: () => image?.source,
    async destroy() {
      for (const controller of runningCommands) controller.abort();
      running?.kill({ kind: "abort" });
      state = "Terminated";
      await runningExit;
      await stopVm();
      await rm(activityDir, { recursive: true, force: true });
    },
  };
}

export { isImageCached, REQUIRED_VOLUMES, requireSandboxTools, SANDBOX_TOOLS } from "./image-cache.ts";
export { OUTPUT_LIMIT_BYTES, SANDBOX_TMP_BYTES } from "./sandbox.ts";
