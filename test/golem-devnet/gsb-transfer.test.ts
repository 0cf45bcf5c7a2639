/**
 * File transfer as golem-js 3.6 does it by default: its real WebSocketStorageProvider
 * binds GSB services on the devnet's hub over HTTP and serves or receives files over a
 * flexbuffers WebSocket; the exe-unit's gftp client (the provider side) fetches and
 * uploads through the hub, in 40 KiB chunks with the sha3-256 check golem-js makes.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { setTimeout as delay } from "node:timers/promises";
import { join } from "node:path";
import { nullLogger, WebSocketStorageProvider, YagnaApi } from "@golem-sdk/golem-js";
import { expect } from "chai";
import { encode } from "flatbuffers/js/flexbuffers.js";
import { GFTP_CHUNK_BYTES, transfer, type Volume } from "@argus/golem-devnet/exe-unit-transfer";
import { decodeGsbMessage, type GsbTestServer, gsbSocket, rawGsbClient, startGsbTestServer } from "./support/gsb-test-server.ts";

const MIB = 1024 * 1024;
const sha3 = (bytes: Uint8Array) => createHash("sha3-256").update(bytes).digest("hex");

async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => expect.fail("expected a rejection"),
    (error: Error) => error,
  );
}

describe("golem-devnet: GSB file transfer with golem-js's WebSocketStorageProvider", function () {
  this.timeout(120_000);
  let server: GsbTestServer;
  let storage: WebSocketStorageProvider;
  let work: string;
  let volumes: Volume[];
  const signal = new AbortController().signal;

  before(async function () {
    server = await startGsbTestServer();
    const yagna = new YagnaApi({ apiKey: server.appKey, basePath: server.basePath, logger: nullLogger() });
    storage = new WebSocketStorageProvider(yagna, { logger: nullLogger() });
    await storage.init();
    work = await mkdtemp(join(tmpdir(), "argus-gsb-test-"));
    volumes = [
      { name: "vol-in", path: "/golem/input", hostDir: join(work, "in") },
      { name: "vol-out", path: "/golem/output", hostDir: join(work, "out") },
    ];
    for (const volume of volumes) await mkdir(volume.hostDir);
  });

  after(async function () {
    await storage?.close();
    await server?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("publishData: the exe-unit downloads the bytes into /golem/input", async function () {
    const data = new TextEncoder().encode(JSON.stringify({ batchVersion: 1, note: "hello from the requestor" }));
    const url = await storage.publishData(data);
    expect(url).to.match(new RegExp(`^gftp://${server.nodeId}/[0-9a-f-]{36}$`));
    await transfer(url, "container:/golem/input/batch.json", { volumes, gsb: server.hub, signal });
    expect(await readFile(join(work, "in/batch.json"))).to.deep.equal(Buffer.from(data));
    const address = `/public/gftp/${url.split("/").pop()}`;
    const metadata = () => server.hub.call(server.nodeId, address, "GetMetadata", {});
    expect(await metadata()).to.deep.equal({ fileSize: data.length });
    await storage.release([url]); // golem-js unbinds without waiting for the answer
    let unbound: Error | undefined;
    for (let waited = 0; unbound === undefined && waited < 5000; waited += 20) {
      unbound = await metadata().then(
        () => delay(20).then(() => undefined),
        (error: Error) => error,
      );
    }
    expect(unbound?.message).to.match(/No service registered under given address|Closed: Normal: Unbinding service/);
    expect((await rejection(metadata())).message).to.match(/No service registered under given address/);
  });

  it("a 32 MiB file goes to the provider and back with matching sha3-256", async function () {
    const original = randomBytes(32 * MIB + 12_345); // not a whole number of 40 KiB chunks
    const source = join(work, "original.bin");
    await writeFile(source, original);

    const published = await storage.publishFile(source);
    await transfer(published, "container:/golem/input/big.bin", { volumes, gsb: server.hub, signal });
    expect(sha3(await readFile(join(work, "in/big.bin")))).to.equal(sha3(original));

    await writeFile(join(work, "out/big.bin"), await readFile(join(work, "in/big.bin")));
    const received = join(work, "received.bin");
    const target = await storage.receiveFile(received);
    await transfer("container:/golem/output/big.bin", target, { volumes, gsb: server.hub, signal });
    expect((await stat(received)).size).to.equal(original.length);
    expect(sha3(await readFile(received))).to.equal(sha3(original));
    await storage.release([published, target]);
  });

  it("uploads as gftp does: 40 KiB UploadChunks in order, then UploadFinished with the sha3-256", async function () {
    // golem-js's receiveData would check the hash, but its ESM build cannot: it calls
    // jsSha3.sha3_256 on a CommonJS namespace that has no such export (a TypeError in
    // its socket handler). A raw GSB client records what the exe-unit sends instead.
    const bytes = randomBytes(3 * GFTP_CHUNK_BYTES + 7);
    await writeFile(join(work, "out/results.json"), bytes);
    const client = await rawGsbClient(server, "/public/gftp/raw-upload", ["UploadChunk", "UploadFinished"]);
    const received: { id: string; component: string; payload: { chunk?: { offset: number; content: Uint8Array }; hash?: string } }[] = [];
    client.onRequest((request) => {
      received.push(request as (typeof received)[number]);
      return null;
    });
    await transfer("container:/golem/output/results.json", `gftp://${server.nodeId}/raw-upload`, { volumes, gsb: server.hub, signal });
    const chunks = received.filter((request) => request.component === "UploadChunk").map((request) => request.payload.chunk!);
    expect(chunks.map((chunk) => [chunk.offset, chunk.content.length])).to.deep.equal([
      [0, GFTP_CHUNK_BYTES],
      [GFTP_CHUNK_BYTES, GFTP_CHUNK_BYTES],
      [2 * GFTP_CHUNK_BYTES, GFTP_CHUNK_BYTES],
      [3 * GFTP_CHUNK_BYTES, 7],
    ]);
    expect(Buffer.concat(chunks.map((chunk) => chunk.content))).to.deep.equal(bytes);
    expect(received.at(-1)).to.deep.equal({ id: received.at(-1)!.id, component: "UploadFinished", payload: { hash: sha3(bytes) } });
    await client.close();
  });

  it("passes on exactly what golem-js encodes: a Node Buffer given to publishData arrives corrupted", async function () {
    // flexbuffers writes a typed array's whole ArrayBuffer, not the view; golem-js's
    // publishData slices with Buffer#slice, a view. A photo read with fs.readFile and
    // uploaded with uploadData reaches a real provider corrupted past its first 40 KiB.
    const photo = randomBytes(2 * GFTP_CHUNK_BYTES + 100);
    expect(photo.buffer.byteLength, "a Buffer with its own ArrayBuffer, as fs.readFile returns").to.equal(photo.length);
    const asBuffer = await storage.publishData(photo);
    await transfer(asBuffer, "container:/golem/input/as-buffer.img", { volumes, gsb: server.hub, signal });
    expect((await stat(join(work, "in/as-buffer.img"))).size).to.equal(3 * photo.length);
    const asCopy = await storage.publishData(new Uint8Array(photo));
    await transfer(asCopy, "container:/golem/input/as-copy.img", { volumes, gsb: server.hub, signal });
    expect(await readFile(join(work, "in/as-copy.img"))).to.deep.equal(photo);
    await storage.release([asBuffer, asCopy]);
  });

  it("a transfer dropped mid-file fails clearly and stops early, both ways", async function () {
    const original = randomBytes(8 * MIB);
    const source = join(work, "drop.bin");
    await writeFile(source, original);
    const published = await storage.publishFile(source);
    const down = await rejection(
      transfer(published, "container:/golem/input/drop.bin", { volumes, gsb: server.hub, dropAfterBytes: MIB, signal }),
    );
    expect(down.message).to.match(/GSB error: Closed: .*dropped/);
    expect((await stat(join(work, "in/drop.bin"))).size).to.be.lessThan(2 * MIB);

    await writeFile(join(work, "out/drop.bin"), original);
    const received = join(work, "drop-received.bin");
    const target = await storage.receiveFile(received);
    const up = await rejection(
      transfer("container:/golem/output/drop.bin", target, { volumes, gsb: server.hub, dropAfterBytes: MIB, signal }),
    );
    expect(up.message).to.match(/GSB error: Closed: .*dropped/);
    expect((await stat(received)).size).to.be.lessThan(2 * MIB);
    await storage.release([published, target]);
  });

  it("paths outside the volumes, and symlinks out of them, are refused as the exe-unit refuses them", async function () {
    const url = await storage.publishData(new Uint8Array([1, 2, 3]));
    for (const to of ["container:/etc/passwd", "container:/golem/inputs/x", "container:/golem/input/../../tmp/x"]) {
      const error = await rejection(transfer(url, to, { volumes, gsb: server.hub, signal }));
      expect(error.message, to).to.match(/^IO error: path not found in container: /);
    }
    const encoded = await rejection(transfer(url, "container:/golem/input/x%2F..%2F..%2Fescaped", { volumes, gsb: server.hub, signal }));
    expect(encoded.message).to.match(/^IO error: invalid path format/);
    // A symlink the command planted is never followed, to write or to read.
    const hostDir = await mkdtemp(join(tmpdir(), "argus-gsb-host-"));
    await symlink(hostDir, join(work, "in/planted"));
    for (const to of ["container:/golem/input/planted/new/file", "container:/golem/input/planted"]) {
      const error = await rejection(transfer(url, to, { volumes, gsb: server.hub, signal }));
      expect(error.message, to).to.match(/leads outside the container's volumes/);
    }
    expect(await readdir(hostDir)).to.deep.equal([]);
    await rm(hostDir, { recursive: true });
    await symlink("/etc", join(work, "out/escape"));
    const target = await storage.receiveData(() => {});
    const error = await rejection(transfer("container:/golem/output/escape/passwd", target, { volumes, gsb: server.hub, signal }));
    expect(error.message).to.match(/leads outside the container's volumes/);
    await storage.release([url, target]);
  });

  it("a call to an unbound address, or whose socket closes mid-call, rejects", async function () {
    const missing = await rejection(server.hub.call(server.nodeId, "/public/gftp/nothing", "GetMetadata", {}));
    expect(missing.message).to.match(/No service registered under given address/);

    const bind = await fetch(`${server.basePath}/gsb-api/v1/services`, {
      method: "POST",
      headers: { authorization: `Bearer ${server.appKey}`, "content-type": "application/json" },
      body: JSON.stringify({ listen: { on: "/public/gftp/silent", components: ["GetMetadata"] } }),
    });
    expect(bind.status).to.equal(201);
    const { servicesId, listen } = (await bind.json()) as { servicesId: string; listen: unknown };
    expect(servicesId).to.equal(Buffer.from("/public/gftp/silent").toString("base64url"));
    expect(listen).to.deep.equal({ on: "/public/gftp/silent", components: ["GetMetadata"] });

    const socket = gsbSocket(server, servicesId);
    const request = new Promise<Record<string, unknown>>((resolve) => {
      socket.on("message", (data: Buffer) => resolve(decodeGsbMessage(data)));
    });
    await new Promise((resolve) => socket.on("open", resolve));
    expect(socket.protocol).to.equal("gsb+flexbuffers");
    const call = server.hub.call(server.nodeId, "/public/gftp/silent", "GetMetadata", {});
    const message = await request;
    expect(message).to.include({ component: "GetMetadata" });
    expect(message.id).to.be.a("string");
    expect(message.payload).to.deep.equal({});
    socket.close();
    expect((await rejection(call)).message).to.match(/^Closed: WebSocket closed/);

    // An error reply ({id, error}) rejects the call with the client's words.
    const again = gsbSocket(server, servicesId);
    again.on("message", (data: Buffer) => {
      const { id } = decodeGsbMessage(data);
      again.send(encode({ id, error: { InternalError: "disk full" } }));
    });
    const failed = await rejection(server.hub.call(server.nodeId, "/public/gftp/silent", "GetMetadata", {}));
    expect(failed.message).to.match(/disk full/);
    again.close();

    const unbind = await fetch(`${server.basePath}/gsb-api/v1/services/${servicesId}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${server.appKey}` },
    });
    expect(unbind.status).to.equal(200);
    expect(await unbind.json()).to.equal(null);
  });

  it("a newer WebSocket replaces the older one, whose pending calls fail; calls wait for a socket", async function () {
    const client = await rawGsbClient(server, "/public/gftp/replaced", ["GetMetadata"]);
    client.socket.removeAllListeners("message"); // the first socket never answers
    const oldClosed = new Promise<number>((resolve) => client.socket.on("close", (code) => resolve(code)));
    const unanswered = server.hub.call(server.nodeId, "/public/gftp/replaced", "GetMetadata", {});
    await delay(100);
    const newer = gsbSocket(server, client.servicesId);
    newer.on("message", (data: Buffer) => {
      const { id } = decodeGsbMessage(data);
      newer.send(encode({ id, payload: { fileSize: 42 } }));
    });
    expect((await rejection(unanswered)).message).to.equal("Closed: Policy: Closing old WS connection in favour of new WS connection");
    expect(await oldClosed).to.equal(1008);
    expect(await server.hub.call(server.nodeId, "/public/gftp/replaced", "GetMetadata", {})).to.deep.equal({ fileSize: 42 });
    newer.close();
    await new Promise((resolve) => newer.on("close", resolve));
    // No socket now: the call waits (yagna buffers it) and goes out when one connects.
    const waiting = server.hub.call(server.nodeId, "/public/gftp/replaced", "GetMetadata", {});
    const third = gsbSocket(server, client.servicesId);
    third.on("message", (data: Buffer) => {
      const { id } = decodeGsbMessage(data);
      third.send(encode({ id, payload: { fileSize: 7 } }));
    });
    expect(await waiting).to.deep.equal({ fileSize: 7 });
    third.close();
    await client.close();
  });

  it("answers the GSB API's errors: wrong key 401, duplicate bind 400, unknown service 404", async function () {
    const post = (key: string, on: string) =>
      fetch(`${server.basePath}/gsb-api/v1/services`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ listen: { on, components: ["GetChunk"] } }),
      });
    expect((await post("wrong", "/public/gftp/a")).status).to.equal(401);
    expect((await post(server.appKey, "/public/gftp/dup")).status).to.equal(201);
    const duplicate = await post(server.appKey, "/public/gftp/dup");
    expect(duplicate.status).to.equal(400);
    expect(await duplicate.json()).to.deep.equal({ message: "Duplicated service address prefix: /public/gftp/dup" });
    const unknown = await fetch(`${server.basePath}/gsb-api/v1/services/${Buffer.from("/public/gftp/none").toString("base64url")}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${server.appKey}` },
    });
    expect(unknown.status).to.equal(404);
    const refused = gsbSocket(server, Buffer.from("/public/gftp/dup").toString("base64url"), "wrong");
    const status = await new Promise<number | undefined>((resolve) =>
      refused.on("unexpected-response", (_request, response) => resolve(response.statusCode)),
    );
    expect(status).to.equal(401);
  });
});
