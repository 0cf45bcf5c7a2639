/**
 * The app's IPFS writes, through kubo-rpc-client against the deployment's API endpoint.
 * Loaded on demand (kubo-rpc-client is the heaviest dependency and is only needed once a
 * user uploads an image); reads are plain `fetch`es, in block-read.ts.
 */
import { create, type KuboRPCClient } from "kubo-rpc-client";
import { IpfsOperationError, IpfsUnavailableError } from "../lib/errors.ts";

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

/** Reachability probe for the status bar: the node's `id`. */
export async function probe(apiUrl: string): Promise<boolean> {
  try {
    await client(apiUrl).version({ signal: AbortSignal.timeout(4000) });
    return true;
  } catch {
    return false;
  }
}
