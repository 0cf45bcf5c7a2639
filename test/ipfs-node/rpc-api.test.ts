/**
 * kubo-rpc-client against the embedded node's Kubo RPC API: the contract every
 * Argus component relies on, so that a real Kubo node can replace it.
 */
import * as dagPb from "@ipld/dag-pb";
import { expect } from "chai";
import { create } from "kubo-rpc-client";
import type { KuboRPCClient } from "kubo-rpc-client";
import { CID } from "multiformats/cid";
import { checkStoredBlocks, collect, rawLeafCid, startTestNode, testBytes } from "./support/ipfs.ts";

const encode = (text: string) => new TextEncoder().encode(text);
const MiB = 1024 * 1024;

/**
 * CIDs Kubo produces with its default `ipfs add` (CIDv0, 256 KiB chunks, no raw leaves):
 * "hello world\n" is the example in Kubo's README ("Some things to try"); the empty file
 * and "hello world" (no newline) are the values commonly published for `ipfs add`
 * (e.g. the empty file is what every Kubo node answers for `ipfs add /dev/null`).
 */
const KUBO_V0_VECTORS: Array<[string, string]> = [
  ["hello world\n", "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o"],
  ["", "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH"],
  ["hello world", "Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD"],
];

describe("IPFS embedded node: Kubo RPC API via kubo-rpc-client", function () {
  let node: Awaited<ReturnType<typeof startTestNode>>;
  let client: KuboRPCClient;

  before(async function () {
    // Room for the 5 MiB multi-block file; the default cap has its own suite (uploads.test.ts).
    node = await startTestNode({ maxUploadBytes: 8 * MiB, readTimeoutMs: 1_500 });
    client = create({ url: node.apiUrl });
  });

  after(async function () {
    await node?.stop();
  });

  describe("add and cat", function () {
    for (const [label, size] of [
      ["1 byte", 1],
      ["100 KB", 100_000],
      ["5 MiB (multi-block)", 5 * MiB],
    ] as const) {
      it(`round-trips ${label}`, async function () {
        const bytes = testBytes(size, size);
        const started = performance.now();
        const added = await client.add(bytes);
        const addMs = performance.now() - started;
        const back = await collect(client.cat(added.cid));
        const catMs = performance.now() - started - addMs;
        expect(added.cid.version).to.equal(0);
        expect(back.length).to.equal(size);
        expect(Buffer.from(back).equals(Buffer.from(bytes))).to.equal(true);
        if (size > MiB) console.log(`      ${label}: add ${addMs.toFixed(0)} ms, cat ${catMs.toFixed(0)} ms`);
      });
    }

    it("matches the CIDs Kubo documents for known inputs", async function () {
      for (const [text, expected] of KUBO_V0_VECTORS) {
        expect((await client.add(encode(text))).cid.toString(), JSON.stringify(text)).to.equal(expected);
      }
    });

    it("gives bafkrei… = CIDv1(raw, sha256(bytes)) for a single-block file with cidVersion 1 and raw leaves", async function () {
      for (const text of ["hello world\n", "hello world", "x"]) {
        const bytes = encode(text);
        const added = await client.add(bytes, { cidVersion: 1, rawLeaves: true });
        expect(added.cid.toString()).to.match(/^bafkrei/);
        expect(added.cid.toString()).to.equal(await rawLeafCid(bytes));
        expect(added.size).to.equal(bytes.length);
      }
      // Kubo turns raw leaves on by itself for CIDv1.
      expect((await client.add(encode("hello world\n"), { cidVersion: 1 })).cid.toString()).to.equal(
        "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4",
      );
    });

    it("always gives the same CID for the same bytes and options, and another CID for other options", async function () {
      const bytes = testBytes(600_000, 7);
      const optionSets = [{}, { cidVersion: 1 as const }, { cidVersion: 1 as const, rawLeaves: false }, { chunker: "size-65536" }];
      const cids: string[] = [];
      for (const options of optionSets) {
        const first = (await client.add(bytes, options)).cid.toString();
        const second = (await client.add(bytes, options)).cid.toString();
        const hashOnly = (await client.add(bytes, { ...options, onlyHash: true })).cid.toString();
        expect(second).to.equal(first);
        expect(hashOnly).to.equal(first);
        cids.push(first);
      }
      expect(new Set(cids).size).to.equal(optionSets.length);
    });

    it("builds Kubo's layout for a multi-block file: 256 KiB raw leaves under one dag-pb root", async function () {
      const bytes = testBytes(5 * MiB, 99);
      const added = await client.add(bytes, { cidVersion: 1, rawLeaves: true });
      expect(added.cid.code).to.equal(dagPb.code);
      const rootNode = dagPb.decode(await client.block.get(added.cid));
      expect(rootNode.Links.length).to.equal(20); // 5 MiB / 256 KiB, under Kubo's 174-link limit
      for (const [index, link] of rootNode.Links.entries()) {
        const chunk = bytes.subarray(index * 262_144, (index + 1) * 262_144);
        expect(link.Hash.toString()).to.equal(await rawLeafCid(chunk));
        expect(link.Tsize).to.equal(262_144);
      }
    });

    it("reads a range with offset and length", async function () {
      const bytes = testBytes(700_000, 3);
      const { cid } = await client.add(bytes);
      const slice = await collect(client.cat(cid, { offset: 262_000, length: 1_000 }));
      expect(Buffer.from(slice).equals(Buffer.from(bytes.subarray(262_000, 263_000)))).to.equal(true);
    });

    it("streams progress lines while adding", async function () {
      const seen: number[] = [];
      const bytes = testBytes(1 * MiB, 11);
      await client.add(bytes, { progress: (loaded: number) => seen.push(loaded) });
      expect(seen.length).to.be.greaterThan(1);
      expect(seen.at(-1)).to.equal(bytes.length);
    });

    it("adds files wrapped in a directory and cats them by path", async function () {
      const added = [];
      for await (const entry of client.addAll(
        [
          { path: "photo.jpg", content: encode("jpeg bytes") },
          { path: "notes.txt", content: encode("some notes") },
        ],
        { wrapWithDirectory: true },
      )) {
        added.push(entry);
      }
      const root = added.at(-1)!;
      expect(root.path).to.equal("");
      expect(new TextDecoder().decode(await collect(client.cat(`${root.cid}/notes.txt`)))).to.equal("some notes");
      const pins = [];
      for await (const pin of client.pin.ls({ paths: [root.cid] })) pins.push(pin);
      expect(pins.map((pin) => pin.type)).to.deep.equal(["recursive"]);
    });

    it("stores concurrent uploads intact", async function () {
      const files = Array.from({ length: 8 }, (_, index) => testBytes(300_000 + index * 1_000, 100 + index));
      files.push(files[0]!, files[1]!); // the same content twice at once
      const started = performance.now();
      const added = await Promise.all(files.map((bytes) => client.add(bytes)));
      console.log(`      ${files.length} concurrent adds of ~300 KB: ${(performance.now() - started).toFixed(0)} ms`);
      expect(added[8]!.cid.toString()).to.equal(added[0]!.cid.toString());
      expect(added[9]!.cid.toString()).to.equal(added[1]!.cid.toString());
      for (const [index, entry] of added.entries()) {
        expect(Buffer.from(await collect(client.cat(entry.cid))).equals(Buffer.from(files[index]!))).to.equal(true);
      }
      const check = await checkStoredBlocks(node.dataDir);
      expect(check.corrupt).to.deep.equal([]);
    });
  });

  describe("pins", function () {
    it("pins on add, lists, removes, and re-pins", async function () {
      const bytes = testBytes(50_000, 21);
      const { cid } = await client.add(bytes);
      const listed = async () => {
        const pins = new Map<string, string>();
        for await (const pin of client.pin.ls()) pins.set(pin.cid.toString(), pin.type);
        return pins;
      };
      expect((await listed()).get(cid.toString())).to.equal("recursive");

      expect((await client.pin.rm(cid)).toString()).to.equal(cid.toString());
      expect((await listed()).has(cid.toString())).to.equal(false);
      try {
        await client.pin.rm(cid);
        expect.fail("removing a pin twice must fail");
      } catch (error) {
        expect((error as Error).message).to.equal("not pinned or pinned indirectly");
      }

      expect((await client.pin.add(cid)).toString()).to.equal(cid.toString());
      expect((await client.pin.add(cid)).toString()).to.equal(cid.toString()); // idempotent, as in Kubo
      expect((await listed()).get(cid.toString())).to.equal("recursive");
    });

    it("does not pin when asked not to, and pins directly on request", async function () {
      const { cid } = await client.add(testBytes(10_000, 22), { pin: false });
      for await (const pin of client.pin.ls()) expect(pin.cid.toString()).to.not.equal(cid.toString());
      await client.pin.add(cid, { recursive: false });
      const types = [];
      for await (const pin of client.pin.ls({ paths: [cid], type: "direct" })) types.push(pin.type);
      expect(types).to.deep.equal(["direct"]);
    });

    it("lists the blocks below a recursive pin as indirect", async function () {
      const { cid } = await client.add(testBytes(600_000, 23), { cidVersion: 1 });
      const leaves = dagPb.decode(await client.block.get(cid)).Links.map((link) => link.Hash.toString());
      const indirect = new Set<string>();
      for await (const pin of client.pin.ls({ type: "indirect" })) indirect.add(pin.cid.toString());
      for (const leaf of leaves) expect(indirect.has(leaf), leaf).to.equal(true);
    });

    it("answers pin ls for a CID that is not pinned with Kubo's error", async function () {
      const { cid } = await client.add(testBytes(1_000, 24), { pin: false });
      try {
        for await (const _ of client.pin.ls({ paths: [cid] })) expect.fail("not pinned");
        expect.fail("pin ls must fail");
      } catch (error) {
        expect((error as Error).message).to.equal(`path '${cid}' is not pinned`);
      }
    });
  });

  describe("blocks", function () {
    it("puts a raw block (CIDv1, sha2-256), pins it, and gets it back", async function () {
      const result = encode(JSON.stringify({ label: "tabby cat", score: 0.93 }));
      const cid = await client.block.put(result, { format: "raw", mhtype: "sha2-256", pin: true });
      expect(cid.toString()).to.equal(await rawLeafCid(result));
      expect(Buffer.from(await client.block.get(cid)).equals(Buffer.from(result))).to.equal(true);
      expect(await client.block.stat(cid)).to.deep.include({ size: result.length });
      const pins = [];
      for await (const pin of client.pin.ls({ paths: [cid] })) pins.push(pin.type);
      expect(pins).to.deep.equal(["recursive"]);
    });

    it("refuses a block that does not decode with its codec", async function () {
      try {
        await client.block.put(encode("not protobuf"), { format: "dag-pb" });
        expect.fail("must be refused");
      } catch (error) {
        expect((error as Error).message).to.match(/does not decode as dag-pb/);
      }
    });
  });

  describe("identity and errors", function () {
    it("answers id and version", async function () {
      const id = await client.id();
      expect(id.id.toString()).to.equal(node.peerId);
      expect(id.id.toString()).to.match(/^12D3KooW/);
      expect(id.addresses).to.deep.equal([]); // offline: listens for no peers
      const version = await client.version();
      expect(version.version).to.be.a("string").and.not.equal("");
    });

    it("answers a CID that is not available with Kubo's timeout error within the read timeout", async function () {
      const missing = await rawLeafCid(encode("nobody has stored this"));
      for (const read of [
        () => collect(client.cat(missing)),
        () => client.block.get(CID.parse(missing)),
        () => client.block.stat(CID.parse(missing)),
        () => client.pin.add(CID.parse(missing)),
      ]) {
        const started = performance.now();
        try {
          await read();
          expect.fail("a missing CID must not be found");
        } catch (error) {
          const elapsed = performance.now() - started;
          expect((error as Error).name).to.equal("TimeoutError"); // kubo-rpc-client's, from "context deadline exceeded"
          expect((error as Error).message).to.match(/context deadline exceeded$/);
          expect(elapsed).to.be.within(1_400, 4_000); // readTimeoutMs is 1 500
        }
      }
    });

    it("lets the request's own timeout be shorter than the node's", async function () {
      const missing = await rawLeafCid(encode("still nobody"));
      const started = performance.now();
      try {
        await collect(client.cat(missing, { timeout: 200 }));
        expect.fail("must time out");
      } catch (error) {
        expect((error as Error).name).to.equal("TimeoutError");
        expect(performance.now() - started).to.be.below(1_400);
      }
    });

    it("delivers a block that arrives while a read is waiting for it", async function () {
      const bytes = encode("arrives late");
      const cid = CID.parse(await rawLeafCid(bytes));
      const reading = client.block.get(cid);
      await new Promise((resolve) => setTimeout(resolve, 300));
      await client.block.put(bytes, { format: "raw" });
      expect(Buffer.from(await reading).equals(Buffer.from(bytes))).to.equal(true);
    });

    it("answers with Kubo's error JSON, POST only, and 404 for unknown commands", async function () {
      const bad = await fetch(`${node.apiUrl}/api/v0/cat?arg=not-a-cid`, { method: "POST" });
      expect(bad.status).to.equal(400);
      const body = (await bad.json()) as { Message: string; Code: number; Type: string };
      expect(body.Type).to.equal("error");
      expect(body.Code).to.equal(1);
      expect(body.Message).to.match(/invalid path "not-a-cid"/);

      const missingArg = await fetch(`${node.apiUrl}/api/v0/cat`, { method: "POST" });
      expect(((await missingArg.json()) as { Message: string }).Message).to.equal('argument "ipfs-path" is required');

      const get = await fetch(`${node.apiUrl}/api/v0/version`);
      expect(get.status).to.equal(405);
      const unknown = await fetch(`${node.apiUrl}/api/v0/swarm/connect`, { method: "POST" });
      expect(unknown.status).to.equal(404);
      expect(((await unknown.json()) as { Type: string }).Type).to.equal("error");
    });

    it("refuses options that would silently change the CID", async function () {
      for (const options of [{ hashAlg: "blake2b-256" }, { chunker: "rabin-262144" }]) {
        try {
          await client.add(encode("x"), options);
          expect.fail(`${JSON.stringify(options)} must be refused`);
        } catch (error) {
          expect((error as Error).message).to.match(/not supported by this node/);
        }
      }
    });
  });
});
