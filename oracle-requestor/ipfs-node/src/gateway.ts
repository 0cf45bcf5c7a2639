/**
 * A read-only path gateway: `GET|HEAD /ipfs/<cid>[/path]`, as Kubo serves on :8080.
 *
 * - Files (and raw blocks such as results) are served with their bytes, a
 *   Content-Type from the name or the content, `ETag: "<cid>"` (content never
 *   changes, so If-None-Match answers 304 and responses are cacheable forever), and
 *   single byte ranges.
 * - `?format=raw` or `Accept: application/vnd.ipld.raw` returns the block itself
 *   (the trustless-gateway form, verifiable by hashing).
 * - Directories serve their index.html, else a listing.
 * - Errors: 400 for a malformed CID, 404 for a path that does not exist in the DAG,
 *   504 when the content is not available within the node's read timeout.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { UnixFS } from "@helia/unixfs";
import type { CID } from "multiformats/cid";
import { collectBytes } from "./bytes.ts";
import { openStream, pipeOpenedStream, requestSignal } from "./http-stream.ts";
import { contentTypeFor } from "./content-type.ts";
import type { HeliaNode } from "./helia-node.ts";
import { isDeadlineError } from "./rpc/errors.ts";
import { parseContentPath } from "./rpc/params.ts";

export interface GatewayContext {
  node: HeliaNode;
  fs: UnixFS;
}

/** One request being served. */
interface GatewayCall {
  request: IncomingMessage;
  response: ServerResponse;
  context: GatewayContext;
  signal: AbortSignal;
}

const IMMUTABLE = "public, max-age=29030400, immutable";
const RAW_BLOCK_TYPE = "application/vnd.ipld.raw";

class GatewayError extends Error {
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export function createGatewayListener(context: GatewayContext) {
  return (request: IncomingMessage, response: ServerResponse): void => {
    void serve(request, response, context).catch((error: unknown) => {
      sendGatewayError(response, classify(error));
    });
  };
}

async function serve(request: IncomingMessage, response: ServerResponse, context: GatewayContext): Promise<void> {
  // Content-addressed data is public: any page may read it, as from any public gateway.
  response.setHeader("Access-Control-Allow-Origin", "*");
  response.setHeader("Access-Control-Expose-Headers", "Content-Range, Content-Length, ETag, X-Ipfs-Path");
  if (request.method === "OPTIONS") {
    response.writeHead(204, { "Access-Control-Allow-Methods": "GET, HEAD", "Access-Control-Allow-Headers": "Range" });
    response.end();
    return;
  }
  if (request.method !== "GET" && request.method !== "HEAD") {
    throw new GatewayError(405, `${request.method} is not allowed: this gateway is read-only`);
  }
  const url = new URL(request.url ?? "/", "http://localhost");
  if (!url.pathname.startsWith("/ipfs/")) {
    throw new GatewayError(404, "this gateway serves /ipfs/<cid>[/path] only");
  }
  let cid: CID;
  let path: string;
  try {
    ({ cid, path } = parseContentPath(decodeURIComponent(url.pathname)));
  } catch (error) {
    throw new GatewayError(400, (error as Error).message);
  }
  const signal = requestSignal(response);
  const call: GatewayCall = { request, response, context, signal };
  response.setHeader("X-Ipfs-Path", url.pathname);

  const wantsRawBlock = url.searchParams.get("format") === "raw" || (request.headers.accept ?? "").includes(RAW_BLOCK_TYPE);
  if (wantsRawBlock && path === "") {
    await serveRawBlock(call, cid);
    return;
  }

  const stats = await context.fs.stat(cid, { ...(path === "" ? {} : { path }), signal });
  if (stats.type === "directory") {
    await serveDirectory(call, stats.cid, url.pathname);
    return;
  }
  await serveFile(call, stats.cid, Number(stats.size), path);
}

async function serveFile(call: GatewayCall, cid: CID, size: number, path: string): Promise<void> {
  const { request, response, context, signal } = call;
  const etag = `"${cid}"`;
  if (notModified(request, response, etag)) return;
  const range = parseRange(request.headers.range, size);
  const stream = await openStream(
    context.fs.cat(cid, {
      signal,
      ...(range === undefined ? {} : { offset: range.start, length: range.end - range.start + 1 }),
    }),
  );
  const headers = { ...contentHeaders(etag, contentTypeFor(path, stream.first)), "Accept-Ranges": "bytes" };
  if (range === undefined) {
    response.writeHead(200, { ...headers, "Content-Length": size });
  } else {
    response.writeHead(206, {
      ...headers,
      "Content-Length": range.end - range.start + 1,
      "Content-Range": `bytes ${range.start}-${range.end}/${size}`,
    });
  }
  if (request.method === "HEAD") {
    response.end();
    await stream.rest.return?.();
    return;
  }
  await pipeOpenedStream(response, stream);
}

async function serveRawBlock(call: GatewayCall, cid: CID): Promise<void> {
  const { request, response, context, signal } = call;
  const etag = `"${cid}.raw"`;
  if (notModified(request, response, etag)) return;
  const block = await collectBytes(context.node.helia.blockstore.get(cid, { signal }));
  response.writeHead(200, { ...contentHeaders(etag, RAW_BLOCK_TYPE), "Content-Length": block.byteLength });
  response.end(request.method === "HEAD" ? undefined : block);
}

async function serveDirectory(call: GatewayCall, cid: CID, urlPath: string): Promise<void> {
  const { request, response, context, signal } = call;
  const entries = [];
  for await (const entry of context.fs.ls(cid, { signal })) entries.push(entry);
  const index = entries.find((entry) => entry.name === "index.html");
  if (index !== undefined) {
    const stats = await context.fs.stat(index.cid, { signal });
    await serveFile(call, index.cid, Number(stats.size), "index.html");
    return;
  }
  const base = urlPath.endsWith("/") ? urlPath : `${urlPath}/`;
  const items = entries
    .map((entry) => `<li><a href="${escapeHtml(base + encodeURIComponent(entry.name))}">${escapeHtml(entry.name)}</a></li>`)
    .join("");
  const body = `<!doctype html><meta charset="utf-8"><title>${escapeHtml(urlPath)}</title><h1>${escapeHtml(urlPath)}</h1><ul>${items}</ul>`;
  const etag = `"DirIndex-${cid}"`;
  if (notModified(request, response, etag)) return;
  response.writeHead(200, {
    ...contentHeaders(etag, "text/html; charset=utf-8"),
    "Content-Length": Buffer.byteLength(body),
  });
  response.end(request.method === "HEAD" ? undefined : body);
}

/** Content under a CID never changes: cacheable forever, validated by the CID. */
function contentHeaders(etag: string, contentType: string): Record<string, string> {
  return { "Content-Type": contentType, ETag: etag, "Cache-Control": IMMUTABLE, "X-Content-Type-Options": "nosniff" };
}

function notModified(request: IncomingMessage, response: ServerResponse, etag: string): boolean {
  const tags = (request.headers["if-none-match"] ?? "").split(",").map((tag) => tag.trim().replace(/^W\//, ""));
  if (!tags.includes(etag) && !tags.includes("*")) return false;
  response.writeHead(304, { ETag: etag, "Cache-Control": IMMUTABLE });
  response.end();
  return true;
}

/** A single `bytes=start-end` range (also `start-` and `-suffix`); undefined for none or an unsupported form. */
function parseRange(header: string | undefined, size: number): { start: number; end: number } | undefined {
  if (header === undefined) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (match === null || (match[1] === "" && match[2] === "")) return undefined;
  let start: number;
  let end: number;
  if (match[1] === "") {
    const suffix = Number(match[2]);
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(match[1]);
    end = match[2] === "" ? size - 1 : Math.min(Number(match[2]), size - 1);
  }
  if (start > end || start >= size) {
    throw new GatewayError(416, `range ${header} is outside the ${size}-byte file`);
  }
  return { start, end };
}

function classify(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  if (isDeadlineError(error)) {
    return new GatewayError(504, `the content is not available on this node: ${(error as Error).message}`);
  }
  const name = (error as Error)?.name ?? "";
  const message = (error as Error)?.message ?? String(error);
  if (["NotFoundError", "DoesNotExistError", "ERR_NOT_FOUND"].includes(name)) return new GatewayError(404, message);
  if (["NotUnixFSError", "InvalidParametersError", "NotAFileError"].includes(name)) return new GatewayError(400, message);
  return new GatewayError(500, message);
}

function sendGatewayError(response: ServerResponse, error: GatewayError): void {
  if (response.headersSent) {
    response.destroy(error);
    return;
  }
  const body = `${error.status} ${error.message}\n`;
  response.writeHead(error.status, {
    "Content-Type": "text/plain; charset=utf-8",
    "Content-Length": Buffer.byteLength(body),
    "Cache-Control": "no-store",
  });
  response.end(body);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
