/**
 * `entry.ts --resident`: hands the batch to the resident engine's server, starting the
 * server first when none answers (resident-protocol.ts). Imports nothing heavy: the
 * point is that a warm batch costs a small Node start, not onnxruntime's and the model's.
 *
 * The server is started detached, in a session of its own, with its output in the log
 * file: it must outlive this command, and must not hold the command's stdout open (the
 * runtime waits for a command's output to close).
 */
import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { createConnection } from "node:net";
import { fileURLToPath } from "node:url";
import type { BatchSummary, ResidentPaths, ResidentReply, ResidentRequest } from "./resident-protocol.ts";

const SERVER_SCRIPT = fileURLToPath(new URL("../bin/engine-server.ts", import.meta.url));
const POLL_MS = 50;

/** The resident engine could not run the batch (the reason names the log to read). */
export class ResidentEngineError extends Error {
  override name = "ResidentEngineError";
}

export interface ResidentClientOptions {
  /** How long a starting server may take to listen. */
  startTimeoutMs: number;
  /** Extra arguments for the server (e.g. --models-dir). */
  serverArgs?: readonly string[];
}

class NotListening extends Error {}

/** One request, one reply; NotListening when nothing accepts the connection. */
function ask(socket: string, request: ResidentRequest, log: string): Promise<ResidentReply> {
  return new Promise((resolve, reject) => {
    const connection = createConnection(socket);
    let connected = false;
    let received = "";
    connection.setEncoding("utf8");
    connection.once("connect", () => {
      connected = true;
      connection.write(`${JSON.stringify(request)}\n`);
    });
    connection.on("data", (text: string) => (received += text));
    connection.once("error", (error: NodeJS.ErrnoException) => {
      if (!connected) reject(new NotListening(error.code ?? error.message));
    });
    connection.once("close", () => {
      if (!connected) return;
      const line = received.split("\n")[0] ?? "";
      try {
        resolve(JSON.parse(line) as ResidentReply);
      } catch {
        reject(new ResidentEngineError(`the resident engine stopped before answering (its log: ${log})`));
      }
    });
  });
}

async function logTail(log: string): Promise<string> {
  const text = await readFile(log, "utf8").catch(() => "");
  return text.trimEnd().split("\n").slice(-8).join("\n");
}

/** Starts the server and waits until it accepts connections. */
async function startServer(paths: ResidentPaths, options: ResidentClientOptions): Promise<void> {
  await mkdir(paths.dir, { recursive: true, mode: 0o700 });
  const logFd = openSync(paths.log, "a");
  const server = spawn(process.execPath, [SERVER_SCRIPT, "--dir", paths.dir, ...(options.serverArgs ?? [])], {
    detached: true,
    stdio: ["ignore", logFd, logFd],
  });
  closeSync(logFd);
  let exited: number | string | undefined;
  server.once("exit", (code, signal) => (exited = code ?? signal ?? "unknown"));
  server.once("error", (error) => (exited = error.message));
  server.unref();
  const deadline = performance.now() + options.startTimeoutMs;
  while (performance.now() < deadline) {
    const listening = await new Promise<boolean>((resolve) => {
      const probe = createConnection(paths.socket);
      probe.once("connect", () => {
        probe.destroy();
        resolve(true);
      });
      probe.once("error", () => resolve(false));
    });
    if (listening) return;
    // Exit code 0 without listening: another server won the race; keep polling for it.
    if (exited !== undefined && exited !== 0) {
      throw new ResidentEngineError(`the resident engine did not start (exit ${exited}):\n${await logTail(paths.log)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  throw new ResidentEngineError(`the resident engine did not listen within ${options.startTimeoutMs} ms (its log: ${paths.log})`);
}

/** Runs the batch in `request.inputDir` on the resident engine, starting it if needed. */
export async function runResident(paths: ResidentPaths, request: ResidentRequest, options: ResidentClientOptions): Promise<BatchSummary> {
  let reply: ResidentReply;
  try {
    reply = await ask(paths.socket, request, paths.log);
  } catch (error) {
    if (!(error instanceof NotListening)) throw error;
    await startServer(paths, options);
    reply = await ask(paths.socket, request, paths.log).catch((again: unknown) => {
      throw again instanceof NotListening ? new ResidentEngineError(`the resident engine stopped listening (${again.message})`) : again;
    });
  }
  if (!reply.ok) throw new ResidentEngineError(reply.error);
  return reply.summary;
}
