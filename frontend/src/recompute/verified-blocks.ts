/**
 * Reading content from an IPFS path gateway without trusting it: every block is asked
 * for as itself (`?format=raw`, a trustless-gateway request) and must hash to the CID
 * that names it. A file pinned as UnixFS (an uploaded image, chunked by the node) is
 * walked block by block from its root; a single raw block (results, manifests, label
 * and weight files pinned by their sha256) is one request. The gateway is trusted only
 * to answer.
 */
import * as dagPb from "@ipld/dag-pb";
import { UnixFS } from "ipfs-unixfs";
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import { sha256 } from "multiformats/hashes/sha2";
import { gatewayFileUrl } from "../ipfs/gateway-url.ts";

/** Kubo's block size limit: no UnixFS node a node made is larger. */
const MAX_NODE_BYTES = 1024 * 1024;

export interface BlockReadOptions {
  signal?: AbortSignal | undefined;
  /** Called as bytes arrive: the bytes read so far of this block and its announced length (0 when unknown). */
  onBytes?: ((received: number, total: number) => void) | undefined;
}

/** The block `cid` from `gatewayUrl`, checked against it; refuses blocks over `maxBytes`. */
export async function readVerifiedBlock(
  gatewayUrl: string,
  cid: CID,
  maxBytes: number,
  options: BlockReadOptions = {},
): Promise<Uint8Array> {
  if (cid.multihash.code !== sha256.code) throw new Error(`${cid} is not a sha2-256 CID; only those can be checked here`);
  const url = `${gatewayFileUrl(gatewayUrl, cid.toString())}?format=raw`;
  const response = await fetch(url, { headers: { accept: "application/vnd.ipld.raw" }, signal: options.signal ?? null });
  if (!response.ok) throw new Error(`the IPFS gateway answered HTTP ${response.status} for ${cid}`);
  const total = Number(response.headers.get("content-length") ?? 0);
  if (total > maxBytes) throw new Error(`${cid} is ${total} bytes, more than the ${maxBytes} expected`);
  const bytes = await readBody(response, maxBytes, (received) => options.onBytes?.(received, total));
  const digest = await sha256.digest(bytes);
  if (!equalBytes(digest.digest, cid.multihash.digest)) throw new Error(`the gateway's block for ${cid} does not hash to it`);
  return bytes;
}

/**
 * The file named by `cid`: a raw block, or a UnixFS file (dag-pb) whose blocks are read
 * and checked one by one, in order. Refuses more than `maxBytes` in all.
 */
export async function readVerifiedFile(
  gatewayUrl: string,
  cid: CID | string,
  maxBytes: number,
  options: BlockReadOptions = {},
): Promise<Uint8Array> {
  const root = typeof cid === "string" ? CID.parse(cid) : cid;
  const parts: Uint8Array[] = [];
  let size = 0;
  const visit = async (node: CID): Promise<void> => {
    // A leaf's bytes count towards the file; a UnixFS node (links, and perhaps some data) may be up to a block.
    const limit = node.code === raw.code ? maxBytes - size : MAX_NODE_BYTES;
    const block = await readVerifiedBlock(gatewayUrl, node, limit, { signal: options.signal });
    if (node.code === raw.code) {
      append(block);
      return;
    }
    if (node.code !== dagPb.code) throw new Error(`${node} is neither a raw block nor a UnixFS node`);
    const decoded = dagPb.decode(block);
    if (decoded.Data === undefined) throw new Error(`${node} is a dag-pb node without UnixFS data`);
    const unixfs = UnixFS.unmarshal(decoded.Data);
    if (unixfs.type !== "file" && unixfs.type !== "raw") throw new Error(`${node} is a UnixFS ${unixfs.type}, not a file`);
    if (unixfs.data !== undefined && unixfs.data.byteLength > 0) append(unixfs.data);
    for (const link of decoded.Links) await visit(link.Hash);
  };
  const append = (bytes: Uint8Array) => {
    size += bytes.byteLength;
    if (size > maxBytes) throw new Error(`${root} is more than ${maxBytes} bytes`);
    parts.push(bytes);
    options.onBytes?.(size, 0);
  };
  await visit(root);
  const file = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    file.set(part, at);
    at += part.byteLength;
  }
  return file;
}

async function readBody(response: Response, maxBytes: number, onBytes: (received: number) => void): Promise<Uint8Array> {
  if (response.body === null) return new Uint8Array(await response.arrayBuffer());
  const chunks: Uint8Array[] = [];
  let received = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    received += value.byteLength;
    if (received > maxBytes) {
      await reader.cancel();
      throw new Error(`the gateway sent more than the ${maxBytes} bytes expected`);
    }
    chunks.push(value);
    onBytes(received);
  }
  const bytes = new Uint8Array(received);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return bytes;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((byte, index) => byte === b[index]);
}
