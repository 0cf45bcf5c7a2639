import { expect } from "chai";
import { rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { createPublicClient, type Hex, http, type PublicClient } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { hardhat } from "viem/chains";
import { findRequests } from "@argus/escrow/escrow-reads";
import { findRequestImageCid, requestBlock } from "@argus/escrow/request-image";
import { BUILTIN_MANIFESTS_DIR } from "@argus/provider-image/catalog";
import { requestWithRawImage } from "../support/raw-request.ts";
import { deployArgus, type DeployedArgus, hardhatAccountKey, IGNITION_DEPLOYMENTS_DIR, type LocalChain, startChain } from "@argus/devchain";

/**
 * The web UI's entry chunk finds a request page's photo with one raw eth_getLogs
 * (request-image.ts, no viem): it must name the same image as the full event decoding
 * (escrow-reads.ts) for every kind of stored bytes, and fail loudly, never wrongly.
 */
describe("a request's image CID from one eth_getLogs without viem", function () {
  this.timeout(120_000);
  let chain: LocalChain;
  let deployed: DeployedArgus;
  let client: PublicClient;
  const deploymentId = `test-request-image-${process.pid}`;
  const user = privateKeyToAccount(hardhatAccountKey(6));

  const request = (imageCid: Hex) => requestWithRawImage(chain.rpcUrl, deployed, user, imageCid);

  /** What the full decoder (the app's and the CLI's) reads as the request's image. */
  async function decodedImageCid(requestId: bigint): Promise<string> {
    const block = requestBlock(requestId);
    const reader = { client, escrow: deployed.escrow, deployBlock: BigInt(deployed.deployBlock) };
    const [record] = await findRequests(reader, { requestId }, block, block);
    return record!.imageCid;
  }

  /** An RPC endpoint that answers every call with `body` (status `status`). */
  async function endpoint(status: number, body: string): Promise<{ url: string; server: Server }> {
    const server = createServer((_request, response) => response.writeHead(status, { "content-type": "application/json" }).end(body));
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
  }

  before(async function () {
    chain = await startChain();
    deployed = await deployArgus({ rpcUrl: chain.rpcUrl, deploymentId, fresh: true, manifestsDirs: [BUILTIN_MANIFESTS_DIR] });
    client = createPublicClient({ chain: hardhat, transport: http(chain.rpcUrl) }) as PublicClient;
  });

  after(async function () {
    await chain?.close();
    await rm(join(IGNITION_DEPLOYMENTS_DIR, deploymentId), { recursive: true, force: true });
  });

  it("names the same image as the full decoder, for a CID and for bytes that are none", async function () {
    const rawCid = `0x01551220${"ab".repeat(32)}` as Hex; // CIDv1, raw, sha2-256
    const notACid = "0xdeadbeef" as Hex;
    for (const bytes of [rawCid, notACid]) {
      const requestId = await request(bytes);
      const found = await findRequestImageCid({ rpcUrl: chain.rpcUrl, escrow: deployed.escrow, requestId });
      expect(found).to.equal(await decodedImageCid(requestId));
    }
    expect(await findRequestImageCid({ rpcUrl: chain.rpcUrl, escrow: deployed.escrow, requestId: await request(rawCid) })).to.match(
      /^bafkrei/,
    );
  });

  it("finds nothing for an id its block does not hold, or on another contract", async function () {
    const requestId = await request(`0x01551220${"cd".repeat(32)}`);
    // Same block, another id: the block holds no such request.
    expect(await findRequestImageCid({ rpcUrl: chain.rpcUrl, escrow: deployed.escrow, requestId: requestId ^ 1n })).to.equal(undefined);
    expect(await findRequestImageCid({ rpcUrl: chain.rpcUrl, escrow: user.address, requestId })).to.equal(undefined);
  });

  it("throws on a dead endpoint, an error answer, an HTTP error and malformed log data", async function () {
    const requestId = await request(`0x01551220${"ef".repeat(32)}`);
    const ask = (rpcUrl: string) => findRequestImageCid({ rpcUrl, escrow: deployed.escrow, requestId });
    const dead = await endpoint(200, "");
    dead.server.close();
    expect(await failure(ask(dead.url))).to.be.instanceOf(Error);
    const cases: [number, string, RegExp][] = [
      [200, JSON.stringify({ jsonrpc: "2.0", id: 1, error: { code: -32005, message: "query limit exceeded" } }), /query limit exceeded/],
      [502, "bad gateway", /HTTP 502/],
      [200, JSON.stringify({ jsonrpc: "2.0", id: 1, result: [{ data: "0x00" }] }), /malformed log data/],
      [200, JSON.stringify({ jsonrpc: "2.0", id: 1, result: [{ data: `0x${"0".repeat(62)}ff${"0".repeat(64)}` }] }), /malformed log data/],
      [200, JSON.stringify({ jsonrpc: "2.0", id: 1, result: null }), /no log list/],
    ];
    for (const [status, body, error] of cases) {
      const { url, server } = await endpoint(status, body);
      try {
        expect((await failure(ask(url))).message).to.match(error);
      } finally {
        server.close();
      }
    }
  });
});

/** The error `promise` rejects with; fails the test when it resolves. */
async function failure(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    (value) => ({ value }),
    (error: Error) => ({ error }),
  );
  if ("error" in outcome) return outcome.error;
  throw new Error(`expected a failure, got ${JSON.stringify(outcome.value)}`);
}
