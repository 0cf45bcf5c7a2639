/**
 * The devnet's one HTTP server (127.0.0.1:7465 by default, like yagna). Mounted services
 * (the control API, the image registry, the GSB API and its WebSocket) get the first look
 * at each request; everything else is routed to the yagna operation the vendored specs
 * define, with:
 *
 * - the app key checked where the spec asks for it (`Authorization: Bearer <key>`, 401 otherwise);
 * - a 500 answer while the control API's failure window is open;
 * - the request (parameters, body) and the response checked against the spec, violations
 *   recorded, and in strict mode answered 400 (request) or replaced by a 500 (response).
 */
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { createServer } from "node:http";
import type { Duplex } from "node:stream";
import type { Handler, Handlers, Reply } from "./http.ts";
import { ApiError } from "./http.ts";
import type { DevnetLog } from "./log.ts";
import type { ApiFile } from "./openapi/load.ts";
import type { Operation } from "./openapi/operations.ts";
import { matchOperation, successStatus } from "./openapi/operations.ts";
import { typedQuery, type SpecValidator } from "./openapi/validator.ts";
import type { Violations } from "./openapi/violations.ts";

/** A service sharing the port: answers the requests it recognises (returns true), leaves the rest. */
export interface Mount {
  name: string;
  handle(request: IncomingMessage, response: ServerResponse, url: URL): boolean | Promise<boolean>;
  /** Takes a WebSocket upgrade it recognises (returns true). */
  upgrade?(request: IncomingMessage, socket: Duplex, head: Buffer, url: URL): boolean;
}

export interface YagnaServerOptions {
  host: string;
  port: number;
  appKey: string;
  strict: boolean;
  operations: readonly Operation[];
  validator: SpecValidator;
  violations: Violations;
  handlers: Partial<Record<ApiFile, Handlers>>;
  mounts: Mount[];
  /** A message while yagna is made to fail (the control API's 500 window), undefined otherwise. */
  failure(): string | undefined;
  log: DevnetLog;
}

const MAX_BODY_BYTES = 16 * 1024 * 1024;

export interface RunningServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

export async function startServer(options: YagnaServerOptions): Promise<RunningServer> {
  const server = createServer((request, response) => {
    serve(options, request, response).catch((error: unknown) => {
      options.log("error", "request handling failed", { method: request.method, url: request.url, error });
      if (!response.headersSent) sendJson(response, 500, { message: `golem-devnet internal error: ${(error as Error).message}` });
      else response.destroy();
    });
  });
  server.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(request.url ?? "/", "http://devnet");
    for (const mount of options.mounts) if (mount.upgrade?.(request, socket, head, url)) return;
    socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n");
  });
  server.keepAliveTimeout = 70_000;
  server.headersTimeout = 75_000;
  server.requestTimeout = 0; // long-polls and downloads of large images
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  return {
    server,
    url: `http://${options.host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function serve(options: YagnaServerOptions, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = new URL(request.url ?? "/", "http://devnet");
  for (const mount of options.mounts) if (await mount.handle(request, response, url)) return;

  const method = (request.method ?? "GET").toUpperCase();
  const match = matchOperation(options.operations, method, url.pathname);
  if (!("operation" in match)) {
    await drain(request);
    const status = match.allowed.length > 0 ? 405 : 404;
    if (status === 405) response.setHeader("Allow", match.allowed.join(", "));
    sendJson(response, status, {
      message: status === 405 ? `${method} not allowed on ${url.pathname}` : `no such endpoint: ${url.pathname}`,
    });
    return;
  }
  const { operation, params } = match;
  const handler = options.handlers[operation.file]?.[operation.operationId];

  if (operation.secured && !authorized(request, options.appKey)) {
    await drain(request);
    sendJson(response, 401, { message: "Authorization information is missing or invalid (app key)" });
    return;
  }
  const failure = options.failure();
  if (failure !== undefined) {
    await drain(request);
    sendJson(response, 500, { message: failure });
    return;
  }

  const query = typedQuery(operation, url.searchParams);
  const raw = await readBody(request);
  let body: unknown;
  const hasBody = raw.length > 0;
  if (hasBody) {
    try {
      body = JSON.parse(raw.toString("utf8"));
    } catch (error) {
      const message = `the request body is not JSON: ${(error as Error).message}`;
      record(options, "request", operation, url.pathname, undefined, [message]);
      sendJson(response, 400, { message });
      return;
    }
  }
  const problems = options.validator.checkRequest(operation, params, query, body, hasBody);
  if (problems.length > 0) {
    record(options, "request", operation, url.pathname, undefined, problems);
    if (options.strict) {
      sendJson(response, 400, {
        message: `request does not conform to ${operation.file}.yaml ${operation.operationId}: ${problems.join("; ")}`,
      });
      return;
    }
  }
  if (!handler) {
    sendJson(response, 501, { message: `golem-devnet does not implement ${operation.operationId}` });
    return;
  }

  const closed = new AbortController();
  response.on("close", () => closed.abort());
  let reply: Reply;
  try {
    reply = await (handler as Handler)({
      method,
      path: url.pathname,
      params,
      query,
      headers: request.headers,
      body,
      signal: closed.signal,
    });
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    reply = { status: error.status, body: { message: error.message, ...error.extra } };
  }
  if (reply.stream) {
    reply.stream(response);
    return;
  }
  const status = reply.status ?? successStatus(operation);
  const documented = operation.responses.get(String(status)) ?? operation.responses.get("default");
  const sendsBody = reply.body !== undefined && (documented?.schema !== undefined || status >= 400);
  const responseProblems = options.validator.checkResponse(operation, status, reply.body, sendsBody);
  if (responseProblems.length > 0) {
    record(options, "response", operation, url.pathname, status, responseProblems);
    if (options.strict) {
      sendJson(response, 500, {
        message: `golem-devnet response does not conform to ${operation.file}.yaml: ${responseProblems.join("; ")}`,
      });
      return;
    }
  }
  if (sendsBody) sendJson(response, status, reply.body);
  else {
    response.writeHead(status);
    response.end();
  }
}

function record(
  options: YagnaServerOptions,
  direction: "request" | "response",
  operation: Operation,
  path: string,
  status: number | undefined,
  errors: string[],
) {
  options.violations.record({ direction, operationId: operation.operationId, method: operation.method, path, status, errors });
  options.log("warn", `spec violation (${direction}) in ${operation.operationId}`, { path, status, errors });
}

export function authorized(request: IncomingMessage, appKey: string): boolean {
  const header = request.headers.authorization ?? "";
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  return match !== null && match[1] === appKey;
}

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
  response.end(text);
}

export async function readBody(request: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new ApiError(413, `request body over ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

async function drain(request: IncomingMessage): Promise<void> {
  for await (const _ of request) {
    // discard
  }
}
