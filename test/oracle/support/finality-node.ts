/**
 * A JSON-RPC endpoint in front of the local Hardhat node, for the settlement-finality
 * tests. Hardhat answers the `finalized` and `safe` block tags with its head; a
 * proof-of-stake execution client (or an OP-stack or Polygon node) answers with the most
 * recent block its consensus finalized, which lags the head. Given `finalizeUpTo(n)`,
 * this endpoint answers those tags the way such a node does, with block `n` — as the
 * Ethereum execution API specifies them — and passes everything else to Hardhat
 * unchanged. It also records each call it forwards (method and parameters), so a test
 * can tell exactly what the oracle reads.
 */
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { type Hex, numberToHex } from "viem";

export interface RpcCall {
  method: string;
  params: unknown[];
}

export interface FinalityNode {
  url: string;
  /** Every call forwarded so far, oldest first. */
  calls: RpcCall[];
  /** From now on `finalized` and `safe` are block `number` (undefined: Hardhat's own answer, its head). */
  finalizeUpTo(number: bigint | undefined): void;
  /** How many `eth_getBlockByNumber` calls asked for block `number` since call `since`. */
  blockReads(number: bigint, since?: number): number;
  /** How many calls of `method` since call `since` (optionally whose first parameter is `first`). */
  count(method: string, since?: number, first?: unknown): number;
  close(): Promise<void>;
}

interface JsonRpcRequest {
  jsonrpc: "2.0";
  id: unknown;
  method: string;
  params?: unknown[];
}

export async function startFinalityNode(upstream: string): Promise<FinalityNode> {
  const calls: RpcCall[] = [];
  let finalized: bigint | undefined;
  const rewrite = (request: JsonRpcRequest): JsonRpcRequest => {
    const params = request.params ?? [];
    calls.push({ method: request.method, params });
    const tag = params[0];
    if (request.method !== "eth_getBlockByNumber" || finalized === undefined || (tag !== "finalized" && tag !== "safe")) return request;
    return { ...request, params: [numberToHex(finalized), ...params.slice(1)] };
  };
  const server = createServer(async (incoming, response) => {
    try {
      const body = JSON.parse(await readBody(incoming)) as JsonRpcRequest | JsonRpcRequest[];
      const forwarded = Array.isArray(body) ? body.map(rewrite) : rewrite(body);
      const answer = await fetch(upstream, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(forwarded),
      });
      response.writeHead(answer.status, { "content-type": "application/json" });
      response.end(await answer.text());
    } catch (error) {
      response.writeHead(502, { "content-type": "application/json" });
      response.end(JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: -32603, message: (error as Error).message } }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const since = (from = 0) => calls.slice(from);
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    finalizeUpTo(number) {
      finalized = number;
    },
    blockReads(number, from) {
      const hex: Hex = numberToHex(number);
      return since(from).filter((call) => call.method === "eth_getBlockByNumber" && call.params[0] === hex).length;
    },
    count(method, from, first) {
      return since(from).filter((call) => call.method === method && (first === undefined || call.params[0] === first)).length;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}
