/**
 * `add`: import files as UnixFS with Kubo's DAG parameters, so the same bytes and
 * options give the same CID here as on any Kubo node.
 *
 * Kubo's defaults: CIDv0, raw leaves off (on when cid-version=1), fixed 256 KiB
 * chunks, balanced layout with at most 174 links per node, pin on.
 *
 * The import runs into an in-memory staging blockstore. Only when the whole upload
 * has arrived within the size cap are its blocks written to disk and pinned: a
 * refused or broken upload stores nothing.
 */
import { MemoryBlockstore } from "blockstore-core/memory";
import { importer } from "ipfs-unixfs-importer";
import type { ImportCandidate, ImporterOptions, ImportResult } from "ipfs-unixfs-importer";
import { fixedSize } from "ipfs-unixfs-importer/chunker";
import { balanced, trickle } from "ipfs-unixfs-importer/layout";
import type { CID } from "multiformats/cid";
import { collectBytes } from "../bytes.ts";
import type { RpcCall } from "./context.ts";
import { badRequest, RpcError, toRpcError } from "./errors.ts";
import { MultipartUpload } from "./multipart.ts";
import type { UploadPart } from "./multipart.ts";
import type { QueryParams } from "./params.ts";
import { NdjsonStream, sendError } from "./respond.ts";

export const KUBO_CHUNK_SIZE = 262_144;
export const KUBO_MAX_LINKS = 174;
/** Kubo's trickle layout repeats each layer this many times. */
const KUBO_TRICKLE_LAYER_REPEAT = 4;
/** Kubo refuses chunks larger than its block size limit. */
const MAX_CHUNK_SIZE = 1024 * 1024;

export interface AddSettings {
  importer: ImporterOptions;
  pin: boolean;
  onlyHash: boolean;
  progress: boolean;
  wrapWithDirectory: boolean;
  /** "all" lines, only the root ("quieter"), or nothing ("silent"). */
  report: "all" | "root" | "none";
  pinName: string | undefined;
}

/** Kubo `add` options to importer options; refuses those that would change the CID in a way this node cannot honour. */
export function addSettingsFrom(params: QueryParams): AddSettings {
  const cidVersion = params.integer("cid-version") ?? 0;
  if (cidVersion !== 0 && cidVersion !== 1) throw badRequest(`unknown CID version: ${cidVersion}`);
  const hash = params.string("hash") ?? "sha2-256";
  if (hash !== "sha2-256") throw badRequest(`hash function "${hash}" is not supported by this node (sha2-256 only)`);
  if (params.bool("inline", false)) throw badRequest("inline CIDs are not supported by this node");
  if (params.bool("nocopy", false)) throw badRequest("nocopy (filestore) is not supported by this node");

  const rawLeaves = params.bool("raw-leaves", cidVersion === 1);
  const useTrickle = params.bool("trickle", false);
  const wrapWithDirectory = params.bool("wrap-with-directory", false);
  const importerOptions: ImporterOptions = {
    // The legacy profile is Kubo's default: its directory sharding rule and field order.
    profile: "unixfs-v0-2015",
    cidVersion,
    rawLeaves,
    chunker: fixedSize({ chunkSize: chunkSizeFrom(params.string("chunker")) }),
    layout: useTrickle
      ? trickle({ maxChildrenPerNode: KUBO_MAX_LINKS, layerRepeat: KUBO_TRICKLE_LAYER_REPEAT })
      : balanced({ maxChildrenPerNode: KUBO_MAX_LINKS }),
    // Kubo's trickle DAG wraps leaves as UnixFS "raw" nodes and never collapses a single leaf.
    ...(useTrickle && !rawLeaves ? { leafType: "raw" as const, reduceSingleLeafToSelf: false } : {}),
    wrapWithDirectory,
    // Parts arrive one after another on one request stream; importing two at once would
    // wait for a part that cannot arrive before the current one is consumed.
    fileImportConcurrency: 1,
  };
  const quieter = params.bool("quieter", false);
  const silent = params.bool("silent", false);
  return {
    importer: importerOptions,
    pin: params.bool("pin", true),
    onlyHash: params.bool("only-hash", false),
    progress: params.bool("progress", false),
    wrapWithDirectory,
    report: silent ? "none" : quieter ? "root" : "all",
    pinName: params.string("pin-name"),
  };
}

function chunkSizeFrom(chunker: string | undefined): number {
  if (chunker === undefined || chunker === "" || chunker === "default") return KUBO_CHUNK_SIZE;
  const match = /^size-(\d+)$/.exec(chunker);
  if (match === null) {
    throw badRequest(`chunker "${chunker}" is not supported by this node; use size-<bytes> (Kubo's default is size-${KUBO_CHUNK_SIZE})`);
  }
  const size = Number(match[1]);
  if (size <= 0 || size > MAX_CHUNK_SIZE) throw badRequest(`chunker size must be between 1 and ${MAX_CHUNK_SIZE} bytes`);
  return size;
}

export async function handleAdd(call: RpcCall): Promise<void> {
  const { request, response, params, context, signal } = call;
  const settings = addSettingsFrom(params);
  const upload = new MultipartUpload(request, context.options.maxUploadBytes);
  const output = new NdjsonStream(response);
  try {
    upload.checkDeclaredLength();
  } catch (error) {
    upload.discardRest();
    sendError(response, toRpcError(error), true);
    return;
  }
  // Kubo answers at once when progress is asked for, then streams `{Name, Bytes}` lines.
  if (settings.progress) output.start();
  const reportProgress = settings.progress ? (path: string, bytes: number) => output.write({ Name: path, Bytes: bytes }) : undefined;

  const staging = new MemoryBlockstore();
  let results: ImportResult[];
  try {
    const candidates = importCandidates(upload.parts(reportProgress));
    results = [];
    for await (const entry of importer(candidates, staging, { ...settings.importer })) {
      signal.throwIfAborted();
      results.push(entry);
    }
    if (results.length === 0) throw badRequest("the request contained no file");
    if (!settings.onlyHash) {
      await commitStagedBlocks(staging, call);
      if (settings.pin) {
        for (const root of pinnedRoots(results, settings.wrapWithDirectory)) {
          await context.pins.pin(root, { recursive: true, name: settings.pinName, signal });
        }
      }
    }
  } catch (error) {
    const rpcError = toRpcError(error);
    const refused = rpcError.status === 413;
    if (refused) upload.discardRest();
    if (output.started) output.fail(rpcError);
    else sendError(response, rpcError, refused);
    return;
  }

  const reported = settings.report === "all" ? results : settings.report === "root" ? results.slice(-1) : ([] as ImportResult[]);
  for (const entry of reported) {
    // Kubo names an unnamed file by its CID; a wrapping directory keeps its empty name.
    output.write({ Name: entry.path ?? entry.cid.toString(), Hash: entry.cid.toString(), Size: String(entry.size) });
  }
  output.end();
}

async function* importCandidates(parts: AsyncIterable<UploadPart>): AsyncGenerator<ImportCandidate> {
  for await (const part of parts) {
    if (part.kind === "directory") {
      if (part.path === "") throw badRequest("a directory part needs a name");
      yield { path: part.path };
    } else {
      yield part.path === "" ? { content: part.content } : { path: part.path, content: part.content };
    }
  }
}

/** Writes the staged blocks to the node's blockstore, leaves before the nodes that link to them. */
async function commitStagedBlocks(staging: MemoryBlockstore, call: RpcCall): Promise<void> {
  const blockstore = call.context.node.helia.blockstore;
  for await (const { cid, bytes } of staging.getAll()) {
    call.signal.throwIfAborted();
    await blockstore.put(cid, await collectBytes(bytes), { signal: call.signal });
  }
}

/** What Kubo pins after an add: the wrapping directory, or each top-level entry. */
function pinnedRoots(results: ImportResult[], wrapped: boolean): CID[] {
  if (wrapped) {
    const root = results.at(-1);
    if (root === undefined) throw new RpcError("import produced no root");
    return [root.cid];
  }
  return results.filter((entry) => !(entry.path ?? "").includes("/")).map((entry) => entry.cid);
}
