/**
 * The helpers the oracle and the CLI use (oracle-requestor/ipfs-node/src/client.ts), against
 * the embedded node and against an endpoint that lies.
 */
import { createServer } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { expect } from "chai";
import {
  ContentMismatchError,
  configuredHeaders,
  ContentTooLargeError,
  createIpfsClient,
  DEFAULT_IPFS_API,
  fetchImage,
  fetchResult,
  ipfsApiUrl,
  IpfsTimeoutError,
  pinResult,
} from "@argus/ipfs-node/client";
import type { KuboRPCClient } from "@argus/ipfs-node/client";
import { digestFromResultCid, resultCidFromDigest } from "@argus/protocol/cid";
import { sha256Hex, startTestNode, testBytes } from "./support/ipfs.ts";

describe("IPFS client helpers", function () {
  let node: Awaited<ReturnType<typeof startTestNode>>;
  let client: KuboRPCClient;

  before(async function () {
    node = await startTestNode({ readTimeoutMs: 5_000 });
    client = createIpfsClient(node.apiUrl);
  });

  after(async function () {
    await node?.stop();
  });

  it("reads the endpoint from ARGUS_IPFS_API, defaulting to the embedded node's address", function () {
    expect(ipfsApiUrl({})).to.equal(DEFAULT_IPFS_API);
    expect(ipfsApiUrl({ ARGUS_IPFS_API: " " })).to.equal(DEFAULT_IPFS_API);
    expect(ipfsApiUrl({ ARGUS_IPFS_API: "https://pin.example/rpc" })).to.equal("https://pin.example/rpc");
    expect(configuredHeaders({})).to.deep.equal({});
    expect(configuredHeaders({ ARGUS_IPFS_API_AUTHORIZATION: "Bearer s3cret" })).to.deep.equal({
      Authorization: "Bearer s3cret",
    });
  });

  it("pins a result as one raw block whose digest is sha256(bytes), and reads it back by digest", async function () {
    const result = new TextEncoder().encode(JSON.stringify({ requestId: 7, label: "golden retriever", p: 0.88 }));
    const cid = await pinResult(client, result);
    expect(cid.toString()).to.match(/^bafkrei/);
    const digest = digestFromResultCid(cid);
    expect(Buffer.from(digest).toString("hex")).to.equal(sha256Hex(result));

    const pins = [];
    for await (const pin of client.pin.ls({ paths: [cid] })) pins.push(pin.type);
    expect(pins).to.deep.equal(["recursive"]);

    const back = await fetchResult(client, `0x${sha256Hex(result)}`, { maxBytes: 64 * 1024, timeoutMs: 5_000 });
    expect(Buffer.from(back).equals(Buffer.from(result))).to.equal(true);
    expect(resultCidFromDigest(digest).equals(cid)).to.equal(true);
  });

  it("fetches images pinned as CIDv0 and CIDv1, single- and multi-block", async function () {
    for (const [size, options] of [
      [5_000, {}],
      [900_000, {}],
      [5_000, { cidVersion: 1 as const }],
      [900_000, { cidVersion: 1 as const }],
    ] as const) {
      const image = testBytes(size, size + (options.cidVersion ?? 0));
      const { cid } = await client.add(image, options);
      const fetched = await fetchImage(client, cid.toString(), { maxBytes: 2 * 1024 * 1024, timeoutMs: 5_000 });
      expect(Buffer.from(fetched).equals(Buffer.from(image)), `${size} bytes, ${cid}`).to.equal(true);
    }
  });

  it("refuses an image over the cap without reading all of it", async function () {
    const { cid } = await client.add(testBytes(1_500_000, 51));
    try {
      await fetchImage(client, cid, { maxBytes: 1_000_000, timeoutMs: 5_000 });
      expect.fail("must be refused");
    } catch (error) {
      expect(error).to.be.instanceOf(ContentTooLargeError);
      expect((error as Error).message).to.match(/1500000 bytes, more than the 1000000 accepted/);
    }
  });

  it("gives up on a missing image within its time budget", async function () {
    const started = performance.now();
    try {
      await fetchImage(client, "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH", { maxBytes: 1_000, timeoutMs: 400 });
      expect.fail("must time out");
    } catch (error) {
      expect(error).to.be.instanceOf(IpfsTimeoutError);
      expect(performance.now() - started).to.be.below(2_000);
    }
  });

  describe("against an endpoint that returns other bytes", function () {
    let liar: Server;
    let liarClient: KuboRPCClient;
    const authorizations: Array<string | undefined> = [];

    before(async function () {
      liar = createServer((request, response) => {
        authorizations.push(request.headers.authorization);
        request.resume();
        if (request.url?.startsWith("/api/v0/block/get")) {
          response.end("not the bytes you asked for");
        } else if (request.url?.startsWith("/api/v0/block/put")) {
          response.setHeader("Content-Type", "application/json");
          response.end(JSON.stringify({ Key: "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4", Size: 12 }));
        } else {
          response.writeHead(404).end();
        }
      });
      await new Promise<void>((resolve) => liar.listen(0, "127.0.0.1", resolve));
      liarClient = createIpfsClient(`http://127.0.0.1:${(liar.address() as AddressInfo).port}`, {
        headers: { Authorization: "Bearer s3cret" },
      });
    });

    after(async function () {
      await new Promise((resolve) => liar?.close(resolve));
    });

    it("detects the substitution in images, results and pins", async function () {
      const { cid } = await client.add(testBytes(2_000, 52));
      for (const read of [
        () => fetchImage(liarClient, cid, { maxBytes: 10_000, timeoutMs: 2_000 }),
        () => fetchResult(liarClient, new Uint8Array(32).fill(7), { maxBytes: 10_000, timeoutMs: 2_000 }),
        () => pinResult(liarClient, new TextEncoder().encode("{}")),
      ]) {
        try {
          await read();
          expect.fail("a lie must be detected");
        } catch (error) {
          expect(error).to.be.instanceOf(ContentMismatchError);
        }
      }
      // The credentials for a pinning service go with every request.
      expect(authorizations.length).to.be.greaterThan(0);
      expect(new Set(authorizations)).to.deep.equal(new Set(["Bearer s3cret"]));
    });
  });
});
