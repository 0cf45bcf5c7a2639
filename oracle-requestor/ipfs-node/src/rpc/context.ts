/**
 * What every RPC handler gets: the node, its pin service and settings, and the
 * signal that ends the request's work.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { UnixFS } from "@helia/unixfs";
import type { EmbeddedIpfsOptions } from "../config.ts";
import type { HeliaNode } from "../helia-node.ts";
import type { PinService } from "../pin-service.ts";
import type { QueryParams } from "./params.ts";

export interface RpcContext {
  node: HeliaNode;
  fs: UnixFS;
  pins: PinService;
  options: EmbeddedIpfsOptions;
}

export interface RpcCall {
  request: IncomingMessage;
  response: ServerResponse;
  params: QueryParams;
  context: RpcContext;
  /**
   * Aborts when the client goes away or the request's own `timeout` option passes
   * (Kubo's global option). Waiting for a block that is not stored here is bounded
   * separately by the node's read timeout (see block-arrivals.ts).
   */
  signal: AbortSignal;
}

export type RpcHandler = (call: RpcCall) => Promise<void>;
