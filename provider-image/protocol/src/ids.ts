/**
 * Identifiers and digests that every protocol schema shares: model ids, request ids,
 * sha256 hex digests and the file names a batch may refer to.
 *
 * Browser-safe: zod and multiformats only.
 */
import { z } from "zod";
import { isValidImageCid } from "./cid.ts";

/** A model id: the manifest file name without `.json`, e.g. `mobilenetv2-12-int8`. */
export const ModelIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, "a model id is 1–64 of [a-z0-9._-], starting with a letter or digit");

const UINT256_MAX = (1n << 256n) - 1n;

/** An on-chain request id: a uint256 written in decimal, without leading zeros. */
export const RequestIdSchema = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,77})$/, "a request id is a uint256 in decimal without leading zeros")
  .refine((value) => BigInt(value) <= UINT256_MAX, "a request id must fit in a uint256");

/** A sha256 digest as 64 lower-case hex digits (no `0x`). */
export const Sha256HexSchema = z.string().regex(/^[0-9a-f]{64}$/, "a sha256 is 64 lower-case hex digits");

/**
 * A plain file name inside a known folder: no path separators, no leading dot, so a
 * batch or manifest can never point outside the folder it is resolved against.
 */
export const PlainFileNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9_][A-Za-z0-9._-]{0,254}$/, "a file name is 1–255 of [A-Za-z0-9._-], not starting with a dot");

/** An image CID as the contract stores it (CIDv0 or CIDv1, dag-pb or raw, sha2-256; see `cid.ts`). */
export const ImageCidSchema = z.string().max(200).refine(isValidImageCid, "not an image CID (see protocol/cid.ts)");
