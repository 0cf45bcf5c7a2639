/** sha256 of files and buffers (Node only; the protocol modules hash with multiformats). */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Streams the file, so its size does not matter. */
export async function sha256OfFile(path: string): Promise<Buffer> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest();
}
