/**
 * The resident engine's server: one engine, kept warm, running the batches that
 * `entry.ts --resident` hands it over a Unix socket, one at a time (resident-protocol.ts).
 *
 * A second server started while one answers leaves (the client may race one); a socket
 * file left by a server that died is replaced. A batch that fails is answered with its
 * error and the server goes on; it exits after `idleExitMs` without a batch, so a
 * developer who tried `--resident` on their machine is not left with a process forever.
 */
import { createConnection, createServer, type Server } from "node:net";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { isErrorResult } from "@argus/protocol/result";
import { runBatchFolder } from "../engine/batch-folder.ts";
import type { Engine } from "../engine/engine.ts";
import type { BatchSummary, ResidentPaths, ResidentReply, ResidentRequest } from "./resident-protocol.ts";

/** A request line longer than this is not a request. */
const MAX_REQUEST_BYTES = 64 * 1024;

export interface ResidentServerOptions {
  idleExitMs: number;
  /** The folders of a request that names none (the server's settings). */
  defaults: { inputDir: string; outputDir: string };
  /** Called once the socket listens (the bin prints a line for the log). */
  onListening?: () => void;
}

/** Whether a server answers on `socket` (a connection is accepted). */
export function isServing(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createConnection(socket);
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => resolve(false));
  });
}

function parseRequest(line: string, defaults: ResidentServerOptions["defaults"]): { inputDir: string; outputDir: string } {
  const value = JSON.parse(line) as ResidentRequest | null;
  const folder = (given: unknown, fallback: string) => {
    if (given === undefined) return fallback;
    if (typeof given !== "string" || !given.startsWith("/")) throw new Error("a request's folders are absolute paths");
    return given;
  };
  return { inputDir: folder(value?.inputDir, defaults.inputDir), outputDir: folder(value?.outputDir, defaults.outputDir) };
}

/** Serves until idle for `idleExitMs`; resolves once the socket is closed and removed. */
export async function serveResident(paths: ResidentPaths, engine: Engine, options: ResidentServerOptions): Promise<void> {
  await mkdir(paths.dir, { recursive: true, mode: 0o700 });
  if (await isServing(paths.socket)) return;
  await rm(paths.socket, { force: true });

  let batches = 0;
  let queue: Promise<unknown> = Promise.resolve();
  let idleTimer: NodeJS.Timeout | undefined;
  const server: Server = createServer((connection) => {
    connection.on("error", () => {}); // a client that went away: its batch still runs, nobody reads the reply
    let buffered = "";
    connection.setEncoding("utf8");
    connection.on("data", (text: string) => {
      buffered += text;
      const newline = buffered.indexOf("\n");
      if (newline < 0) {
        if (buffered.length > MAX_REQUEST_BYTES) connection.destroy();
        return;
      }
      connection.removeAllListeners("data");
      const line = buffered.slice(0, newline);
      queue = queue.then(async () => connection.end(`${JSON.stringify(await handle(line))}\n`));
    });
  });

  async function handle(line: string): Promise<ResidentReply> {
    clearTimeout(idleTimer);
    const started = performance.now();
    try {
      const request = parseRequest(line, options.defaults);
      const { modelId, results } = await runBatchFolder(engine, request.inputDir, request.outputDir);
      const summary: BatchSummary = {
        modelId,
        results: results.length,
        errors: results.filter(isErrorResult).length,
        totalMs: Math.round(performance.now() - started),
        engine: "resident",
        warm: batches > 0,
      };
      return { ok: true, summary };
    } catch (error) {
      const name = error instanceof Error ? error.name : "Error";
      return { ok: false, error: `${name}: ${error instanceof Error ? error.message : String(error)}` };
    } finally {
      batches++;
      armIdleExit();
    }
  }

  function armIdleExit(): void {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => server.close(), options.idleExitMs);
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(paths.socket, () => {
      server.off("error", reject);
      resolve();
    });
  });
  await writeFile(paths.pid, `${process.pid}\n`);
  options.onListening?.();
  armIdleExit();
  await new Promise<void>((resolve) => server.once("close", () => resolve()));
  await rm(paths.socket, { force: true });
  await rm(paths.pid, { force: true });
}
