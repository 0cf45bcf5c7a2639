/**
 * The resident engine: one engine process that stays up between batches inside a Golem
 * VM, so each chunk after a provider's first costs the batch, not a Node start,
 * onnxruntime's load and the model's (about 1.5 CPU-s for 16 photos, on a provider
 * billed per CPU-second).
 *
 * A Golem VM lives as long as its activity and runs each ExeScript `run` command as a
 * process of its own; a process a command leaves behind keeps running (ya-runtime-vm's
 * init only ends the VM when its entrypoint exits). So `entry.ts --resident` starts the
 * server below on its first call and hands every batch to it over a Unix socket in
 * /tmp, which persists across commands in the VM.
 *
 * The wire format: the client writes one JSON line (ResidentRequest); the server writes
 * one JSON line (ResidentReply) and closes the connection. Batches run one at a time.
 * The client loads no settings code (zod and the catalogue cost more than a warm batch):
 * it reads only ARGUS_RESIDENT_DIR; the server, started with the same environment in the
 * same VM, validates every setting and applies them.
 */
import { join } from "node:path";

/** The default folder of the socket and the server's log (inside the VM's /tmp), and its variable. */
export const DEFAULT_RESIDENT_DIR = "/tmp/argus-engine";
export const RESIDENT_DIR_ENV = "ARGUS_RESIDENT_DIR";

export interface ResidentPaths {
  dir: string;
  socket: string;
  log: string;
  /** The server's pid while it listens (whoever ends the VM early, e.g. a test's fake provider, kills it). */
  pid: string;
}

export function residentPaths(dir: string): ResidentPaths {
  return { dir, socket: join(dir, "engine.sock"), log: join(dir, "engine.log"), pid: join(dir, "engine.pid") };
}

/** The folders the command was given (absolute); those left out are the server's settings'. */
export interface ResidentRequest {
  inputDir?: string;
  outputDir?: string;
}

/** The entry command's summary line, which the client prints on success. */
export interface BatchSummary {
  modelId: string;
  results: number;
  errors: number;
  totalMs: number;
  /** `resident` when the server ran it; `warm` whether the server had run a batch before. */
  engine?: "one-shot" | "resident";
  warm?: boolean;
}

export type ResidentReply = { ok: true; summary: BatchSummary } | { ok: false; error: string };

/** Idle time after which the server exits; the next batch starts a new one. */
export const RESIDENT_IDLE_EXIT_MS = 15 * 60_000;
