/**
 * The GVMI file format, as gvmkit-build writes it (src/metadata.rs,
 * `add_metadata_outside`) and ya-runtime-vm reads it (runtime/src/deploy.rs):
 *
 *   squashfs filesystem (mksquashfs pads it to a multiple of 4096 bytes)
 *   CRC-32 (IEEE, little-endian) of the JSON below
 *   the container config as JSON (Docker's ContainerConfig: Env, WorkingDir, Volumes, Entrypoint…)
 *   the JSON's byte length as 8 ASCII decimal digits
 *
 * The VM boots the file as a block device, so the filesystem must start at offset 0;
 * the runtime finds the config by reading backwards from the end.
 */
import { open } from "node:fs/promises";
import { crc32 } from "node:zlib";

export const SQUASHFS_PADDING = 4096;
const LENGTH_DIGITS = 8;
const CRC_BYTES = 4;
const SQUASHFS_MAGIC = "hsqs";
/** squashfs superblock compression ids (squashfs_fs.h). */
const SQUASHFS_COMPRESSORS: Record<number, string> = { 1: "gzip", 2: "lzma", 3: "lzo", 4: "xz", 5: "lz4", 6: "zstd" };

/** The part of Docker's ContainerConfig that a Golem VM uses. */
export interface GvmiContainerConfig {
  Env?: string[];
  WorkingDir?: string;
  Volumes?: Record<string, Record<string, never>>;
  Entrypoint?: string[];
  [other: string]: unknown;
}

export interface GvmiLayout {
  fileSize: number;
  /** Always 0: the filesystem is the start of the file. */
  squashfsOffset: number;
  /** Bytes before the CRC: the padded filesystem. */
  squashfsSize: number;
  /** The superblock's bytes_used: the filesystem without its padding. */
  squashfsBytesUsed: number;
  compression: string;
  crcOffset: number;
  crc: number;
  configJson: string;
  config: GvmiContainerConfig;
}

export class GvmiFormatError extends Error {
  override name = "GvmiFormatError";
}

/** The bytes appended after the squashfs: CRC, JSON, length. */
export function gvmiTrailer(config: GvmiContainerConfig): Buffer {
  const json = Buffer.from(JSON.stringify(config), "utf8");
  if (json.length >= 10 ** LENGTH_DIGITS) throw new GvmiFormatError("container config too large for an 8-digit length");
  const crc = Buffer.alloc(CRC_BYTES);
  crc.writeUInt32LE(crc32(json));
  return Buffer.concat([crc, json, Buffer.from(String(json.length).padStart(LENGTH_DIGITS, "0"), "ascii")]);
}

/** Zero bytes that bring a filesystem of `size` bytes to a multiple of 4096. */
export function paddingFor(size: number): Buffer {
  return Buffer.alloc((SQUASHFS_PADDING - (size % SQUASHFS_PADDING)) % SQUASHFS_PADDING);
}

/** Parses a .gvmi file's trailer and superblock, checking everything the runtime relies on. */
export async function readGvmi(path: string): Promise<GvmiLayout> {
  const file = await open(path, "r");
  try {
    const fileSize = (await file.stat()).size;
    const read = async (position: number, length: number): Promise<Buffer> => {
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await file.read(buffer, 0, length, position);
      if (bytesRead !== length) throw new GvmiFormatError(`${path}: short read at ${position}`);
      return buffer;
    };
    if (fileSize < LENGTH_DIGITS + CRC_BYTES + 96) throw new GvmiFormatError(`${path}: too small to be a GVMI image`);
    const lengthText = (await read(fileSize - LENGTH_DIGITS, LENGTH_DIGITS)).toString("ascii");
    if (!/^\d{8}$/.test(lengthText))
      throw new GvmiFormatError(`${path}: the last 8 bytes are not a decimal length: ${JSON.stringify(lengthText)}`);
    const jsonLength = Number(lengthText);
    const crcOffset = fileSize - LENGTH_DIGITS - jsonLength - CRC_BYTES;
    if (crcOffset < 0) throw new GvmiFormatError(`${path}: config length ${jsonLength} exceeds the file`);
    const crc = (await read(crcOffset, CRC_BYTES)).readUInt32LE(0);
    const jsonBytes = await read(crcOffset + CRC_BYTES, jsonLength);
    if (crc32(jsonBytes) !== crc) throw new GvmiFormatError(`${path}: CRC-32 of the container config does not match`);
    const configJson = jsonBytes.toString("utf8");
    const config = JSON.parse(configJson) as GvmiContainerConfig;

    const superblock = await read(0, 96);
    if (superblock.toString("ascii", 0, 4) !== SQUASHFS_MAGIC) throw new GvmiFormatError(`${path}: no squashfs superblock at offset 0`);
    const compression = SQUASHFS_COMPRESSORS[superblock.readUInt16LE(20)] ?? `unknown (${superblock.readUInt16LE(20)})`;
    const squashfsBytesUsed = Number(superblock.readBigUInt64LE(40));
    const squashfsSize = crcOffset;
    if (squashfsBytesUsed > squashfsSize)
      throw new GvmiFormatError(`${path}: squashfs claims ${squashfsBytesUsed} bytes, only ${squashfsSize} before the trailer`);
    if (squashfsSize % SQUASHFS_PADDING !== 0)
      throw new GvmiFormatError(`${path}: squashfs of ${squashfsSize} bytes is not padded to 4096`);
    return { fileSize, squashfsOffset: 0, squashfsSize, squashfsBytesUsed, compression, crcOffset, crc, configJson, config };
  } finally {
    await file.close();
  }
}
