/**
 * Uploads to the embedded node: multipart bodies as browsers and kubo-rpc-client send
 * them, the upload cap, and which browser origins may upload at all.
 */
import { expect } from "chai";
import { create } from "kubo-rpc-client";
import type { KuboRPCClient } from "kubo-rpc-client";
import { MAX_IMAGE_BYTES } from "@argus/protocol/limits";
import { checkStoredBlocks, collect, rawLeafCid, startTestNode, testBytes } from "./support/ipfs.ts";

const encode = (text: string) => new TextEncoder().encode(text);
const MiB = 1024 * 1024;

describe("IPFS embedded node: multipart bodies", function () {
  let node: Awaited<ReturnType<typeof startTestNode>>;
  let client: KuboRPCClient;

  before(async function () {
    node = await startTestNode();
    client = create({ url: node.apiUrl });
  });

  after(async function () {
    await node?.stop();
  });

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
    return {
      status: response.status,
      lines: text
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as Record<string, string>),
    };
  }

  it("adds a part with filename=\"\" and its own content type (a browser's add(blob)) as a file, with a named part's CID", async function () {
    const image = testBytes(70_000, 41);
    const boundary = "----WebKitFormBoundaryQ1cDrY6c0VhM2iU7";
    const unnamed = await post(
      "add?cid-version=1",
      boundary,
      Buffer.concat([
        part(boundary, ['Content-Disposition: form-data; name="file"; filename=""', "Content-Type: image/jpeg"], image),
        Buffer.from(`--${boundary}--\r\n`),
      ]),
    );
    const named = await post(
      "add?cid-version=1",
      boundary,
      Buffer.concat([
        part(boundary, ['Content-Disposition: form-data; name="file"; filename="cat.jpg"', "Content-Type: image/jpeg"], image),
        Buffer.from(`--${boundary}--\r\n`),
      ]),
    );
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
    const noFilename = await post(
      "add?cid-version=1",
      boundary,
      Buffer.concat([
        part(boundary, ['Content-Disposition: form-data; name="file"', "Content-Type: text/plain"], encode("plain")),
        Buffer.from(`--${boundary}--\r\n`),
      ]),
    );
    expect(noFilename.lines[0]!.Hash).to.equal(await rawLeafCid(encode("plain")));
  });

  it("parses a body that arrives a few bytes at a time, with a preamble, a quoted boundary, folded headers and a skipped part", async function () {
    const boundary = "b0undary";
    const first = testBytes(5_000, 42);
    // Content that almost repeats the delimiter must stay content.
    const second = Buffer.concat([Buffer.from(`\r\n--${boundary.slice(0, -1)}x\r\n--`), Buffer.from(testBytes(3_000, 43))]);
    const body = Buffer.concat([
      Buffer.from("a preamble that is ignored\r\n"),
      part(
        boundary,
        ['Content-Disposition: form-data; name="dir"; filename="dir"', "Content-Type: application/x-directory"],
        new Uint8Array(),
      ),
      part(
        boundary,
        ['Content-Disposition: form-data; name="file";', '  filename="dir%2Fone.bin"', "Content-Type: application/octet-stream"],
        first,
      ),
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
    const entries = (await response.text())
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { Name: string; Hash: string });
    const byName = new Map(entries.map((entry) => [entry.Name, entry.Hash]));
    expect([...byName.keys()].sort()).to.deep.equal(["", "dir", "dir/one.bin", "dir/twö.bin"]);
    const root = byName.get("")!;
    expect(Buffer.from(await collect(client.cat(`${root}/dir/one.bin`))).equals(Buffer.from(first))).to.equal(true);
    expect(Buffer.from(await collect(client.cat(`${root}/dir/twö.bin`))).equals(second)).to.equal(true);
  });

  it("refuses a body cut short or without a boundary, and one that is not multipart, as bad requests", async function () {
    const boundary = "xyz";
    const cut = await post(
      "add",
      boundary,
      Buffer.concat([part(boundary, ['Content-Disposition: form-data; name="file"; filename=""'], encode("half a file")).subarray(0, 60)]),
    );
    expect(cut.status).to.equal(400);
    expect(cut.lines[0]!.Message).to.match(/malformed multipart body: unexpected end of multipart data/);
    const noBoundary = await post("add", boundary, encode("no boundary anywhere in this body"));
    expect(noBoundary.status).to.equal(400);
    const notMultipart = await fetch(`${node.apiUrl}/api/v0/add`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: "{}",
    });
    expect(notMultipart.status).to.equal(400);
    expect(((await notMultipart.json()) as { Message: string }).Message).to.match(/expected a multipart\/form-data body/);
    // Kubo reads the body with Go's Request.MultipartReader, which takes multipart/mixed too.
    const mixed = await fetch(`${node.apiUrl}/api/v0/add?cid-version=1`, {
      method: "POST",
      headers: { "Content-Type": `multipart/mixed; boundary=${boundary}` },
      body: Buffer.concat([
        part(boundary, ['Content-Disposition: form-data; name="file"; filename=""'], encode("mixed")),
        Buffer.from(`--${boundary}--\r\n`),
      ]),
    });
    expect(((await mixed.json()) as { Hash: string }).Hash).to.equal(await rawLeafCid(encode("mixed")));
    // block/put takes the first entry, unnamed or not.
    const put = await post(
      "block/put?cid-codec=raw",
      boundary,
      Buffer.concat([
        part(boundary, ['Content-Disposition: form-data; name="data"; filename=""', "Content-Type: image/png"], encode("a block")),
        Buffer.from(`--${boundary}--\r\n`),
      ]),
    );
    expect(put.lines[0]!.Key).to.equal(await rawLeafCid(encode("a block")));
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
    expect(MAX_IMAGE_BYTES).to.equal(2 * MiB);
    const bytes = testBytes(MAX_IMAGE_BYTES, 31);
    const { cid } = await client.add(bytes);
    expect(Buffer.from(await collect(client.cat(cid))).equals(Buffer.from(bytes))).to.equal(true);
  });

  it("refuses an upload over the cap before storing or pinning anything", async function () {
    const before = await checkStoredBlocks(node.dataDir);
    const pinsBefore = [];
    for await (const pin of client.pin.ls()) pinsBefore.push(pin.cid.toString());

    try {
      await client.add(testBytes(MAX_IMAGE_BYTES + 1, 32));
      expect.fail("an upload over the cap must be refused");
    } catch (error) {
      expect((error as Error).message).to.match(/limit of 2097152 bytes/);
    }
    // With progress the 200 and progress lines are already out when the cap is crossed, so
    // the refusal comes in-stream (X-Stream-Error, a last error line); the add still fails.
    let progressed = 0;
    try {
      await client.add(testBytes(MAX_IMAGE_BYTES + 1, 34), {
        progress: (bytes: number) => (progressed = bytes),
      });
      expect.fail("an upload over the cap must be refused");
    } catch (error) {
      expect((error as Error).message).to.not.match(/must be refused/);
      expect(progressed).to.be.at.most(MAX_IMAGE_BYTES);
    }
    try {
      await client.block.put(testBytes(MAX_IMAGE_BYTES + 1, 33), { allowBigBlock: true });
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
  });
});
