/**
 * The app's IPFS calls, through kubo-rpc-client against the deployment's API endpoint.
 * Loaded on demand (kubo-rpc-client is the heaviest dependency and is only needed once a
 * user uploads an image or opens a result).
 */
import { resultCidFromDigest } from "@argus/protocol/cid";
import { MAX_RESULT_BYTES } from "@argus/protocol/limits";
import type { ModelManifest } from "@argus/protocol/manifest";
import { create, type KuboRPCClient } from "kubo-rpc-client";
import { CID } from "multiformats/cid";
import { IpfsOperationError, IpfsUnavailableError } from "../lib/errors.ts";
import { type LabelsFile, labelsFromBytes } from "../lib/labels.ts";
import { manifestFromBlock } from "../lib/self-test.ts";

const READ_TIMEOUT_MS = 20_000;

const clients = new Map<string, KuboRPCClient>();
function client(apiUrl: string): KuboRPCClient {
  let existing = clients.get(apiUrl);
  if (existing === undefined) {
    existing = create({ url: apiUrl });
    clients.set(apiUrl, existing);
  }
  return existing;
}

function classify(error: unknown, apiUrl: string): Error {
  const failure = error as { name?: string; message?: string; response?: { status?: number } };
  if (failure?.name === "HTTPError") {
    // The browser transport reports an unreachable endpoint as an HTTP error without a status.
    const status = failure.response?.status ?? 0;
    if (status === 0) return new IpfsUnavailableError(apiUrl, { cause: error });
    const reason = failure.message?.trim() || `HTTP ${status}`;
    return new IpfsOperationError(`The IPFS endpoint answered: ${reason}.`, { cause: error });
  }
  if (failure?.name === "TimeoutError" || failure?.name === "AbortError") {
    return new IpfsUnavailableError(apiUrl, { cause: error });
  }
  if (error instanceof TypeError) return new IpfsUnavailableError(apiUrl, { cause: error });
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * Adds and pins a file as a UnixFS file, CIDv1 with raw leaves (a small image is then
 * one raw block: `bafk…`). `onProgress` gets the bytes the node has taken so far.
 */
export async function uploadImage(apiUrl: string, file: Blob, onProgress: (bytes: number) => void, signal?: AbortSignal): Promise<string> {
  try {
    const added = await client(apiUrl).add(file, {
      cidVersion: 1,
      rawLeaves: true,
      pin: true,
      progress: (bytes: number) => onProgress(bytes),
      ...(signal === undefined ? {} : { signal }),
    });
    return added.cid.toString();
  } catch (error) {
    throw classify(error, apiUrl);
  }
}

/** The bytes of the result block named by an on-chain digest (not yet checked: see `verifyResult`). */
export async function readResultBytes(apiUrl: string, digest: `0x${string}`, signal?: AbortSignal): Promise<Uint8Array> {
  const cid = resultCidFromDigest(digest);
  const timeout = AbortSignal.timeout(READ_TIMEOUT_MS);
  try {
    const bytes = await client(apiUrl).block.get(cid, {
      signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]),
      timeout: READ_TIMEOUT_MS,
    });
    if (bytes.byteLength > MAX_RESULT_BYTES) {
      throw new IpfsOperationError(`The result block is ${bytes.byteLength} bytes, more than a result can be.`);
    }
    return bytes;
  } catch (error) {
    if (error instanceof IpfsOperationError) throw error;
    throw classify(error, apiUrl);
  }
}

/** Manifests are a few kilobytes; anything much larger is not one. */
const MAX_MANIFEST_BYTES = 64 * 1024;

/** The model manifest the registry names by CID, verified against it (see lib/self-test.ts). */
export async function readManifest(apiUrl: string, manifestCid: string, signal?: AbortSignal): Promise<ModelManifest> {
  const timeout = AbortSignal.timeout(READ_TIMEOUT_MS);
  let bytes: Uint8Array;
  try {
    bytes = await client(apiUrl).block.get(CID.parse(manifestCid), {
      signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]),
      timeout: READ_TIMEOUT_MS,
    });
  } catch (error) {
    throw classify(error, apiUrl);
  }
  if (bytes.byteLength > MAX_MANIFEST_BYTES)
    throw new IpfsOperationError(`The manifest block is ${bytes.byteLength} bytes, too large for one.`);
  return manifestFromBlock(bytes, manifestCid);
}

/** Reachability probe for the status bar: the node's `id`. */
export async function probe(apiUrl: string): Promise<boolean> {
  try {
    await client(apiUrl).version({ signal: AbortSignal.timeout(4000) });
    return true;
  } catch {
    return false;
  }
}

/** How long the IPFS node may look for a label file before its download URL is tried instead. */
const LABELS_IPFS_TIMEOUT_MS = 5_000;

/**
 * A model's labels, from the file its manifest pins by sha256: first from IPFS as the raw
 * block that digest names (how deployments pin it beside the manifest), else from the
 * manifest's download URL. Either copy is checked against the digest.
 */
export async function readLabels(apiUrl: string, file: LabelsFile, signal?: AbortSignal): Promise<string[]> {
  const timeoutMs = file.url === undefined ? READ_TIMEOUT_MS : LABELS_IPFS_TIMEOUT_MS;
  const timeout = AbortSignal.timeout(timeoutMs);
  let fromIpfs: unknown;
  try {
    const bytes = await client(apiUrl).block.get(resultCidFromDigest(`0x${file.sha256}`), {
      signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]),
      timeout: timeoutMs,
    });
    return await labelsFromBytes(bytes, file);
  } catch (error) {
    if (signal?.aborted) throw error;
    fromIpfs = error;
  }
  if (file.url === undefined) {
    throw new IpfsOperationError(`The label list ${file.file} is not on the IPFS node, and its manifest names no other source.`, {
      cause: fromIpfs,
    });
  }
  try {
    const response = await fetch(file.url, signal === undefined ? {} : { signal });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return await labelsFromBytes(new Uint8Array(await response.arrayBuffer()), file);
  } catch (error) {
    if (signal?.aborted) throw error;
    throw new IpfsOperationError(
      `The label list ${file.file} is not on the IPFS node, and ${new URL(file.url).host} did not serve it (${error instanceof Error ? error.message : String(error)}).`,
      { cause: error },
    );
  }
}
