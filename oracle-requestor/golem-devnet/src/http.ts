/**
 * What an emulated yagna operation receives and returns. Handlers are registered by the
 * OpenAPI operationId they implement (openapi/operations.ts routes a request to it), get
 * path and query parameters already typed by the spec, and answer a body (or throw an
 * ApiError, which becomes yagna's `{ "message": … }`).
 */
import type { ServerResponse } from "node:http";

export interface RequestContext {
  method: string;
  path: string;
  /** Path parameters by the names the spec uses (`subscriptionId`, `agreementId`, …). */
  params: Record<string, string>;
  /** Query parameters converted to the spec's types (numbers, integers, arrays). */
  query: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
  /** The parsed JSON body; undefined without one. */
  body: unknown;
  /** Aborted when the client closes the connection (long-polls stop waiting). */
  signal: AbortSignal;
}

export interface Reply {
  /** Defaults to the operation's documented success status. */
  status?: number;
  /** JSON body; omitted when the documented response has no content. */
  body?: unknown;
  /** A streaming answer (Server-Sent Events): the handler writes the response itself. */
  stream?: (response: ServerResponse) => void;
}

export type Handler = (context: RequestContext) => Reply | Promise<Reply>;

/** Handlers of one spec file, by operationId. */
export type Handlers = Record<string, Handler>;

/** An error answered as yagna's ErrorMessage with this status. */
export class ApiError extends Error {
  override name = "ApiError";
  readonly status: number;
  /** Extra fields of the error body (yagna sends only `message`). */
  readonly extra: Record<string, unknown>;

  constructor(status: number, message: string, extra: Record<string, unknown> = {}) {
    super(message);
    this.status = status;
    this.extra = extra;
  }
}

export const badRequest = (message: string) => new ApiError(400, message);
export const notFound = (message: string) => new ApiError(404, message);
export const gone = (message: string) => new ApiError(410, message);
export const conflict = (message: string) => new ApiError(409, message);
export const serverError = (message: string) => new ApiError(500, message);

export const ok = (body?: unknown, status?: number): Reply => ({ body, status });

/** The query parameter `name` as a number, or `fallback` when absent. */
export function queryNumber(context: RequestContext, name: string, fallback: number): number {
  const value = context.query[name];
  return typeof value === "number" && Number.isFinite(value) ? value : fallback;
}

export function queryString(context: RequestContext, name: string): string | undefined {
  const value = context.query[name];
  return typeof value === "string" ? value : undefined;
}
