/**
 * The Kubo RPC API: `POST /api/v0/<command>`, the part of it our flows (and
 * kubo-rpc-client's methods for them) use.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { OriginPolicy } from "../cors.ts";
import { requestSignal } from "../http-stream.ts";
import { handleAdd } from "./add.ts";
import { handleBlockGet, handleBlockPut, handleBlockStat } from "./block.ts";
import { handleCat } from "./cat.ts";
import type { RpcContext, RpcHandler } from "./context.ts";
import { RpcError, toRpcError } from "./errors.ts";
import { handleId, handleVersion } from "./info.ts";
import { QueryParams } from "./params.ts";
import { handlePinAdd, handlePinLs, handlePinRm } from "./pin.ts";
import { sendError } from "./respond.ts";

export const API_PREFIX = "/api/v0/";

export const COMMANDS: ReadonlyMap<string, RpcHandler> = new Map([
  ["add", handleAdd],
  ["cat", handleCat],
  ["block/get", handleBlockGet],
  ["block/put", handleBlockPut],
  ["block/stat", handleBlockStat],
  ["pin/add", handlePinAdd],
  ["pin/rm", handlePinRm],
  ["pin/ls", handlePinLs],
  ["id", handleId],
  ["version", handleVersion],
]);

export function createRpcListener(context: RpcContext, origins: OriginPolicy) {
  return (request: IncomingMessage, response: ServerResponse): void => {
    void route(request, response, context, origins).catch((error: unknown) => {
      sendError(response, toRpcError(error));
    });
  };
}

async function route(request: IncomingMessage, response: ServerResponse, context: RpcContext, origins: OriginPolicy): Promise<void> {
  if (!origins.allows(request.headers.origin)) {
    request.resume();
    sendError(response, new RpcError(`origin ${request.headers.origin} is not allowed to use this API (--cors-origins)`, 403));
    return;
  }
  if (request.method === "OPTIONS") {
    origins.answerPreflight(request, response);
    return;
  }
  origins.applyTo(request, response);

  const url = new URL(request.url ?? "/", "http://localhost");
  const command = url.pathname.startsWith(API_PREFIX) ? url.pathname.slice(API_PREFIX.length).replace(/\/$/, "") : undefined;
  const handler = command === undefined ? undefined : COMMANDS.get(command);
  if (handler === undefined) {
    request.resume();
    sendError(response, new RpcError(`command not found: ${url.pathname}`, 404));
    return;
  }
  // Kubo accepts only POST on the API, which keeps plain links and <img> tags from triggering commands.
  if (request.method !== "POST") {
    request.resume();
    response.setHeader("Allow", "POST");
    sendError(response, new RpcError(`${request.method} is not allowed: the RPC API takes POST`, 405));
    return;
  }

  const params = new QueryParams(url.searchParams);
  try {
    const signal = requestSignal(response, params.durationMs("timeout"));
    await handler({ request, response, params, context, signal });
  } catch (error) {
    request.resume();
    sendError(response, toRpcError(error));
  }
}
