import { createHash } from "node:crypto";
import { afterEach, describe, expect, it, vi } from "vitest";
import { readLabels } from "./ipfs.ts";

/** The IPFS node: the blocks it holds, by CID text, and what was asked of it. */
const node = vi.hoisted(() => ({ blocks: new Map<string, Uint8Array>(), asked: [] as string[] }));
vi.mock("kubo-rpc-client", () => ({
  create: () => ({
    block: {
      get: async (cid: { toString(): string }) => {
        node.asked.push(cid.toString());
        const bytes = node.blocks.get(cid.toString());
        if (bytes === undefined) throw Object.assign(new Error("context deadline exceeded"), { name: "TimeoutError" });
        return bytes;
      },
    },
  }),
}));

const COCO = new Uint8Array(Buffer.from('["person","bicycle","car"]'));
const SHA256 = createHash("sha256").update(COCO).digest("hex");
/** CIDv1, raw codec, sha2-256 of COCO: what `ipfs block put` / `ipfs add --raw-leaves` names it. */
const CID = "bafkreigu4tzn624ur4a75sb377tuonng4iwvxqenas6zk4qsbvrom6cc3m";
const URL_ = "https://labels.example/coco.json";

describe("reading a model's labels", () => {
  afterEach(() => {
    node.blocks.clear();
    node.asked = [];
    vi.unstubAllGlobals();
  });

  it("takes them from IPFS, by the raw CID of the pinned sha256, without downloading", async () => {
    const fetch = vi.fn();
    vi.stubGlobal("fetch", fetch);
    node.blocks.set(CID, COCO);
    expect(await readLabels("http://127.0.0.1:5001", { file: "coco.json", format: "json-array", sha256: SHA256, url: URL_ })).toEqual([
      "person",
      "bicycle",
      "car",
    ]);
    expect(node.asked).toEqual([CID]);
    expect(fetch).not.toHaveBeenCalled();
  });

  it("falls back to the manifest's URL, and checks that copy against the digest too", async () => {
    const fetch = vi.fn(async () => new Response(COCO));
    vi.stubGlobal("fetch", fetch);
    const file = { file: "coco.json", format: "json-array" as const, sha256: SHA256, url: URL_ };
    expect(await readLabels("http://127.0.0.1:5001", file)).toEqual(["person", "bicycle", "car"]);
    expect(fetch).toHaveBeenCalledWith(URL_, {});
    fetch.mockImplementation(async () => new Response('["someone","else"]'));
    await expect(readLabels("http://127.0.0.1:5001", file)).rejects.toThrow(
      /coco\.json is not on the IPFS node, and labels\.example did not serve it \(.*does not match the sha256/,
    );
  });

  it("says so when IPFS lacks them and the manifest names no URL", async () => {
    await expect(readLabels("http://127.0.0.1:5001", { file: "coco.json", format: "json-array", sha256: SHA256 })).rejects.toThrow(
      /not on the IPFS node, and its manifest names no other source/,
    );
  });
});
