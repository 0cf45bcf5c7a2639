import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { encodeAbiParameters, type Hex } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { earlyRequestImage, lookUpRequestImage } from "./early-request-image.ts";

const CID = "bafkreibjbhnuj66njraorzguri6ryxvljvi7inehb33uwkkmsja3j255dq";
const CID_BYTES = "0x015512202909db44fbcd4c40e8e4d48a3d1c5eab4d51f434870ef74b294c9241b4ebbd1c" as Hex;

/** A JSON-RPC endpoint whose eth_getLogs answers with `answer` (what the test sets), counting calls. */
let answer: () => unknown = () => ({ result: [] });
let calls = 0;
let server: Server;
let rpcUrl = "";

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      calls++;
      const { id, method } = JSON.parse(body) as { id: number; method: string };
      const reply = method === "eth_getLogs" ? answer() : { error: { code: -32601, message: "method not found" } };
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ jsonrpc: "2.0", id, ...(reply as object) }));
    });
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  rpcUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((done) => server.close(() => done())));

const logWith = (imageCid: Hex) => ({
  result: [
    { data: encodeAbiParameters([{ type: "bytes" }, { type: "uint96" }, { type: "uint40" }, { type: "uint32" }], [imageCid, 10n, 99, 0]) },
  ],
});
const record = () => ({
  chain: { id: 31337, rpcUrl },
  contracts: { predictionEscrow: { address: "0x5FbDB2315678afecb367f032d93F642f64180aa3", deployBlock: 0 } },
  ipfs: { apiUrl: "http://127.0.0.1:5001", gatewayUrl: "http://127.0.0.1:8080/" },
});
const respond = (body: unknown) => Promise.resolve(new Response(JSON.stringify(body)));

describe("a request page's photo found by the entry chunk", () => {
  it("gives the photo's gateway URL, remembers it for the app, and leaves the record's body readable", async () => {
    answer = () => logWith(CID_BYTES);
    const requestId = (12n << 96n) | 5n;
    const response = respond(record());
    expect(await lookUpRequestImage(requestId, response)).toBe(`http://127.0.0.1:8080/ipfs/${CID}`);
    expect(earlyRequestImage(requestId)).toBe(`http://127.0.0.1:8080/ipfs/${CID}`);
    expect(earlyRequestImage(requestId + 1n)).toBeUndefined();
    expect(((await (await response).json()) as ReturnType<typeof record>).chain.rpcUrl).toBe(rpcUrl);
  });

  it("leaves the page to the app when the record lacks a field, without calling the RPC", async () => {
    calls = 0;
    const { ipfs: _ipfs, ...withoutIpfs } = record();
    expect(await lookUpRequestImage(1n << 96n, respond(withoutIpfs))).toBeUndefined();
    expect(await lookUpRequestImage(1n << 96n, respond("not a record"))).toBeUndefined();
    expect(await lookUpRequestImage(1n << 96n, Promise.reject(new TypeError("fetch failed")))).toBeUndefined();
    expect(calls).toBe(0);
  });

  it("leaves the page to the app when there is no such request, the RPC fails, or the bytes are no CID", async () => {
    for (const reply of [() => ({ result: [] }), () => ({ error: { code: -32000, message: "boom" } }), () => logWith("0xdeadbeef")]) {
      answer = reply;
      const requestId = (7n << 96n) | 1n;
      expect(await lookUpRequestImage(requestId, respond(record()))).toBeUndefined();
      expect(earlyRequestImage(requestId)).toBeUndefined();
    }
  });
});
