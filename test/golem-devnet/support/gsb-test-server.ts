/**
 * A yagna as small as golem-js's storage needs: `/me` (identity-api) and the GSB API
 * from @argus/golem-devnet's hub, on 127.0.0.1. golem-js's real YagnaApi and
 * WebSocketStorageProvider talk to it over HTTP and WebSocket.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { encode, toObject } from "flatbuffers/js/flexbuffers.js";
import WebSocket from "ws";
import { createGsbHub, type GsbHub } from "@argus/golem-devnet/gsb-hub";

export const TEST_APP_KEY = "gsb-test-app-key";
export const REQUESTOR_NODE_ID = "0x1111111111111111111111111111111111111111";

export interface GsbTestServer {
  hub: GsbHub;
  basePath: string;
  close(): Promise<void>;
}

export async function startGsbTestServer(): Promise<GsbTestServer> {
  const hub = createGsbHub({ appKey: TEST_APP_KEY, nodeId: REQUESTOR_NODE_ID });
  const server: Server = createServer((request, response) => {
    if (hub.handleHttp(request, response)) return;
    if (request.url === "/me" && request.headers.authorization === `Bearer ${TEST_APP_KEY}`) {
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify({ identity: REQUESTOR_NODE_ID, name: "requestor", role: "manager" }));
      return;
    }
    response.writeHead(404);
    response.end();
  });
  server.on("upgrade", (request, socket, head) => {
    if (!hub.handleUpgrade(request, socket, head)) socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    hub,
    basePath: `http://127.0.0.1:${port}`,
    async close() {
      hub.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface RawGsbRequest {
  id: string;
  component: string;
  payload: unknown;
}

/**
 * A GSB client speaking the wire protocol by hand (bind over REST, flexbuffers over the
 * WebSocket), to see exactly what the provider side sends.
 */
export async function rawGsbClient(server: GsbTestServer, on: string, components: string[]) {
  const headers = { authorization: `Bearer ${TEST_APP_KEY}`, "content-type": "application/json" };
  const bound = await fetch(`${server.basePath}/gsb-api/v1/services`, {
    method: "POST",
    headers,
    body: JSON.stringify({ listen: { on, components } }),
  });
  if (bound.status !== 201) throw new Error(`bind failed: ${bound.status} ${await bound.text()}`);
  const { servicesId } = (await bound.json()) as { servicesId: string };
  const socket = new WebSocket(`${server.basePath.replace("http", "ws")}/gsb-api/v1/services/${servicesId}?authToken=${TEST_APP_KEY}`, [
    "gsb+flexbuffers",
  ]);
  await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
  let handler: (request: RawGsbRequest) => unknown = () => null;
  socket.on("message", (data: Buffer) => {
    const request = toObject(
      data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer,
    ) as unknown as RawGsbRequest;
    socket.send(encode({ id: request.id, payload: handler(request) }));
  });
  return {
    socket,
    servicesId,
    onRequest(answer: (request: RawGsbRequest) => unknown) {
      handler = answer;
    },
    async close() {
      socket.close();
      await fetch(`${server.basePath}/gsb-api/v1/services/${servicesId}`, { method: "DELETE", headers });
    },
  };
}
