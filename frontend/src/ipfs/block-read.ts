/**
 * The app's IPFS reads: single blocks by CID (model manifests, label files, results),
 * each one `POST <api>/api/v0/block/get` of the Kubo RPC API, made with `fetch`. Reading
 * needs nothing more, so the start page and a request's page never load kubo-rpc-client
 * (ipfs.ts, for uploads): on a phone, creating that client cost more main-thread time
 * than rendering the page. Every block read here is checked by the caller against the
 * digest that names it.
 */
import { resultCidFromDigest } from "@argus/protocol/cid";
import { MAX_RESULT_BYTES } from "@argus/protocol/limits";
import type { ModelManifest } from "@argus/protocol/manifest";
import { IpfsOperationError, IpfsUnavailableError } from "../lib/errors.ts";
import { type LabelsFile, labelsFromBytes } from "../lib/labels.ts";
import { manifestFromBlock } from "../lib/self-test.ts";

const READ_TIMEOUT_MS = 20_000;

/**
 * The block `cid` from the node at `apiUrl`. `timeoutMs` bounds the wait and is passed to
 * the node as Kubo's own `timeout`, so it stops looking for the block when we stop waiting.
 */
export async function readBlock(
  apiUrl: string,
  cid: { toString(): string },
  options: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<Uint8Array> {
  const timeoutMs = options.timeoutMs ?? READ_TIMEOUT_MS;
  const timeout = AbortSignal.timeout(timeoutMs);
  const url = new URL("api/v0/block/get", apiUrl.endsWith("/") ? apiUrl : `${apiUrl}/`);
  url.searchParams.set("arg", cid.toString());
  url.searchParams.set("timeout", `${timeoutMs}ms`);
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      signal: options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout]),
    });
  } catch (error) {
    if (options.signal?.aborted) throw error;
    // Refused, unreachable, blocked by CORS or no answer in time: the browser does not say which.
    throw new IpfsUnavailableError(apiUrl, { cause: error });
  }
  if (!response.ok) {
    const body = await response.text().catch(() => "");
    let reason = body.trim() || `HTTP ${response.status}`;
    try {
      reason = (JSON.parse(body) as { Message?: string }).Message?.trim() || reason; // Kubo's error shape
    } catch {}
    throw new IpfsOperationError(`The IPFS endpoint answered: ${reason}.`);
  }
  return new Uint8Array(await response.arrayBuffer());
}

/** The bytes of the result block named by an on-chain digest (not yet checked: see `verifyResult`). */
export async function readResultBytes(apiUrl: string, digest: `0x${string}`, signal?: AbortSignal): Promise<Uint8Array> {
  const bytes = await readBlock(apiUrl, resultCidFromDigest(digest), signal === undefined ? {} : { signal });
  if (bytes.byteLength > MAX_RESULT_BYTES) {
    throw new IpfsOperationError(`The result block is ${bytes.byteLength} bytes, more than a result can be.`);
  }
  return bytes;
}

/** Manifests are a few kilobytes; anything much larger is not one. */
const MAX_MANIFEST_BYTES = 64 * 1024;

/** The model manifest the registry names by CID, verified against it (see lib/self-test.ts). */
export async function readManifest(apiUrl: string, manifestCid: string, signal?: AbortSignal): Promise<ModelManifest> {
  const bytes = await readBlock(apiUrl, manifestCid, signal === undefined ? {} : { signal });
  if (bytes.byteLength > MAX_MANIFEST_BYTES)
    throw new IpfsOperationError(`The manifest block is ${bytes.byteLength} bytes, too large for one.`);
  return manifestFromBlock(bytes, manifestCid);
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
  let fromIpfs: unknown;
  try {
    const bytes = await readBlock(apiUrl, resultCidFromDigest(`0x${file.sha256}`), {
      timeoutMs,
      ...(signal === undefined ? {} : { signal }),
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
