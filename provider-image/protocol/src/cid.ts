/**
 * The CID conventions every Argus package shares (contracts, oracle, CLI, web UI).
 *
 * - A **result** is one JSON document stored as a single raw block: CIDv1, codec `raw`,
 *   hash sha2-256. The escrow contract stores only the 32-byte sha256 digest, so the
 *   result's CID follows from the on-chain digest alone, and anyone holding the bytes can
 *   check them with `sha256(bytes) == digest`.
 * - An **image** is whatever the user pinned: a UnixFS file as CIDv0 (`Qm…`, dag-pb) or
 *   CIDv1 (`bafy…` dag-pb, or `bafk…` raw when a small file was added with raw leaves).
 *   The contract stores it as the CID's binary form in a `bytes` field: 34 bytes for
 *   CIDv0 (a CIDv0's binary form is its multihash) and 36 bytes for a sha2-256 CIDv1.
 *
 * Browser-safe: depends on multiformats only.
 */
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import * as Digest from "multiformats/hashes/digest";
import { sha256 } from "multiformats/hashes/sha2";

export const RAW_CODEC = raw.code; // 0x55
export const DAG_PB_CODEC = 0x70;
export const SHA2_256_CODE = sha256.code; // 0x12
export const SHA2_256_DIGEST_BYTES = 32;

/** A 32-byte digest as bytes or as the `0x…` hex string a contract call returns. */
export type DigestInput = Uint8Array | `0x${string}`;

/** The CID type of a result block: CIDv1, raw, sha2-256. */
export type ResultCid = CID<Uint8Array, typeof RAW_CODEC, typeof SHA2_256_CODE, 1>;

/** Thrown for anything that is not a CID these conventions accept; the message says why. */
export class InvalidCidError extends Error {
  override name = "InvalidCidError";
}

/** The result CID that the on-chain digest names. */
export function resultCidFromDigest(digest: DigestInput): ResultCid {
  const bytes = digestBytes(digest);
  return CID.createV1(RAW_CODEC, Digest.create(SHA2_256_CODE, bytes));
}

/**
 * The 32-byte sha256 digest that a result CID stands for, as the contract stores it.
 * Rejects every CID that is not CIDv1 / raw / sha2-256: another CID could not have been
 * derived from an on-chain digest, so accepting it would hide a bug.
 */
export function digestFromResultCid(cid: CID | string): Uint8Array {
  const parsed = parseCid(cid);
  if (parsed.version !== 1 || parsed.code !== RAW_CODEC) {
    throw new InvalidCidError(
      `result CID ${parsed} must be CIDv1 with codec raw (0x55), not v${parsed.version} codec 0x${parsed.code.toString(16)}`,
    );
  }
  assertSha256(parsed, "result CID");
  return parsed.multihash.digest;
}

/** The result CID of `bytes`: what `block/put` with codec raw and sha2-256 answers. */
export async function resultCidForBytes(bytes: Uint8Array): Promise<ResultCid> {
  const digest = await sha256.digest(bytes);
  return CID.createV1(RAW_CODEC, digest);
}

/** True when `bytes` hash to `digest`: the check every reader of a result makes. */
export async function resultBytesMatchDigest(bytes: Uint8Array, digest: DigestInput): Promise<boolean> {
  const expected = digestBytes(digest);
  const actual = (await sha256.digest(bytes)).digest;
  return actual.length === expected.length && actual.every((byte, index) => byte === expected[index]);
}

/**
 * The binary form the contract stores for an image CID: the multihash for CIDv0,
 * the full CID bytes for CIDv1. Accepts `Qm…`, `bafy…`/`bafk…` strings and CID objects.
 */
export function imageCidToBytes(cid: CID | string): Uint8Array {
  const parsed = parseCid(cid);
  assertImageCid(parsed);
  return parsed.bytes;
}

/** The image CID stored on-chain as `bytes` (raw bytes or `0x…` hex), in its original version. */
export function imageCidFromBytes(bytes: Uint8Array | `0x${string}`): CID {
  const binary = typeof bytes === "string" ? hexToBytes(bytes) : bytes;
  let parsed: CID;
  try {
    parsed = CID.decode(binary);
  } catch (error) {
    throw new InvalidCidError(`${binary.length} bytes are not a binary CID: ${(error as Error).message}`);
  }
  assertImageCid(parsed);
  return parsed;
}

/** True for a string that `imageCidToBytes` accepts. */
export function isValidImageCid(cid: string): boolean {
  try {
    imageCidToBytes(cid);
    return true;
  } catch {
    return false;
  }
}

function assertImageCid(cid: CID): void {
  if (cid.code !== DAG_PB_CODEC && cid.code !== RAW_CODEC) {
    throw new InvalidCidError(`image CID ${cid} has codec 0x${cid.code.toString(16)}; a UnixFS file is dag-pb (0x70) or raw (0x55)`);
  }
  assertSha256(cid, "image CID");
}

function assertSha256(cid: CID, what: string): void {
  if (cid.multihash.code !== SHA2_256_CODE || cid.multihash.digest.length !== SHA2_256_DIGEST_BYTES) {
    throw new InvalidCidError(
      `${what} ${cid} must use a full sha2-256 multihash, not hash 0x${cid.multihash.code.toString(16)} ` +
        `of ${cid.multihash.digest.length} bytes`,
    );
  }
}

function parseCid(cid: CID | string): CID {
  if (typeof cid !== "string") {
    const asCid = CID.asCID(cid);
    if (asCid == null) throw new InvalidCidError(`${String(cid)} is not a CID`);
    return asCid;
  }
  const trimmed = cid.trim();
  try {
    return CID.parse(trimmed);
  } catch (error) {
    throw new InvalidCidError(`"${trimmed}" is not a CID: ${(error as Error).message}`);
  }
}

function digestBytes(digest: DigestInput): Uint8Array {
  const bytes = typeof digest === "string" ? hexToBytes(digest) : digest;
  if (bytes.length !== SHA2_256_DIGEST_BYTES) {
    throw new InvalidCidError(`a sha256 digest is ${SHA2_256_DIGEST_BYTES} bytes, got ${bytes.length}`);
  }
  return bytes;
}

function hexToBytes(hex: string): Uint8Array {
  const body = hex.startsWith("0x") || hex.startsWith("0X") ? hex.slice(2) : hex;
  if (body.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(body)) {
    throw new InvalidCidError(`"${hex}" is not an even-length hex string`);
  }
  const bytes = new Uint8Array(body.length / 2);
  for (let index = 0; index < bytes.length; index++) {
    bytes[index] = Number.parseInt(body.slice(index * 2, index * 2 + 2), 16);
  }
  return bytes;
}

/**
 * An image CID as the escrow stores it (raw bytes), as text; the bytes as hex when
 * they are not a valid CID — such a request is shown, and rejected with a refund, never
 * dropped.
 */
export function imageCidText(bytes: Uint8Array | `0x${string}`): string {
  try {
    return imageCidFromBytes(bytes).toString();
  } catch {
    return typeof bytes === "string" ? bytes : `0x${Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("")}`;
  }
}
