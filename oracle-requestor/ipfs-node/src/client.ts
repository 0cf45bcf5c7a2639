/**
 * The one way Argus code talks to IPFS: kubo-rpc-client against one configured
 * endpoint, the embedded node (`npm run ipfs`), a Kubo daemon, IPFS Desktop or a
 * Kubo-compatible pinning service alike.
 *
 * The endpoint and, for a service that wants credentials, the Authorization header are
 * the caller's (each program's configuration: ARGUS_IPFS_API, default
 * http://127.0.0.1:5001, and ARGUS_IPFS_API_AUTHORIZATION). The helpers do not trust the endpoint: every block they read is
 * hashed and checked against its CID, so a misbehaving or compromised service cannot
 * make the oracle classify another image or accept another result.
 */
import { unixfs } from "@helia/unixfs";
import { create } from "kubo-rpc-client";
import type { KuboRPCClient } from "kubo-rpc-client";
import { CID } from "multiformats/cid";
import { sha256 } from "multiformats/hashes/sha2";
import { resultCidForBytes, resultCidFromDigest } from "@argus/protocol/cid";
import type { DigestInput, ResultCid } from "@argus/protocol/cid";

export type { KuboRPCClient };

export const DEFAULT_IPFS_API = "http://127.0.0.1:5001";
export const IPFS_API_ENV = "ARGUS_IPFS_API";
/** Sent as the Authorization header, for pinning services that want one ("Bearer …", "Basic …"). */
export const IPFS_API_AUTHORIZATION_ENV = "ARGUS_IPFS_API_AUTHORIZATION";

type Env = Readonly<Record<string, string | undefined>>;

/** The RPC endpoint `env` configures: ARGUS_IPFS_API, else the embedded node's default address. */
export function ipfsApiUrl(env: Env): string {
  const configured = env[IPFS_API_ENV]?.trim();
  return configured ? configured : DEFAULT_IPFS_API;
}

export interface IpfsClientOptions {
  /** Extra headers for every request. */
  headers?: Record<string, string>;
  /** The Authorization header (ARGUS_IPFS_API_AUTHORIZATION), when `headers` gives none. */
  authorization?: string | undefined;
}

/** A kubo-rpc-client for `url`, with the service's credentials if it needs any. */
export function createIpfsClient(url: string, options: IpfsClientOptions = {}): KuboRPCClient {
  const authorization = options.authorization?.trim();
  const headers = options.headers ?? (authorization ? { Authorization: authorization } : {});
  return create({ url, ...(Object.keys(headers).length === 0 ? {} : { headers }) });
}

/** The headers `env` configures (ARGUS_IPFS_API_AUTHORIZATION). */
export function configuredHeaders(env: Env): Record<string, string> {
  const authorization = env[IPFS_API_AUTHORIZATION_ENV]?.trim();
  return authorization ? { Authorization: authorization } : {};
}

/** The content did not arrive within the caller's time budget. */
export class IpfsTimeoutError extends Error {
  override name = "IpfsTimeoutError";
}

/** The content is larger than the caller accepts; reading stopped at the limit. */
export class ContentTooLargeError extends Error {
  override name = "ContentTooLargeError";
}

/** The endpoint answered with bytes that do not hash to the CID asked for. */
export class ContentMismatchError extends Error {
  override name = "ContentMismatchError";
}

export interface ReadOptions {
  /** Refuse content larger than this many bytes. */
  maxBytes: number;
  /** Give up (IpfsTimeoutError) after this long, the node also stops waiting then. */
  timeoutMs: number;
  signal?: AbortSignal;
}

/**
 * Stores a result document as one raw block (CIDv1, raw, sha2-256), pinned, and returns
 * its CID; the CID's digest is what the contract records. Fails if the endpoint answers
 * with any other CID than the one the bytes must have.
 */
export async function pinResult(client: KuboRPCClient, bytes: Uint8Array, options: { signal?: AbortSignal } = {}): Promise<ResultCid> {
  // Results are small JSON documents; a big one is a bug, not something to split.
  return putRawBlock(client, bytes, false, options.signal);
}

/**
 * Stores a model file (ONNX weights: a few MB) as one raw block, pinned, so that the CID
 * its manifest's sha256 names serves it: the web UI's browser recompute reads weights
 * that way. Over Kubo's 1 MiB block limit on purpose (`allow-big-block`): such a block
 * is served by this node's gateway but not exchanged with peers, which a deployment that
 * wants it elsewhere pins there too. The node must accept uploads of the file's size.
 */
export async function pinModelFile(client: KuboRPCClient, bytes: Uint8Array, options: { signal?: AbortSignal } = {}): Promise<ResultCid> {
  return putRawBlock(client, bytes, true, options.signal);
}

async function putRawBlock(
  client: KuboRPCClient,
  bytes: Uint8Array,
  allowBigBlock: boolean,
  signal: AbortSignal | undefined,
): Promise<ResultCid> {
  const expected = await resultCidForBytes(bytes);
  const stored = await client.block.put(bytes, {
    format: "raw",
    mhtype: "sha2-256",
    pin: true,
    allowBigBlock,
    ...(signal === undefined ? {} : { signal }),
  });
  if (!stored.equals(expected)) {
    throw new ContentMismatchError(`the IPFS endpoint stored the block as ${stored}, expected ${expected}`);
  }
  return expected;
}

/** Reads a result by its on-chain digest (or CID) and checks `sha256(bytes) == digest`. */
export async function fetchResult(client: KuboRPCClient, digest: DigestInput | ResultCid, options: ReadOptions): Promise<Uint8Array> {
  const cid = digest instanceof Uint8Array || typeof digest === "string" ? resultCidFromDigest(digest) : digest;
  return withDeadline(cid, options, async (signal) => {
    const bytes = await getVerifiedBlock(client, cid, signal, options.timeoutMs);
    if (bytes.byteLength > options.maxBytes) {
      throw new ContentTooLargeError(`result ${cid} is ${bytes.byteLength} bytes, more than the ${options.maxBytes} accepted`);
    }
    return bytes;
  });
}

/**
 * Reads an image (a UnixFS file, CIDv0 or CIDv1) block by block, verifying each block
 * against its CID, and stops as soon as the file is known or seen to exceed `maxBytes`.
 */
export async function fetchImage(client: KuboRPCClient, cid: CID | string, options: ReadOptions): Promise<Uint8Array> {
  const root = typeof cid === "string" ? CID.parse(cid) : cid;
  return withDeadline(root, options, async (signal) => {
    const files = unixfs({ blockstore: verifiedRemoteBlocks(client, signal, options.timeoutMs) });
    const stats = await files.stat(root, { signal });
    if (stats.type === "directory") throw new Error(`${root} is a directory, not an image file`);
    if (stats.size > BigInt(options.maxBytes)) {
      throw new ContentTooLargeError(`image ${root} is ${stats.size} bytes, more than the ${options.maxBytes} accepted`);
    }
    const chunks: Uint8Array[] = [];
    let received = 0;
    for await (const chunk of files.cat(root, { signal })) {
      received += chunk.byteLength;
      // The root's declared size could lie about a DAG built by someone else: count too.
      if (received > options.maxBytes) {
        throw new ContentTooLargeError(`image ${root} is more than the ${options.maxBytes} bytes accepted`);
      }
      chunks.push(chunk);
    }
    return concat(chunks, received);
  });
}

/** A read-only blockstore that fetches blocks with `block/get` and verifies each one. */
function verifiedRemoteBlocks(client: KuboRPCClient, signal: AbortSignal, timeoutMs: number) {
  return {
    async *get(cid: CID): AsyncGenerator<Uint8Array> {
      yield await getVerifiedBlock(client, cid, signal, timeoutMs);
    },
    async has(): Promise<boolean> {
      return false;
    },
    async put(): Promise<CID> {
      throw new Error("this blockstore only reads");
    },
  };
}

async function getVerifiedBlock(client: KuboRPCClient, cid: CID, signal: AbortSignal, timeoutMs: number): Promise<Uint8Array> {
  // `timeout` is Kubo's own option: the node stops looking for the block when we stop waiting.
  const bytes = await client.block.get(cid, { signal, timeout: timeoutMs });
  if (cid.multihash.code !== sha256.code) {
    throw new ContentMismatchError(`cannot verify ${cid}: only sha2-256 CIDs are accepted`);
  }
  const digest = await sha256.digest(bytes);
  if (!equalBytes(digest.digest, cid.multihash.digest)) {
    throw new ContentMismatchError(`the IPFS endpoint returned bytes for ${cid} that hash to something else`);
  }
  return bytes;
}

async function withDeadline<T>(cid: CID, options: ReadOptions, read: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const deadline = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal === undefined ? deadline : AbortSignal.any([options.signal, deadline]);
  try {
    return await read(signal);
  } catch (error) {
    if (deadline.aborted || (error as Error).name === "TimeoutError") {
      throw new IpfsTimeoutError(`${cid} was not available within ${options.timeoutMs} ms`, { cause: error });
    }
    throw error;
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((byte, index) => byte === b[index]);
}

function concat(chunks: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
