/**
 * kubo-rpc-client against the embedded node's Kubo RPC API: the contract every
 * Argus component relies on, so that a real Kubo node can replace it.
 */
import { createHash } from "node:crypto";
import * as dagPb from "@ipld/dag-pb";
import { expect } from "chai";
import { create } from "kubo-rpc-client";
import type { KuboRPCClient } from "kubo-rpc-client";
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import { sha256 } from "multiformats/hashes/sha2";
import { DEFAULT_MAX_UPLOAD_BYTES } from "@argus/ipfs-node/config";
import { checkStoredBlocks, collect, startTestNode, testBytes } from "./support/ipfs.ts";

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

async function rawLeafCid(bytes: Uint8Array): Promise<string> {
  return CID.createV1(raw.code, await sha256.digest(bytes)).toString();
}

describe("IPFS embedded node: Kubo RPC API via kubo-rpc-client", function () {
  let node: Awaited<ReturnType<typeof startTestNode>>;
  let client: KuboRPCClient;

  before(async function () {
    // Room for the 5 MiB multi-block file; the default cap has its own suite below.
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
      const optionSets = [
        {},
        { cidVersion: 1 as const },
        { cidVersion: 1 as const, rawLeaves: false },
        { chunker: "size-65536" },
      ];
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

  describe("multipart bodies", function () {
    /** One multipart/form-data part, as raw bytes: `headers` then the content. */
    const part = (boundary: string, headers: string[], content: Uint8Array) =>
      Buffer.concat([Buffer.from(`--${boundary}\r\n${headers.map((line) => `${line}\r\n`).join("")}\r\n`), content, Buffer.from("\r\n")]);

    async function post(command: string, boundary: string, body: Uint8Array | ReadableStream<Uint8Array>) {
      const response = await fetch(`${node.apiUrl}/api/v0/${command}`, {
        method: "POST",
        headers: { "Content-Type": `multipart/form-data; boundary=${boundary}` },
        body,
        ...(body instanceof Uint8Array ? {} : { duplex: "half" }),
      } as RequestInit);
      const text = await response.text();
      return { status: response.status, lines: text.trim().split("\n").map((line) => JSON.parse(line) as Record<string, string>) };
    }

    it("adds a part with filename=\"\" and its own content type (a browser's add(blob)) as a file, with a named part's CID", async function () {
      const image = testBytes(70_000, 41);
      const boundary = "----WebKitFormBoundaryQ1cDrY6c0VhM2iU7";
      const unnamed = await post("add?cid-version=1", boundary, Buffer.concat([
        part(boundary, ['Content-Disposition: form-data; name="file"; filename=""', "Content-Type: image/jpeg"], image),
        Buffer.from(`--${boundary}--\r\n`),
      ]));
      const named = await post("add?cid-version=1", boundary, Buffer.concat([
        part(boundary, ['Content-Disposition: form-data; name="file"; filename="cat.jpg"', "Content-Type: image/jpeg"], image),
        Buffer.from(`--${boundary}--\r\n`),
      ]));
      expect(unnamed.status).to.equal(200);
      expect(named.status).to.equal(200);
      expect(unnamed.lines[0]!.Hash).to.equal(await rawLeafCid(image));
      expect(unnamed.lines[0]!.Hash).to.equal(named.lines[0]!.Hash);
      expect(unnamed.lines[0]!.Name).to.equal(unnamed.lines[0]!.Hash); // Kubo names an unnamed file by its CID
      expect(named.lines[0]!.Name).to.equal("cat.jpg");

      // The same through FormData (undici's serialisation), and a part with no filename at all.
      const form = new FormData();
      form.append("file", new Blob([image], { type: "image/jpeg" }), "");
      const viaForm = await fetch(`${node.apiUrl}/api/v0/add?cid-version=1`, { method: "POST", body: form });
      expect(((await viaForm.json()) as { Hash: string }).Hash).to.equal(named.lines[0]!.Hash);
      const noFilename = await post("add?cid-version=1", boundary, Buffer.concat([
        part(boundary, ['Content-Disposition: form-data; name="file"', "Content-Type: text/plain"], encode("plain")),
        Buffer.from(`--${boundary}--\r\n`),
      ]));
      expect(noFilename.lines[0]!.Hash).to.equal(await rawLeafCid(encode("plain")));
    });

    it("parses a body that arrives a few bytes at a time, with a preamble, a quoted boundary, folded headers and a skipped part", async function () {
      const boundary = "b0undary";
      const first = testBytes(5_000, 42);
      // Content that almost repeats the delimiter must stay content.
      const second = Buffer.concat([Buffer.from(`\r\n--${boundary.slice(0, -1)}x\r\n--`), Buffer.from(testBytes(3_000, 43))]);
      const body = Buffer.concat([
        Buffer.from("a preamble that is ignored\r\n"),
        part(boundary, ['Content-Disposition: form-data; name="dir"; filename="dir"', "Content-Type: application/x-directory"], new Uint8Array()),
        part(boundary, ['Content-Disposition: form-data; name="file";', '  filename="dir%2Fone.bin"', "Content-Type: application/octet-stream"], first),
        part(boundary, ["Content-Type: text/plain"], encode("no Content-Disposition: not an entry")),
        part(boundary, ["Content-Disposition: form-data; name=\"file-2\"; filename*=UTF-8''dir%2Ftw%C3%B6.bin"], second),
        Buffer.from(`--${boundary}--\r\nand an epilogue`),
      ]);
      let offset = 0;
      const trickle = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (offset >= body.length) return controller.close();
          const size = 1 + (offset % 13);
          controller.enqueue(body.subarray(offset, offset + size));
          offset += size;
        },
      });
      const response = await fetch(`${node.apiUrl}/api/v0/add?cid-version=1&wrap-with-directory=true`, {
        method: "POST",
        headers: { "Content-Type": `multipart/form-data; boundary="${boundary}"` },
        body: trickle,
        duplex: "half",
      } as RequestInit);
      expect(response.status).to.equal(200);
      const entries = (await response.text()).trim().split("\n").map((line) => JSON.parse(line) as { Name: string; Hash: string });
      const byName = new Map(entries.map((entry) => [entry.Name, entry.Hash]));
      expect([...byName.keys()].sort()).to.deep.equal(["", "dir", "dir/one.bin", "dir/twö.bin"]);
      const root = byName.get("")!;
      expect(Buffer.from(await collect(client.cat(`${root}/dir/one.bin`))).equals(Buffer.from(first))).to.equal(true);
      expect(Buffer.from(await collect(client.cat(`${root}/dir/twö.bin`))).equals(second)).to.equal(true);
    });

    it("refuses a body cut short or without a boundary, and one that is not multipart, as bad requests", async function () {
      const boundary = "xyz";
      const cut = await post("add", boundary, Buffer.concat([
        part(boundary, ['Content-Disposition: form-data; name="file"; filename=""'], encode("half a file")).subarray(0, 60),
      ]));
      expect(cut.status).to.equal(400);
      expect(cut.lines[0]!.Message).to.match(/malformed multipart body: unexpected end of multipart data/);
      const noBoundary = await post("add", boundary, encode("no boundary anywhere in this body"));
      expect(noBoundary.status).to.equal(400);
      const notMultipart = await fetch(`${node.apiUrl}/api/v0/add`, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
      expect(notMultipart.status).to.equal(400);
      expect(((await notMultipart.json()) as { Message: string }).Message).to.match(/expected a multipart\/form-data body/);
      // Kubo reads the body with Go's Request.MultipartReader, which takes multipart/mixed too.
      const mixed = await fetch(`${node.apiUrl}/api/v0/add?cid-version=1`, {
        method: "POST",
        headers: { "Content-Type": `multipart/mixed; boundary=${boundary}` },
        body: Buffer.concat([part(boundary, ['Content-Disposition: form-data; name="file"; filename=""'], encode("mixed")), Buffer.from(`--${boundary}--\r\n`)]),
      });
      expect(((await mixed.json()) as { Hash: string }).Hash).to.equal(await rawLeafCid(encode("mixed")));
      // block/put takes the first entry, unnamed or not.
      const put = await post("block/put?cid-codec=raw", boundary, Buffer.concat([
        part(boundary, ['Content-Disposition: form-data; name="data"; filename=""', "Content-Type: image/png"], encode("a block")),
        Buffer.from(`--${boundary}--\r\n`),
      ]));
      expect(put.lines[0]!.Key).to.equal(await rawLeafCid(encode("a block")));
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

describe("IPFS embedded node: upload cap and CORS", function () {
  let node: Awaited<ReturnType<typeof startTestNode>>;
  let client: KuboRPCClient;
  const allowedOrigin = "http://localhost:5173";

  before(async function () {
    node = await startTestNode({ corsOrigins: [allowedOrigin] }); // the default 2 MiB cap
    client = create({ url: node.apiUrl });
  });

  after(async function () {
    await node?.stop();
  });

  it("accepts an image of exactly the default 2 MiB cap", async function () {
    expect(DEFAULT_MAX_UPLOAD_BYTES).to.equal(2 * MiB);
    const bytes = testBytes(DEFAULT_MAX_UPLOAD_BYTES, 31);
    const { cid } = await client.add(bytes);
    expect(Buffer.from(await collect(client.cat(cid))).equals(Buffer.from(bytes))).to.equal(true);
  });

  it("refuses an upload over the cap before storing or pinning anything", async function () {
    const before = await checkStoredBlocks(node.dataDir);
    const pinsBefore = [];
    for await (const pin of client.pin.ls()) pinsBefore.push(pin.cid.toString());

    try {
      await client.add(testBytes(DEFAULT_MAX_UPLOAD_BYTES + 1, 32));
      expect.fail("an upload over the cap must be refused");
    } catch (error) {
      expect((error as Error).message).to.match(/limit of 2097152 bytes/);
    }
    // With progress the 200 and progress lines are already out when the cap is crossed, so
    // the refusal comes in-stream (X-Stream-Error, a last error line); the add still fails.
    let progressed = 0;
    try {
      await client.add(testBytes(DEFAULT_MAX_UPLOAD_BYTES + 1, 34), {
        progress: (bytes: number) => (progressed = bytes),
      });
      expect.fail("an upload over the cap must be refused");
    } catch (error) {
      expect((error as Error).message).to.not.match(/must be refused/);
      expect(progressed).to.be.at.most(DEFAULT_MAX_UPLOAD_BYTES);
    }
    try {
      await client.block.put(testBytes(DEFAULT_MAX_UPLOAD_BYTES + 1, 33), { allowBigBlock: true });
      expect.fail("a block over the cap must be refused");
    } catch (error) {
      expect((error as Error).message).to.match(/limit of 2097152 bytes/);
    }

    const after = await checkStoredBlocks(node.dataDir);
    expect(after.verified).to.equal(before.verified);
    const pinsAfter = [];
    for await (const pin of client.pin.ls()) pinsAfter.push(pin.cid.toString());
    expect(pinsAfter).to.deep.equal(pinsBefore);
    // The node still serves after refusing.
    expect((await client.add(encode("still fine"))).cid.toString()).to.match(/^Qm/);
  });

  it("refuses a body whose declared length is over the cap without reading it", async function () {
    const response = await fetch(`${node.apiUrl}/api/v0/add`, {
      method: "POST",
      headers: { "Content-Type": "multipart/form-data; boundary=x", "Content-Length": String(3 * MiB) },
      body: new Uint8Array(3 * MiB),
    });
    expect(response.status).to.equal(413);
    expect(((await response.json()) as { Message: string }).Message).to.match(/limit of 2097152 bytes/);
  });

  it("counts the bytes of the envelope too: a streamed body of skipped parts cannot grow without end", async function () {
    // A part without Content-Disposition is not an entry: its bytes are no file's, but they still count.
    const boundary = "skipped";
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent === 0) controller.enqueue(encode(`--${boundary}\r\nContent-Type: text/plain\r\n\r\n`));
        if (sent > 4 * MiB) return controller.close();
        controller.enqueue(new Uint8Array(64 * 1024));
        sent += 64 * 1024;
      },
    });
    const response = await fetch(`${node.apiUrl}/api/v0/add`, {
      method: "POST",
      headers: { "Content-Type": `multipart/form-data; boundary=${boundary}` },
      body,
      duplex: "half",
    } as RequestInit);
    expect(response.status).to.equal(413);
    expect(((await response.json()) as { Message: string }).Message).to.match(/limit of 2097152 bytes/);
  });

  it("stores nothing and keeps serving when the client goes away mid-upload", async function () {
    const before = await checkStoredBlocks(node.dataDir);
    const boundary = "gone";
    const aborter = new AbortController();
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        // undici may go on draining the body after the abort: end it, or the test never exits.
        if (aborter.signal.aborted) return controller.close();
        if (sent === 0) controller.enqueue(encode(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename=""\r\n\r\n`));
        controller.enqueue(testBytes(64 * 1024, 35 + sent));
        sent += 64 * 1024;
        if (sent >= 512 * 1024) aborter.abort();
        await new Promise((resolve) => setTimeout(resolve, 5));
      },
    });
    try {
      await fetch(`${node.apiUrl}/api/v0/add`, {
        method: "POST",
        headers: { "Content-Type": `multipart/form-data; boundary=${boundary}` },
        body,
        duplex: "half",
        signal: aborter.signal,
      } as RequestInit);
      expect.fail("the aborted upload must not complete");
    } catch (error) {
      expect((error as Error).name).to.equal("AbortError");
    }
    expect((await client.add(encode("after a broken upload"))).cid.toString()).to.match(/^Qm/);
    const after = await checkStoredBlocks(node.dataDir);
    expect(after.verified).to.equal(before.verified + 1);
  });

  it("lets the web UI's origin upload and refuses other origins", async function () {
    const preflight = await fetch(`${node.apiUrl}/api/v0/add`, {
      method: "OPTIONS",
      headers: {
        Origin: allowedOrigin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
      },
    });
    expect(preflight.status).to.equal(204);
    expect(preflight.headers.get("access-control-allow-origin")).to.equal(allowedOrigin);
    expect(preflight.headers.get("access-control-allow-methods")).to.equal("POST");

    const form = new FormData();
    form.append("file", new Blob([encode("from the browser")]), "");
    const upload = await fetch(`${node.apiUrl}/api/v0/add?cid-version=1`, {
      method: "POST",
      body: form,
      headers: { Origin: allowedOrigin },
    });
    expect(upload.status).to.equal(200);
    expect(upload.headers.get("access-control-allow-origin")).to.equal(allowedOrigin);
    const line = JSON.parse((await upload.text()).trim()) as { Hash: string };
    expect(line.Hash).to.equal(await rawLeafCid(encode("from the browser")));

    // A simple (preflight-free) POST from another page must not add content.
    const evil = await fetch(`${node.apiUrl}/api/v0/add`, {
      method: "POST",
      body: form,
      headers: { Origin: "http://evil.example" },
    });
    expect(evil.status).to.equal(403);
    const evilPreflight = await fetch(`${node.apiUrl}/api/v0/add`, {
      method: "OPTIONS",
      headers: { Origin: "http://evil.example", "Access-Control-Request-Method": "POST" },
    });
    expect(evilPreflight.status).to.equal(403);
    expect(evilPreflight.headers.get("access-control-allow-origin")).to.equal(null);
  });

  it("hashes every stored block to its name", async function () {
    const check = await checkStoredBlocks(node.dataDir);
    expect(check.corrupt).to.deep.equal([]);
    expect(check.verified).to.be.greaterThan(0);
    expect(createHash("sha256")).to.be.ok;
  });
});
