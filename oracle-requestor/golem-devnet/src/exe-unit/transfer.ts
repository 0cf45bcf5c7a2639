/**
 * The exe-unit's `transfer` command (yagna exe-unit/components/transfer):
 *
 * - `container:<path>` resolves into the activity's volumes by the longest volume
 *   prefix (container.rs); a path under no volume is "path not found in container". The
 *   devnet also refuses a path whose real location leaves the volume (a symlink the
 *   command planted): the exe-unit runs on the host, and must not read or write for the
 *   sandbox what the sandbox cannot reach itself.
 * - `gftp://<node>/<file>` → container: GetMetadata, then GetChunk of 40 KiB (gftp's
 *   DEFAULT_CHUNK_SIZE), up to 8 in flight and written in order (gftp.rs `source`).
 * - container → `gftp://…`: UploadChunk {chunk: {offset, content}} of 40 KiB, then
 *   UploadFinished {hash: sha3-256 hex of the whole file}. yagna keeps up to 8 chunks in
 *   flight; the devnet sends one and waits for its reply, because golem-js's
 *   `receiveFile` appends chunks in the order its handlers run and does not use offsets.
 * - `http(s)://…` → container: a plain GET (HttpTransferProvider).
 */
import { createHash } from "node:crypto";
import { constants } from "node:fs";
import { lstat, mkdir, open, realpath } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import type { GsbCaller } from "./exe-unit.ts";
import { TransferError } from "./task-package.ts";

/** gftp's DEFAULT_CHUNK_SIZE (core/gftp/src/gftp.rs). */
export const GFTP_CHUNK_BYTES = 40 * 1024;
/** GftpTransferProvider's default concurrency. */
export const GFTP_CONCURRENCY = 8;

export interface Volume {
  /** The name ya-runtime-vm gives it: `vol-<uuid>`. */
  name: string;
  /** Where the container sees it. */
  path: string;
  hostDir: string;
}

export interface TransferOptions {
  volumes: readonly Volume[];
  gsb: GsbCaller;
  /** Drop the connection once this many bytes have moved (the devnet's fault). */
  dropAfterBytes?: number;
  signal: AbortSignal;
}

type Location = { kind: "container"; path: string } | { kind: "gftp"; nodeId: string; fileId: string } | { kind: "http"; url: URL };

function parseLocation(text: string): Location {
  // yagna parses a bare path with the "container" scheme as fallback.
  let url: URL;
  try {
    url = new URL(text.startsWith("/") ? `container:${text}` : text);
  } catch {
    throw new TransferError(`URL parse error: ${text}`);
  }
  switch (url.protocol) {
    case "container:":
      return { kind: "container", path: decodeURIComponent(url.pathname) };
    case "gftp:": {
      const fileId = url.pathname.replace(/^\//, "");
      if (!url.host || !fileId) throw new TransferError("Invalid url: Invalid gftp URL");
      return { kind: "gftp", nodeId: url.host, fileId };
    }
    case "http:":
    case "https:":
      return { kind: "http", url };
    default:
      throw new TransferError(`Unsupported scheme: ${url.protocol.slice(0, -1)}`);
  }
}

/** The host path of a container path, as container.rs `resolve_path` finds it. */
export function resolveContainerPath(
  volumes: readonly Volume[],
  containerPath: string,
): { volume: Volume; hostPath: string; rest: string } {
  let best: Volume | undefined;
  for (const volume of volumes) {
    const under = containerPath === volume.path || containerPath.startsWith(`${volume.path}/`);
    if (under && (best === undefined || volume.path.length > best.path.length)) best = volume;
  }
  if (best === undefined) throw new TransferError(`IO error: path not found in container: ${containerPath}`);
  const rest = containerPath.slice(best.path.length + 1);
  // URL parsing removed dot segments; any left came percent-encoded and would climb out.
  if (rest.startsWith("/") || rest.split("/").includes("..")) throw new TransferError(`IO error: invalid path format: [${containerPath}]`);
  return { volume: best, hostPath: rest === "" ? best.hostDir : join(best.hostDir, rest), rest };
}

const outside = (containerPath: string) => new TransferError(`IO error: ${containerPath} leads outside the container's volumes`);

async function insideVolume(volume: Volume, hostPath: string, containerPath: string): Promise<void> {
  const [root, real] = await Promise.all([realpath(volume.hostDir), realpath(hostPath)]);
  const path = relative(root, real);
  if (path.startsWith(`..${sep}`) || path === "..") throw outside(containerPath);
}

/**
 * The host path to write `rest` to, its parent folders created one level at a time
 * inside the volume: a symlink on the way (planted by the command) is refused, never
 * followed, so a transfer cannot create or overwrite anything outside the volume.
 */
async function destinationPath(volume: Volume, rest: string, containerPath: string): Promise<string> {
  const parts = rest.split("/").filter((part) => part !== "");
  const name = parts.pop();
  if (name === undefined) throw new TransferError(`IO error: ${containerPath} is a volume, not a file`);
  let dir = volume.hostDir;
  for (const part of parts) {
    dir = join(dir, part);
    const info = await lstat(dir).catch(() => undefined);
    if (info === undefined) await mkdir(dir);
    else if (info.isSymbolicLink()) throw outside(containerPath);
    else if (!info.isDirectory()) throw new TransferError(`IO error: Not a directory: ${containerPath}`);
  }
  return join(dir, name);
}

/** Runs one transfer; rejects with a TransferError worded as ya-transfer's. */
export async function transfer(from: string, to: string, options: TransferOptions): Promise<void> {
  const source = parseLocation(from);
  const destination = parseLocation(to);
  if (source.kind === "container" && destination.kind === "gftp") return uploadToGftp(source.path, destination, options);
  if (destination.kind !== "container" || source.kind === "container") {
    throw new TransferError(`Unsupported transfer: ${from} to ${to}`);
  }
  const { volume, rest } = resolveContainerPath(options.volumes, destination.path);
  const hostPath = await destinationPath(volume, rest, destination.path);
  const file = await open(hostPath, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW).catch(
    (error: NodeJS.ErrnoException) => {
      throw error.code === "ELOOP" ? outside(destination.path) : new TransferError(`IO error: ${error.message}`);
    },
  );
  try {
    if (source.kind === "gftp") await downloadFromGftp(source, file, options);
    else await downloadFromHttp(source.url, file, options);
  } finally {
    await file.close();
  }
}

function gsbError(error: unknown): TransferError {
  return error instanceof TransferError ? error : new TransferError(`GSB error: ${(error as Error).message}`);
}

type FileHandle = Awaited<ReturnType<typeof open>>;

async function downloadFromGftp(source: { nodeId: string; fileId: string }, file: FileHandle, options: TransferOptions): Promise<void> {
  const address = `/public/gftp/${source.fileId}`;
  const call = (component: string, payload: unknown) => options.gsb.call(source.nodeId, address, component, payload, options.signal);
  const metadata = (await call("GetMetadata", {}).catch((error) => Promise.reject(gsbError(error)))) as { fileSize?: number | bigint };
  const fileSize = Number(metadata?.fileSize);
  if (!Number.isSafeInteger(fileSize) || fileSize < 0) throw new TransferError(`gftp error: bad metadata ${JSON.stringify(metadata)}`);
  const chunks = Math.ceil(fileSize / GFTP_CHUNK_BYTES);
  const inFlight: Promise<unknown>[] = [];
  let requested = 0;
  let next = 0;
  let dropped = false;
  const request = () => {
    const offset = next * GFTP_CHUNK_BYTES;
    next += 1;
    const reply = call("GetChunk", { offset, size: GFTP_CHUNK_BYTES });
    reply.catch(() => {}); // awaited in order below
    inFlight.push(reply);
    requested += Math.min(GFTP_CHUNK_BYTES, fileSize - offset);
    if (!dropped && options.dropAfterBytes !== undefined && requested > options.dropAfterBytes) {
      dropped = true;
      options.gsb.dropConnection(source.nodeId, address);
    }
  };
  for (let written = 0; written < chunks; written += 1) {
    while (next < chunks && inFlight.length < GFTP_CONCURRENCY && !dropped) request();
    const reply = (await inFlight.shift()!.catch((error) => Promise.reject(gsbError(error)))) as { content?: Uint8Array };
    if (!(reply?.content instanceof Uint8Array)) throw new TransferError("gftp error: a GetChunk reply has no content");
    await file.write(reply.content);
  }
  if (dropped) throw new TransferError("GSB error: the connection was dropped");
}

async function uploadToGftp(
  containerPath: string,
  destination: { nodeId: string; fileId: string },
  options: TransferOptions,
): Promise<void> {
  const { volume, hostPath } = resolveContainerPath(options.volumes, containerPath);
  await insideVolume(volume, hostPath, containerPath).catch((error: NodeJS.ErrnoException) => {
    throw error instanceof TransferError ? error : new TransferError(`IO error: ${error.message}`);
  });
  const file = await open(hostPath, constants.O_RDONLY | constants.O_NOFOLLOW).catch((error: Error) => {
    throw new TransferError(`IO error: ${error.message}`);
  });
  const address = `/public/gftp/${destination.fileId}`;
  const call = (component: string, payload: unknown) =>
    options.gsb.call(destination.nodeId, address, component, payload, options.signal).catch((error) => Promise.reject(gsbError(error)));
  try {
    const digest = createHash("sha3-256");
    const buffer = Buffer.alloc(GFTP_CHUNK_BYTES);
    let offset = 0;
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, GFTP_CHUNK_BYTES, offset);
      if (bytesRead === 0) break;
      // A copy with its own ArrayBuffer: flexbuffers encodes a view's whole underlying buffer.
      const content = new Uint8Array(buffer.subarray(0, bytesRead));
      digest.update(content);
      const sent = call("UploadChunk", { chunk: { offset, content } });
      offset += bytesRead;
      if (options.dropAfterBytes !== undefined && offset > options.dropAfterBytes) {
        options.gsb.dropConnection(destination.nodeId, address);
        await sent;
        throw new TransferError("GSB error: the connection was dropped");
      }
      await sent;
    }
    await call("UploadFinished", { hash: digest.digest("hex") });
  } finally {
    await file.close();
  }
}

async function downloadFromHttp(url: URL, file: FileHandle, options: TransferOptions): Promise<void> {
  const response = await fetch(url, { signal: options.signal }).catch((error: Error) => {
    throw new TransferError(`HTTP error: connection error: ${error.cause ?? error.message}`);
  });
  if (!response.ok || response.body === null) {
    throw new TransferError(`HTTP error: ${response.status >= 500 ? "server" : "client"} error: ${response.status} ${response.statusText}`);
  }
  let received = 0;
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    received += chunk.length;
    if (options.dropAfterBytes !== undefined && received > options.dropAfterBytes) {
      throw new TransferError("HTTP error: payload error: the connection was dropped");
    }
    await file.write(chunk);
  }
}
