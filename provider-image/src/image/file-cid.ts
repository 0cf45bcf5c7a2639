/**
 * A CID for an image that is only a local file (`npm run predict`): CIDv1, raw codec,
 * sha2-256 of the whole file — the CID of the file's bytes as a single raw block. It
 * names those exact bytes, which is all a local prediction needs; an image pinned to
 * IPFS keeps whatever CID IPFS gave it.
 */
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import * as Digest from "multiformats/hashes/digest";
import { sha256 } from "multiformats/hashes/sha2";
import { sha256OfFile } from "../models/sha256-file.ts";

export async function rawCidOfFile(path: string): Promise<string> {
  return rawCid(await sha256OfFile(path));
}

export async function rawCidOfBytes(bytes: Uint8Array): Promise<string> {
  return rawCid((await sha256.digest(bytes)).digest);
}

function rawCid(sha256Digest: Uint8Array): string {
  return CID.createV1(raw.code, Digest.create(sha256.code, sha256Digest)).toString();
}
