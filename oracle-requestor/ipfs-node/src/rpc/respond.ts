/**
 * Writing Kubo-shaped responses: single JSON values, streamed NDJSON (add, pin ls),
 * streamed bytes (cat) and Kubo's error JSON.
 */
import type { ServerResponse } from "node:http";
import { errorBody, toRpcError } from "./errors.ts";
import type { RpcError } from "./errors.ts";

export function sendJson(response: ServerResponse, value: unknown, status = 200): void {
  const body = JSON.stringify(value);
  response.writeHead(status, {
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(body),
  });
  response.end(body);
}

export function sendBytes(response: ServerResponse, bytes: Uint8Array): void {
  response.writeHead(200, {
    "Content-Type": "application/octet-stream",
    "Content-Length": bytes.byteLength,
  });
  response.end(bytes);
}

/** Kubo's error JSON; `closeConnection` when the rest of the request body is being thrown away. */
export function sendError(response: ServerResponse, error: RpcError, closeConnection = false): void {
  if (response.headersSent) {
    response.destroy(error);
    return;
  }
  const body = errorBody(error);
  response.writeHead(error.status, {
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(body),
    ...(closeConnection ? { Connection: "close" } : {}),
  });
  response.end(body);
}

/**
 * A streamed NDJSON answer. Headers go out on `start()` (or with the first line), so
 * an error before that still gets a proper status code. An error after it is reported
 * as Kubo does, in the `X-Stream-Error` trailer, and also as a last error line so
 * clients that ignore trailers see it.
 */
export class NdjsonStream {
  readonly #response: ServerResponse;

  constructor(response: ServerResponse) {
    this.#response = response;
  }

  get started(): boolean {
    return this.#response.headersSent;
  }

  start(): void {
    if (this.started) return;
    this.#response.writeHead(200, {
      "Content-Type": "application/json",
      "X-Chunked-Output": "1",
      Trailer: "X-Stream-Error",
    });
  }

  write(value: unknown): void {
    this.start();
    this.#response.write(`${JSON.stringify(value)}\n`);
  }

  end(): void {
    this.start();
    this.#response.end();
  }

  fail(error: unknown): void {
    const rpcError = toRpcError(error);
    if (!this.started) {
      sendError(this.#response, rpcError);
      return;
    }
    this.#response.write(`${errorBody(rpcError)}\n`);
    this.#response.addTrailers({ "X-Stream-Error": rpcError.message });
    this.#response.end();
  }
}
