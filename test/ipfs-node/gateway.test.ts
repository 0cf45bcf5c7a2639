/** The embedded node's path gateway: `/ipfs/<cid>[/path]`. */
import { expect } from "chai";
import { create } from "kubo-rpc-client";
import type { KuboRPCClient } from "kubo-rpc-client";
import { CID } from "multiformats/cid";
import { contentTypeFor } from "@argus/ipfs-node/content-type";
import { startTestNode, testBytes } from "./support/ipfs.ts";

const PNG_HEADER = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

describe("IPFS embedded node: path gateway", function () {
  let node: Awaited<ReturnType<typeof startTestNode>>;
  let client: KuboRPCClient;
  let gateway: string;

  before(async function () {
    node = await startTestNode({ readTimeoutMs: 1_000 });
    client = create({ url: node.apiUrl });
    gateway = node.gatewayUrl;
  });

  after(async function () {
    await node?.stop();
  });

  it("returns the exact bytes of a pinned multi-block file, with its ETag and length", async function () {
    const bytes = testBytes(1_200_000, 41);
    const { cid } = await client.add(bytes);
    const response = await fetch(`${gateway}/ipfs/${cid}`);
    expect(response.status).to.equal(200);
    expect(response.headers.get("etag")).to.equal(`"${cid}"`);
    expect(response.headers.get("content-length")).to.equal(String(bytes.length));
    expect(response.headers.get("cache-control")).to.match(/immutable/);
    expect(Buffer.from(await response.arrayBuffer()).equals(Buffer.from(bytes))).to.equal(true);

    const again = await fetch(`${gateway}/ipfs/${cid}`, { headers: { "If-None-Match": `"${cid}"` } });
    expect(again.status).to.equal(304);
  });

  it("sends the content type of the content: an image, a result JSON", async function () {
    const png = new Uint8Array([...PNG_HEADER, ...testBytes(500, 42)]);
    const { cid: imageCid } = await client.add(png, { cidVersion: 1 });
    const image = await fetch(`${gateway}/ipfs/${imageCid}`);
    expect(image.headers.get("content-type")).to.equal("image/png");
    expect(Buffer.from(await image.arrayBuffer()).equals(Buffer.from(png))).to.equal(true);

    const result = new TextEncoder().encode(JSON.stringify({ predictions: [{ label: "tabby", p: 0.91 }] }));
    const resultCid = await client.block.put(result, { format: "raw", mhtype: "sha2-256", pin: true });
    const json = await fetch(`${gateway}/ipfs/${resultCid}`);
    expect(json.status).to.equal(200);
    expect(json.headers.get("content-type")).to.equal("application/json");
    expect(json.headers.get("etag")).to.equal(`"${resultCid}"`);
    expect(await json.text()).to.equal(new TextDecoder().decode(result));
  });

  it("serves files inside a directory by path, typed by their name", async function () {
    let root: CID | undefined;
    for await (const entry of client.addAll(
      [
        { path: "site/index.txt", content: new TextEncoder().encode("plain text") },
        { path: "site/data.json", content: new TextEncoder().encode("[1,2,3]") },
      ],
      { wrapWithDirectory: true },
    )) {
      root = entry.cid;
    }
    const text = await fetch(`${gateway}/ipfs/${root}/site/index.txt`);
    expect(text.status).to.equal(200);
    expect(text.headers.get("content-type")).to.equal("text/plain; charset=utf-8");
    expect(await text.text()).to.equal("plain text");

    const listing = await fetch(`${gateway}/ipfs/${root}/site`);
    expect(listing.headers.get("content-type")).to.match(/text\/html/);
    expect(await listing.text()).to.include("data.json");

    const missing = await fetch(`${gateway}/ipfs/${root}/site/absent.png`);
    expect(missing.status).to.equal(404);
  });

  it("serves byte ranges", async function () {
    const bytes = testBytes(400_000, 43);
    const { cid } = await client.add(bytes);
    const response = await fetch(`${gateway}/ipfs/${cid}`, { headers: { Range: "bytes=262140-262149" } });
    expect(response.status).to.equal(206);
    expect(response.headers.get("content-range")).to.equal(`bytes 262140-262149/${bytes.length}`);
    expect(Buffer.from(await response.arrayBuffer()).equals(Buffer.from(bytes.subarray(262_140, 262_150)))).to.equal(true);
    const outside = await fetch(`${gateway}/ipfs/${cid}`, { headers: { Range: `bytes=${bytes.length}-` } });
    expect(outside.status).to.equal(416);
  });

  it("returns the raw block for ?format=raw, verifiable by hashing", async function () {
    const { cid } = await client.add(new TextEncoder().encode("hello world\n"));
    const response = await fetch(`${gateway}/ipfs/${cid}?format=raw`);
    expect(response.headers.get("content-type")).to.equal("application/vnd.ipld.raw");
    expect(Buffer.from(await response.arrayBuffer())).to.deep.equal(Buffer.from(await client.block.get(cid)));
  });

  it("answers HEAD with headers only", async function () {
    const bytes = testBytes(10_000, 44);
    const { cid } = await client.add(bytes);
    const response = await fetch(`${gateway}/ipfs/${cid}`, { method: "HEAD" });
    expect(response.status).to.equal(200);
    expect(response.headers.get("content-length")).to.equal(String(bytes.length));
    expect((await response.arrayBuffer()).byteLength).to.equal(0);
  });

  it("answers 504 for a CID that is not available, after the read timeout, and 400 for a malformed one", async function () {
    const unknown = CID.parse("bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy");
    const started = performance.now();
    const response = await fetch(`${gateway}/ipfs/${unknown}`);
    const elapsed = performance.now() - started;
    expect(response.status).to.equal(504);
    expect(await response.text()).to.match(/not available on this node/);
    expect(elapsed).to.be.within(900, 3_000);

    const malformed = await fetch(`${gateway}/ipfs/not-a-cid`);
    expect(malformed.status).to.equal(400);
    const elsewhere = await fetch(`${gateway}/ipns/example.com`);
    expect(elsewhere.status).to.equal(404);
    const write = await fetch(`${gateway}/ipfs/${unknown}`, { method: "POST" });
    expect(write.status).to.equal(405);
  });
});

describe("IPFS gateway: content types", function () {
  const bytes = (...values: number[]) => new Uint8Array(values);
  const text = (value: string) => new TextEncoder().encode(value);

  it("names images and documents by their first bytes when the path has no extension", function () {
    expect(contentTypeFor("", bytes(...PNG_HEADER, 0))).to.equal("image/png");
    expect(contentTypeFor("", bytes(0xff, 0xd8, 0xff, 0xe0))).to.equal("image/jpeg");
    expect(contentTypeFor("", text("GIF89a..."))).to.equal("image/gif");
    expect(contentTypeFor("", text("RIFF\u0000\u0000\u0000\u0000WEBPVP8 "))).to.equal("image/webp");
    expect(contentTypeFor("", text('{"label":"cat","p":0.9}'))).to.equal("application/json");
    expect(contentTypeFor("", text("{ not json"))).to.equal("text/plain; charset=utf-8");
    expect(contentTypeFor("", text("plain words\n"))).to.equal("text/plain; charset=utf-8");
    expect(contentTypeFor("", bytes(0, 1, 2, 3))).to.equal("application/octet-stream");
    expect(contentTypeFor("", bytes(0xc3, 0x28))).to.equal("application/octet-stream"); // invalid UTF-8
  });

  it("prefers the file name's extension", function () {
    expect(contentTypeFor("dir/photo.JPG", text("anything"))).to.equal("image/jpeg");
    expect(contentTypeFor("data.json", text("[1"))).to.equal("application/json");
    expect(contentTypeFor("archive.unknownext", bytes(...PNG_HEADER))).to.equal("image/png");
  });
});
