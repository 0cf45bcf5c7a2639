/**
 * yagna's GSB API (core/gsb-api; ya-client specs/gsb-api.yaml and gsb-api-messages.yaml),
 * the way golem-js 3.6's WebSocketStorageProvider uses it to serve and receive files:
 *
 * - `POST /gsb-api/v1/services` {listen: {on, components}} binds `<on>/<component>` and
 *   answers 201 {listen, servicesId}, servicesId being `on` in URL-safe base64 without
 *   padding, as yagna makes it; a prefix bound twice is a 400;
 * - `DELETE /gsb-api/v1/services/{servicesId}` unbinds (200 `null`, 404 when unknown),
 *   closing the socket and failing pending calls;
 * - `GET /gsb-api/v1/services/{servicesId}?authToken=…` upgrades to a WebSocket with the
 *   `gsb+flexbuffers` subprotocol; a newer socket replaces an older one (closed with
 *   1008, "Closing old WS connection in favour of new WS connection");
 * - each call travels to the client as flexbuffers {id, component, payload} and comes back
 *   as {id, payload} or {id, error}; calls made while no socket is connected wait for one
 *   (yagna buffers them), and a socket that closes fails the calls it had.
 *
 * The provider side — a gftp client on another node reaching `/public/gftp/<file>` over
 * the net — is `call`, used by the emulated exe-units. Authentication is yagna's: the
 * app key as a Bearer token, or as `authToken` in the query (how browsers and golem-js
 * open the WebSocket).
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { encode, toObject } from "flatbuffers/js/flexbuffers.js";
import { type WebSocket, WebSocketServer } from "ws";
import type { GsbCaller } from "../exe-unit/exe-unit.ts";

const API_PATH = "/gsb-api/v1/services";
export const GSB_SUBPROTOCOL = "gsb+flexbuffers";
const MAX_BODY_BYTES = 64 * 1024;

/** A call that did not get a payload back: the socket closed, nothing is bound there, or the client answered an error. */
export class GsbCallError extends Error {
  override name = "GsbCallError";
}

interface PendingCall {
  serviceId: string;
  message: Uint8Array;
  /** The socket it went out on; undefined while it waits for one. */
  sentOn?: WebSocket;
  resolve(payload: unknown): void;
  reject(error: Error): void;
}

interface Service {
  id: string;
  on: string;
  components: string[];
  socket?: WebSocket;
}

export interface GsbHubOptions {
  /** The app key golem-js authenticates with. */
  appKey: string;
  /** The requestor's node id: the host part of the gftp:// URLs it publishes. */
  nodeId: string;
}

export interface GsbHub extends GsbCaller {
  /** Handles an HTTP request under /gsb-api/v1; false (untouched) for any other path. */
  handleHttp(request: IncomingMessage, response: ServerResponse): boolean;
  /** Handles an upgrade request under /gsb-api/v1/services/{id}; false for any other path. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** Bound service addresses (for logs and tests). */
  boundAddresses(): string[];
  /** Closes every socket and fails every pending call. */
  close(): void;
}

const servicesIdOf = (address: string) => Buffer.from(address, "utf8").toString("base64url");

function decodeServicesId(id: string): string | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(id)) return undefined;
  const address = Buffer.from(id, "base64url").toString("utf8");
  return servicesIdOf(address) === id ? address : undefined;
}

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  response.end(text);
}

function toArrayBuffer(data: Buffer): ArrayBuffer {
  return data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
}

export function createGsbHub(options: GsbHubOptions): GsbHub {
  const services = new Map<string, Service>(); // by address prefix
  const pending = new Map<string, PendingCall>();
  const sockets = new WebSocketServer({
    noServer: true,
    handleProtocols: (protocols) => (protocols.has(GSB_SUBPROTOCOL) ? GSB_SUBPROTOCOL : false),
  });

  /** yagna's auth middleware: Bearer header first, then `authToken` in the query. */
  function authError(request: IncomingMessage, url: URL): string | undefined {
    const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? "")?.[1];
    const key = bearer ?? url.searchParams.get("authToken") ?? undefined;
    if (key === undefined) return "Missing application key";
    return key === options.appKey ? undefined : "Invalid application key";
  }

  /** Fails the service's pending calls: all of them, or those sent on `socket`. */
  function failCalls(serviceId: string, reason: string, socket?: WebSocket): void {
    for (const [id, call] of pending) {
      if (call.serviceId !== serviceId || (socket !== undefined && call.sentOn !== socket)) continue;
      pending.delete(id);
      call.reject(new GsbCallError(reason));
    }
  }

  function attach(service: Service, socket: WebSocket): void {
    const old = service.socket;
    service.socket = socket;
    if (old !== undefined) {
      const reason = "Closing old WS connection in favour of new WS connection";
      failCalls(service.id, `Closed: Policy: ${reason}`, old);
      old.close(1008, reason);
    }
    socket.on("message", (data, isBinary) => {
      if (!isBinary) {
        socket.close(1003, "Text msg unsupported.");
        return;
      }
      let reply: { id?: unknown; payload?: unknown; error?: unknown };
      try {
        const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
        reply = toObject(toArrayBuffer(bytes)) as typeof reply;
      } catch (error) {
        socket.close(1008, `Failed to read response. Err: ${(error as Error).message}`);
        return;
      }
      const call = typeof reply?.id === "string" ? pending.get(reply.id) : undefined;
      if (call === undefined) return; // a late reply to a cancelled call: yagna drops it too
      pending.delete(reply.id as string);
      if (reply.error !== undefined) call.reject(new GsbCallError(`remote error: ${JSON.stringify(reply.error)}`));
      else if ("payload" in reply) call.resolve(reply.payload);
      else call.reject(new GsbCallError(`Missing 'payload' and 'error' fields. Id: ${reply.id}.`));
    });
    socket.on("close", (code, reason) => {
      if (service.socket !== socket) return;
      service.socket = undefined;
      // Calls sent on it fail; calls made from now on wait for a new socket, as yagna buffers them.
      failCalls(service.id, `Closed: WebSocket closed (${code}${reason.length ? `: ${reason}` : ""})`, socket);
    });
    for (const call of pending.values()) {
      if (call.serviceId === service.id && call.sentOn === undefined) {
        call.sentOn = socket;
        socket.send(call.message);
      }
    }
  }

  async function readJson(request: IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of request as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) throw new Error(`body larger than ${MAX_BODY_BYTES} bytes`);
      chunks.push(chunk);
    }
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  }

  async function bind(request: IncomingMessage, response: ServerResponse): Promise<void> {
    let body: unknown;
    try {
      body = await readJson(request);
    } catch (error) {
      return sendJson(response, 400, { message: `Json deserialize error: ${(error as Error).message}` });
    }
    const listen = (body as { listen?: { on?: unknown; components?: unknown } } | null)?.listen;
    const components = listen?.components;
    if (typeof listen?.on !== "string" || !Array.isArray(components) || !components.every((c) => typeof c === "string")) {
      return sendJson(response, 400, { message: "Json deserialize error: expected {listen: {on: string, components: string[]}}" });
    }
    const on = listen.on;
    if (on === "") return sendJson(response, 400, { message: "Invalid service address prefix: Cannot bind service. Empty prefix." });
    if (services.has(on)) return sendJson(response, 400, { message: `Duplicated service address prefix: ${on}` });
    const id = servicesIdOf(on);
    services.set(on, { id, on, components: [...components] });
    sendJson(response, 201, { listen: { on, components }, servicesId: id }, { location: `/${id}` });
  }

  function unbind(id: string, response: ServerResponse): void {
    const address = decodeServicesId(id);
    if (address === undefined) {
      sendJson(response, 400, { message: "Service address should be encoded in base64. Unable to decode." });
      return;
    }
    const service = services.get(address);
    if (service === undefined) {
      sendJson(response, 404, { message: `Service prefix not found: Cannot find service: ${address}` });
      return;
    }
    services.delete(address);
    failCalls(service.id, `Closed: Normal: Unbinding service: ${address}`);
    service.socket?.close(1000, `Unbinding service: ${address}`);
    sendJson(response, 200, null);
  }

  return {
    handleHttp(request, response) {
      const url = new URL(request.url ?? "/", "http://yagna");
      if (url.pathname !== API_PATH && !url.pathname.startsWith(`${API_PATH}/`)) return false;
      const denied = authError(request, url);
      if (denied !== undefined) {
        response.writeHead(401, { "content-type": "text/plain" });
        response.end(denied);
        return true;
      }
      const id = url.pathname.slice(API_PATH.length + 1);
      if (id === "" && request.method === "POST") void bind(request, response);
      else if (id !== "" && !id.includes("/") && request.method === "DELETE") unbind(id, response);
      else if (id !== "" && request.method === "GET") sendJson(response, 400, { message: "expected a WebSocket upgrade" });
      else sendJson(response, 405, { message: `${request.method} ${url.pathname} is not part of the GSB API` });
      return true;
    },

    handleUpgrade(request, socket, head) {
      const url = new URL(request.url ?? "/", "http://yagna");
      if (!url.pathname.startsWith(`${API_PATH}/`)) return false;
      const refuse = (status: number, text: string) => {
        socket.end(
          `HTTP/1.1 ${status} ${status === 401 ? "Unauthorized" : "Not Found"}\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`,
        );
      };
      const denied = authError(request, url);
      if (denied !== undefined) {
        refuse(401, denied);
        return true;
      }
      const address = decodeServicesId(url.pathname.slice(API_PATH.length + 1));
      const service = address === undefined ? undefined : services.get(address);
      if (service === undefined) {
        refuse(404, `Service prefix not found: ${address ?? url.pathname}`);
        return true;
      }
      sockets.handleUpgrade(request, socket, head, (ws) => {
        if (services.get(service.on) === service) attach(service, ws);
        else ws.close(1000, `Unbinding service: ${service.on}`);
      });
      return true;
    },

    call(nodeId, address, component, payload, signal) {
      const service = nodeId.toLowerCase() === options.nodeId.toLowerCase() ? services.get(address) : undefined;
      const target = `${address}/${component}`;
      if (service === undefined) {
        return Promise.reject(new GsbCallError(`No service registered under given address '/net/${nodeId}${target}'`));
      }
      if (!service.components.includes(component)) {
        return Promise.reject(new GsbCallError(`GSB bad request: No supported msg type for addr: ${target}`));
      }
      if (signal?.aborted) return Promise.reject(signal.reason);
      const id = randomUUID();
      return new Promise((resolve, reject) => {
        const onAbort = () => {
          if (pending.delete(id)) reject(signal?.reason);
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        const settle =
          <T>(fn: (value: T) => void) =>
          (value: T) => {
            signal?.removeEventListener("abort", onAbort);
            fn(value);
          };
        const message = encode({ id, component, payload: payload ?? {} });
        const call: PendingCall = { serviceId: service.id, message, resolve: settle(resolve), reject: settle(reject) };
        pending.set(id, call);
        if (service.socket?.readyState === 1) {
          call.sentOn = service.socket;
          service.socket.send(message);
        }
      });
    },

    dropConnection(nodeId, address) {
      if (nodeId.toLowerCase() !== options.nodeId.toLowerCase()) return;
      const service = services.get(address);
      if (service === undefined) return;
      failCalls(service.id, "Closed: Abnormal: the WebSocket connection was dropped");
      const socket = service.socket;
      service.socket = undefined;
      socket?.terminate();
    },

    boundAddresses: () => [...services.keys()],

    close() {
      for (const service of services.values()) {
        failCalls(service.id, "Closed: Away: yagna is shutting down");
        service.socket?.terminate();
      }
      services.clear();
      sockets.close();
    },
  };
}
