/**
 * The devnet's yagna with no providers: what golem-js's storage needs of it is `/me`
 * (identity-api) and the GSB API, served on 127.0.0.1 by `startGolemDevnet`. golem-js's
 * real YagnaApi and WebSocketStorageProvider talk to it over HTTP and WebSocket; the
 * tests call the hub as the exe-units do.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encode, toObject } from "flatbuffers/js/flexbuffers.js";
import WebSocket from "ws";
import { startGolemDevnet } from "@argus/golem-devnet/devnet";
import type { GsbCaller } from "@argus/golem-devnet/exe-unit";

export interface GsbTestServer {
  hub: GsbCaller;
  basePath: string;
  appKey: string;
  /** The requestor's node id: the host of the gftp:// URLs golem-js publishes. */
  nodeId: string;
  close(): Promise<void>;
}

export async function startGsbTestServer(): Promise<GsbTestServer> {
  const workRoot = await mkdtemp(join(tmpdir(), "argus-gsb-devnet-"));
  const devnet = await startGolemDevnet({ port: 0, providers: [], workRoot });
  return {
    hub: devnet.gsb,
    basePath: devnet.url,
    appKey: devnet.appKey,
    nodeId: devnet.requestorId,
    async close() {
      await devnet.close();
      await rm(workRoot, { recursive: true, force: true });
    },
  };
}

export interface RawGsbRequest {
  id: string;
  component: string;
  payload: unknown;
}

export function decodeGsbMessage<T = RawGsbRequest>(data: Buffer): T {
  return toObject(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer) as unknown as T;
}

export function gsbSocket(server: GsbTestServer, servicesId: string, appKey = server.appKey): WebSocket {
  return new WebSocket(`${server.basePath.replace("http", "ws")}/gsb-api/v1/services/${servicesId}?authToken=${appKey}`, [
    "gsb+flexbuffers",
  ]);
}

/**
 * A GSB client speaking the wire protocol by hand (bind over REST, flexbuffers over the
 * WebSocket), to see exactly what the provider side sends.
 */
export async function rawGsbClient(server: GsbTestServer, on: string, components: string[]) {
  const headers = { authorization: `Bearer ${server.appKey}`, "content-type": "application/json" };
  const bound = await fetch(`${server.basePath}/gsb-api/v1/services`, {
    method: "POST",
    headers,
    body: JSON.stringify({ listen: { on, components } }),
  });
  if (bound.status !== 201) throw new Error(`bind failed: ${bound.status} ${await bound.text()}`);
  const { servicesId } = (await bound.json()) as { servicesId: string };
  const socket = gsbSocket(server, servicesId);
  await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
  let handler: (request: RawGsbRequest) => unknown = () => null;
  socket.on("message", (data: Buffer) => {
    const request = decodeGsbMessage(data);
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
