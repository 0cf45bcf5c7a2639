/**
 * Reading from an untrusted gateway: a UnixFS file is reassembled from blocks each
 * checked against its CID, and a gateway that serves other bytes is caught.
 */
import * as dagPb from "@ipld/dag-pb";
import { UnixFS } from "ipfs-unixfs";
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import { sha256 } from "multiformats/hashes/sha2";
import { afterEach, describe, expect, it, vi } from "vitest";
import { readVerifiedBlock, readVerifiedFile } from "./verified-blocks.ts";

const GATEWAY = "http://gateway.test";

async function rawBlock(bytes: Uint8Array): Promise<{ cid: CID; bytes: Uint8Array }> {
  return { cid: CID.createV1(raw.code, await sha256.digest(bytes)), bytes };
}

/** A UnixFS file node over `leaves` (raw leaves, as the web UI's uploads are chunked). */
async function fileNode(leaves: { cid: CID; bytes: Uint8Array }[]): Promise<{ cid: CID; bytes: Uint8Array }> {
  const unixfs = new UnixFS({ type: "file", blockSizes: leaves.map((leaf) => BigInt(leaf.bytes.byteLength)) });
  const bytes = dagPb.encode(
    dagPb.prepare({ Data: unixfs.marshal(), Links: leaves.map((leaf) => ({ Hash: leaf.cid, Tsize: leaf.bytes.byteLength })) }),
  );
  return { cid: CID.createV1(dagPb.code, await sha256.digest(bytes)), bytes };
}

/** A gateway serving `blocks` by CID (what `?format=raw` returns), recording the URLs asked for. */
function serve(blocks: Map<string, Uint8Array>): string[] {
  const asked: string[] = [];
  vi.stubGlobal("fetch", async (url: string) => {
    asked.push(url);
    const cid = new URL(url).pathname.replace("/ipfs/", "");
    const bytes = blocks.get(cid);
    return bytes === undefined ? new Response("not found", { status: 404 }) : new Response(new Uint8Array(bytes));
  });
  return asked;
}

afterEach(() => vi.unstubAllGlobals());

describe("readVerifiedFile", () => {
  it("reassembles a chunked UnixFS file from blocks asked for one by one as raw blocks", async () => {
    const leaves = await Promise.all([new Uint8Array([1, 2, 3]), new Uint8Array([4, 5]), new Uint8Array([6])].map(rawBlock));
    const root = await fileNode(leaves);
    const asked = serve(new Map([root, ...leaves].map((block) => [block.cid.toString(), block.bytes])));
    // The limit is the file's size: the root node's links do not count towards it.
    expect([...(await readVerifiedFile(GATEWAY, root.cid.toString(), 6))]).toEqual([1, 2, 3, 4, 5, 6]);
    expect(asked).toEqual([root, ...leaves].map((block) => `${GATEWAY}/ipfs/${block.cid}?format=raw`));
  });

  it("refuses a leaf the gateway swapped for other bytes", async () => {
    const leaves = await Promise.all([new Uint8Array([1, 2, 3]), new Uint8Array([4, 5])].map(rawBlock));
    const root = await fileNode(leaves);
    serve(
      new Map([
        [root.cid.toString(), root.bytes],
        [leaves[0]!.cid.toString(), leaves[0]!.bytes],
        [leaves[1]!.cid.toString(), new Uint8Array([4, 6])],
      ]),
    );
    await expect(readVerifiedFile(GATEWAY, root.cid, 100)).rejects.toThrow(/does not hash to it/);
  });

  it("refuses a file larger than the caller accepts", async () => {
    const leaves = await Promise.all([new Uint8Array(60), new Uint8Array(60)].map(rawBlock));
    const root = await fileNode(leaves);
    serve(new Map([root, ...leaves].map((block) => [block.cid.toString(), block.bytes])));
    await expect(readVerifiedFile(GATEWAY, root.cid, 100)).rejects.toThrow(/more than/);
  });
});

describe("readVerifiedBlock", () => {
  it("returns a raw block that hashes to its CID, reporting the bytes as they arrive", async () => {
    const block = await rawBlock(new Uint8Array([9, 8, 7, 6]));
    serve(new Map([[block.cid.toString(), block.bytes]]));
    const progress: number[] = [];
    expect([...(await readVerifiedBlock(GATEWAY, block.cid, 10, { onBytes: (received) => progress.push(received) }))]).toEqual([
      9, 8, 7, 6,
    ]);
    expect(progress.at(-1)).toBe(4);
  });

  it("says which block the gateway does not have", async () => {
    const block = await rawBlock(new Uint8Array([1]));
    serve(new Map());
    await expect(readVerifiedBlock(GATEWAY, block.cid, 10)).rejects.toThrow(`HTTP 404 for ${block.cid}`);
  });
});
