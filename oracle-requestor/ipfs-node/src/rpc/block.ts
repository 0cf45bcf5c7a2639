/**
 * `block/get`, `block/stat`, `block/put`: single blocks, as the oracle stores results
 * (one raw block whose sha256 is the on-chain digest).
 */
import { CID } from "multiformats/cid";
import type { MultihashHasher } from "multiformats/hashes/interface";
import { sha256, sha512 } from "multiformats/hashes/sha2";
import { collectBytes } from "../bytes.ts";
import type { RpcCall } from "./context.ts";
import { badRequest, RpcError, toRpcError } from "./errors.ts";
import { MultipartUpload } from "./multipart.ts";
import { parseCidArg } from "./params.ts";
import type { QueryParams } from "./params.ts";
import { sendBytes, sendError, sendJson } from "./respond.ts";

/** Kubo's limit for one block: bigger ones cannot travel over bitswap. */
export const KUBO_BLOCK_SIZE_LIMIT = 1024 * 1024;

const CODECS_BY_NAME = new Map<string, number>([
  ["raw", 0x55],
  ["dag-pb", 0x70],
  ["protobuf", 0x70], // Kubo's legacy name
  ["dag-cbor", 0x71],
  ["cbor", 0x71], // Kubo's legacy name
  ["dag-json", 0x0129],
  ["json", 0x0200],
]);
const HASHERS_BY_NAME = new Map<string, { hasher: MultihashHasher<number>; digestBytes: number }>([
  ["sha2-256", { hasher: sha256, digestBytes: 32 }],
  ["sha2-512", { hasher: sha512, digestBytes: 64 }],
]);

async function readBlock(call: RpcCall, cid: CID): Promise<Uint8Array> {
  return collectBytes(call.context.node.helia.blockstore.get(cid, { signal: call.signal }));
}

export async function handleBlockGet(call: RpcCall): Promise<void> {
  const cid = parseCidArg(call.params.requiredArg("cid"));
  sendBytes(call.response, await readBlock(call, cid));
}

export async function handleBlockStat(call: RpcCall): Promise<void> {
  const cid = parseCidArg(call.params.requiredArg("cid"));
  const bytes = await readBlock(call, cid);
  sendJson(call.response, { Key: cid.toString(), Size: bytes.byteLength });
}

interface BlockFormat {
  version: 0 | 1;
  codec: number;
  hasher: MultihashHasher<number>;
}

/** Kubo's `cid-codec`/`mhtype`, and the legacy `format` ("v0" meaning a CIDv0 dag-pb block). */
function blockFormatFrom(params: QueryParams): BlockFormat {
  const format = params.string("format");
  const codecName = params.string("cid-codec") ?? (format === "v0" ? "dag-pb" : format) ?? "raw";
  const codec = CODECS_BY_NAME.get(codecName);
  if (codec === undefined) throw badRequest(`unknown cid-codec "${codecName}"`);
  const hashName = params.string("mhtype") ?? "sha2-256";
  const { hasher, digestBytes } = HASHERS_BY_NAME.get(hashName) ?? {};
  if (hasher === undefined || digestBytes === undefined)
    throw badRequest(`mhtype "${hashName}" is not supported by this node (sha2-256, sha2-512)`);
  const mhlen = params.integer("mhlen");
  if (mhlen !== undefined && mhlen !== digestBytes) {
    throw badRequest(`mhlen ${mhlen} is not supported: ${hashName} digests are ${digestBytes} bytes`);
  }
  const version = format === "v0" || params.string("version") === "0" ? 0 : 1;
  if (version === 0 && (codec !== 0x70 || hasher.code !== sha256.code)) {
    throw badRequest("a CIDv0 block must be dag-pb hashed with sha2-256");
  }
  return { version, codec, hasher };
}

export async function handleBlockPut(call: RpcCall): Promise<void> {
  const { request, response, params, context, signal } = call;
  const format = blockFormatFrom(params);
  const pin = params.bool("pin", false);
  const allowBigBlock = params.bool("allow-big-block", false);
  const upload = new MultipartUpload(request, context.options.maxUploadBytes);
  let bytes: Uint8Array;
  try {
    upload.checkDeclaredLength();
    bytes = await firstFileBytes(upload);
  } catch (error) {
    const rpcError = toRpcError(error);
    if (rpcError.status === 413) upload.discardRest();
    sendError(response, rpcError, rpcError.status === 413);
    return;
  }
  if (bytes.byteLength > KUBO_BLOCK_SIZE_LIMIT && !allowBigBlock) {
    throw new RpcError(
      `produced block is over 1MiB: big blocks can't be exchanged with other peers. ` +
        "consider using UnixFS for automatic chunking of bigger files, or pass --allow-big-block to override",
    );
  }
  if (format.codec !== 0x55) await assertDecodes(call, format.codec, bytes);

  const cid =
    format.version === 0
      ? CID.createV0(await sha256.digest(bytes)) // blockFormatFrom allows v0 only for dag-pb + sha2-256
      : CID.createV1(format.codec, await format.hasher.digest(bytes));
  await context.node.helia.blockstore.put(cid, bytes, { signal });
  if (pin) await context.pins.pin(cid, { recursive: true, signal });
  sendJson(response, { Key: cid.toString(), Size: bytes.byteLength });
}

async function firstFileBytes(upload: MultipartUpload): Promise<Uint8Array> {
  for await (const part of upload.parts()) {
    if (part.kind !== "file") continue;
    return collectBytes(part.content);
  }
  throw badRequest(`argument "data" is required`);
}

/** A block that does not decode with its codec would break every later DAG walk (pinning, listing). */
async function assertDecodes(call: RpcCall, codecCode: number, bytes: Uint8Array): Promise<void> {
  let codec: Awaited<ReturnType<typeof call.context.node.helia.getCodec>>;
  try {
    codec = await call.context.node.helia.getCodec(codecCode);
  } catch {
    throw badRequest(`codec 0x${codecCode.toString(16)} is not supported by this node`);
  }
  try {
    codec.decode(bytes);
  } catch (error) {
    throw badRequest(`the block does not decode as ${codec.name}: ${(error as Error).message}`);
  }
}
