import { createHash } from "node:crypto";
import { afterEach, describe, expect, it, vi } from "vitest";
import { IpfsOperationError, IpfsUnavailableError } from "../lib/errors.ts";
import { readBlock, readLabels } from "./block-read.ts";

const API = "http://127.0.0.1:5001";

/** The IPFS node's RPC API, as `fetch` reaches it: the blocks it holds, by CID text, and what was asked of it. */
const node = { blocks: new Map<string, Uint8Array<ArrayBuffer>>(), asked: [] as string[] };
/** `fetch` as the page sees it: the node's API at API, `elsewhere` for any other URL. */
function stubFetch(elsewhere: (url: string) => Promise<Response> = async () => new Response("not found", { status: 404 })) {
  const fetch = vi.fn(async (input: string | URL, init?: RequestInit) => {
    const url = new URL(input);
    if (url.origin !== API) return elsewhere(url.href);
    expect([url.pathname, init?.method]).toEqual(["/api/v0/block/get", "POST"]);
    const cid = url.searchParams.get("arg")!;
    node.asked.push(cid);
    const bytes = node.blocks.get(cid);
    if (bytes === undefined)
      return new Response(JSON.stringify({ Message: "context deadline exceeded", Code: 0, Type: "error" }), { status: 500 });
    return new Response(bytes as Uint8Array<ArrayBuffer>);
  });
  vi.stubGlobal("fetch", fetch);
  return fetch;
}

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
    const fetch = stubFetch();
    node.blocks.set(CID, COCO);
    expect(await readLabels(API, { file: "coco.json", format: "json-array", sha256: SHA256, url: URL_ })).toEqual([
      "person",
      "bicycle",
      "car",
    ]);
    expect(node.asked).toEqual([CID]);
    expect(fetch).toHaveBeenCalledTimes(1);
  });

  it("falls back to the manifest's URL, and checks that copy against the digest too", async () => {
    let served = COCO;
    const fetch = stubFetch(async () => new Response(served));
    const file = { file: "coco.json", format: "json-array" as const, sha256: SHA256, url: URL_ };
    expect(await readLabels(API, file)).toEqual(["person", "bicycle", "car"]);
    expect(fetch).toHaveBeenCalledWith(URL_, {});
    served = new Uint8Array(Buffer.from('["someone","else"]'));
    await expect(readLabels(API, file)).rejects.toThrow(
      /coco\.json is not on the IPFS node, and labels\.example did not serve it \(.*does not match the sha256/,
    );
  });

  it("says so when IPFS lacks them and the manifest names no URL", async () => {
    stubFetch();
    await expect(readLabels(API, { file: "coco.json", format: "json-array", sha256: SHA256 })).rejects.toThrow(
      /not on the IPFS node, and its manifest names no other source/,
    );
  });
});

describe("reading a block", () => {
  afterEach(() => {
    node.blocks.clear();
    node.asked = [];
    vi.unstubAllGlobals();
  });

  it("asks the node for it with Kubo's own timeout, and returns its bytes", async () => {
    const fetch = stubFetch();
    node.blocks.set(CID, COCO);
    expect(await readBlock(`${API}/`, CID, { timeoutMs: 5_000 })).toEqual(COCO);
    expect(new URL(fetch.mock.calls[0]![0]).searchParams.get("timeout")).toBe("5000ms");
  });

  it("passes on the node's own error message, and calls an unreachable node unreachable", async () => {
    stubFetch();
    const missing = readBlock(API, CID);
    await expect(missing).rejects.toThrow(IpfsOperationError);
    await expect(missing).rejects.toThrow("The IPFS endpoint answered: context deadline exceeded.");
    vi.stubGlobal(
      "fetch",
      vi.fn(async () => {
        throw new TypeError("Failed to fetch");
      }),
    );
    await expect(readBlock(API, CID)).rejects.toThrow(IpfsUnavailableError);
  });
});
