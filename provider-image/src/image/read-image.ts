/**
 * Reads one image file for the engine, applying the byte cap from the file's size
 * before reading it: an oversized file is refused without being loaded into memory.
 */
import { open } from "node:fs/promises";
import { imageTooLargeMessage } from "@argus/protocol/limits";
import { ImageRejection } from "./image-rejection.ts";

export async function readImageFile(path: string, maxBytes: number): Promise<Uint8Array> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, "r");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") throw new ImageRejection("FILE_NOT_FOUND", `no image file at ${path}`);
    throw new ImageRejection("READ_FAILED", `cannot open ${path}: ${(error as Error).message}`);
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new ImageRejection("FILE_NOT_FOUND", `${path} is not a regular file`);
    checkByteSize(stats.size, maxBytes);
    const bytes = new Uint8Array(stats.size);
    const { bytesRead } = await handle.read(bytes, 0, stats.size, 0);
    if (bytesRead !== stats.size) throw new ImageRejection("READ_FAILED", `${path} changed while it was read`);
    return bytes;
  } catch (error) {
    if (error instanceof ImageRejection) throw error;
    throw new ImageRejection("READ_FAILED", `cannot read ${path}: ${(error as Error).message}`);
  } finally {
    await handle.close();
  }
}

/** The byte-size rules, shared by files and in-memory images. */
export function checkByteSize(size: number, maxBytes: number): void {
  if (size === 0) throw new ImageRejection("EMPTY", "the image file is empty");
  if (size > maxBytes) throw new ImageRejection("TOO_LARGE_BYTES", imageTooLargeMessage(size, maxBytes));
}
