/**
 * The seam between the emulated yagna (market, payment, activity REST) and the emulated
 * exe-unit that runs an activity's ExeScript commands inside the provider image.
 *
 * The activity service owns batches, indices, timestamps and yagna's result/timeout
 * semantics; the exe-unit runs one command at a time and reports how it ended. Command
 * shapes follow ya-client's activity-api spec (ExeScriptCommand): `deploy`, `start`,
 * `run`, `transfer`, `terminate` (and `sign`, which the devnet refuses).
 */

/** One ExeScript command as golem-js sends it (the JSON objects in ExeScriptRequest.text). */
export type ExeScriptCommand =
  | {
      deploy: {
        net?: unknown[];
        hosts?: Record<string, string>;
        hostname?: string;
        volumes?: unknown;
        progress?: unknown;
        env?: Record<string, string>;
      };
    }
  | { start: { args?: string[] } }
  | { run: { entry_point: string; args?: string[]; capture?: unknown } }
  | { transfer: { from: string; to: string; format?: string; depth?: number; fileset?: unknown; progress?: unknown } }
  | { terminate: Record<string, never> };

/** How one command ended (ExeScriptCommandResult without index, eventDate, isBatchFinished). */
export interface CommandOutcome {
  result: "Ok" | "Error";
  /** Captured stdout, already cut to the runtime's limit (4 KiB). */
  stdout?: string;
  stderr?: string;
  /** Set when result is "Error": what went wrong, as the runtime words it. */
  message?: string;
}

/** The exe-unit's view of the activity state machine (ya-client ActivityState). */
export type ExeUnitState = "Initialized" | "Deploying" | "Ready" | "Starting" | "Deployed" | "Unresponsive" | "Terminated";

/** The requestor's GSB services, reached the way a provider's gftp client reaches them over the net. */
export interface GsbCaller {
  /**
   * Calls `component` of the service bound at `address` (for gftp: `/public/gftp/<fileId>`
   * of the node in a `gftp://<nodeId>/<fileId>` URL) with a flexbuffers-encodable payload
   * and resolves with the reply payload; rejects if nothing is bound there or the socket closed.
   */
  call(nodeId: string, address: string, component: string, payload: unknown, signal?: AbortSignal): Promise<unknown>;
  /**
   * Drops the requestor's WebSocket serving `address`, as a broken connection would: its
   * pending calls reject and golem-js sees its socket close. Only the hub owns the socket,
   * so the `dropTransferAfterBytes` fault goes through here.
   */
  dropConnection(nodeId: string, address: string): void;
}

/** Fault switches the devnet's control API sets per provider; the exe-unit reads them on every command. */
export interface ExeUnitFaults {
  /** Multiply each `run` command's wall time by this factor (≥ 1) — a slow provider. */
  slowFactor?: number;
  /** Kill the `run` command's process after this many ms and report it as failed — a crash mid-command. */
  crashAfterMs?: number;
  /** Replace /golem/output/results.json after the run with a file that fails validation. */
  invalidResults?: boolean;
  /** Rewrite results.json with valid schema but wrong classes (a lying provider). */
  lie?: boolean;
  /** Replace results.json with a file of this many bytes — a provider that streams garbage at the oracle. */
  oversizedResultsBytes?: number;
  /** Stop an upload/download transfer after this many bytes (the WebSocket transfer drops mid-file). */
  dropTransferAfterBytes?: number;
  /** Add this many ms (real time) to each `deploy` — a provider downloading the image slowly. */
  deployDelayMs?: number;
}

export interface ExeUnitOptions {
  /** The provider's node id (0x…), for logs and the work folder's name. */
  providerId: string;
  /** The demand's `golem.srv.comp.task_package`: `hash:sha3:<sha3-224 hex>:<http url>`. */
  taskPackage: string;
  /** The offer's memory (bytes): the sandbox's limit. */
  memoryBytes: number;
  /** The offer's threads. */
  threads: number;
  /** Where image caches and per-activity volumes live (outside the checkout). */
  workRoot: string;
  gsb: GsbCaller;
  /** Read on every command, so the control API can change them while an activity runs. */
  faults: () => ExeUnitFaults;
}

export interface ExeUnit {
  readonly state: ExeUnitState;
  /** Runs one command; never throws for a command's own failure (that is an "Error" outcome). */
  execute(command: ExeScriptCommand, signal: AbortSignal): Promise<CommandOutcome>;
  /** CPU seconds and wall seconds used so far (for golem.usage.cpu_sec / duration_sec). */
  usage(): { cpuSec: number; durationSec: number };
  /** Kills any running command and removes the activity's volumes. */
  destroy(): Promise<void>;
}
