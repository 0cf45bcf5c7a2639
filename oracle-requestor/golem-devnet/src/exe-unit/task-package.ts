/**
 * The demand's `golem.srv.comp.task_package`, parsed as yagna's exe-unit parses it
 * (exe-unit/components/transfer/src/location.rs `parse_hash`):
 * `hash:<alg>:<hex>:<url>`, the algorithm `sha3` with the digest size told by the hex
 * length (ya-transfer's hash.rs: 224, 256, 384 or 512 bits). golem-js writes
 * `hash:sha3:<sha3-224>:<registry download url>`.
 */

/** Transfer errors worded as ya-transfer's `Error` enum displays them (error.rs). */
export class TransferError extends Error {
  override name = "TransferError";
}

export interface TaskPackage {
  /** Node's name for the digest: sha3-224, sha3-256, sha3-384 or sha3-512. */
  algorithm: string;
  /** Lower-case hex digest the downloaded file must have. */
  hash: string;
  url: URL;
}

const TASK_PACKAGE = /^hash:(\/\/)?([^:]+):(0x)?([a-f0-9]+):(.+)$/i;
const SHA3_BITS_BY_HEX_LENGTH: Record<number, number> = { 56: 224, 64: 256, 96: 384, 128: 512 };

export function parseTaskPackage(taskPackage: string): TaskPackage {
  const match = TASK_PACKAGE.exec(taskPackage);
  if (!match) throw new TransferError(`Invalid url: ${taskPackage}`);
  const [, , algorithm = "", , hex = "", location = ""] = match;
  if (algorithm.toLowerCase() !== "sha3") throw new TransferError(`Unsupported digest: ${algorithm}`);
  const bits = SHA3_BITS_BY_HEX_LENGTH[hex.length];
  if (bits === undefined) throw new TransferError(`Unsupported digest: sha3 of ${hex.length * 4} bits`);
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    throw new TransferError(`URL parse error: ${location}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new TransferError(`Unsupported scheme: ${url.protocol.slice(0, -1)}`);
  return { algorithm: `sha3-${bits}`, hash: hex.toLowerCase(), url };
}
