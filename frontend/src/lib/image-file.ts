/**
 * What the app checks about an image before anything is uploaded: its size (the
 * protocol's per-image cap, which the IPFS node, the oracle and the engine enforce too)
 * and its format, read from the file's first bytes rather than trusted from its name or
 * MIME type.
 */
import { imageTooLargeMessage, MAX_IMAGE_BYTES } from "@argus/protocol/limits";

/** The formats the engine decodes (the result schema's `image.format`). */
export type ImageFormat = "jpeg" | "png" | "webp" | "gif" | "avif";
export const ACCEPTED_MIME_TYPES = ["image/jpeg", "image/png", "image/webp", "image/gif", "image/avif"] as const;

/** The format of an image from its leading bytes (at least 16 are needed), or undefined. */
export function sniffImageFormat(head: Uint8Array): ImageFormat | undefined {
  const at = (offset: number, ...bytes: number[]) => bytes.every((byte, index) => head[offset + index] === byte);
  const ascii = (offset: number, text: string) => at(offset, ...Array.from(text, (char) => char.charCodeAt(0)));
  if (at(0, 0xff, 0xd8, 0xff)) return "jpeg";
  if (at(0, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return "png";
  if (ascii(0, "GIF87a") || ascii(0, "GIF89a")) return "gif";
  if (ascii(0, "RIFF") && ascii(8, "WEBP")) return "webp";
  if (ascii(4, "ftyp") && (ascii(8, "avif") || ascii(8, "avis"))) return "avif";
  return undefined;
}

export type ImageCheck = { ok: true; format: ImageFormat } | { ok: false; reason: "empty" | "too-large" | "not-an-image"; message: string };

/** Checks size and format; `head` is the file's first bytes. */
export function checkImage(size: number, head: Uint8Array, name = "The file"): ImageCheck {
  if (size === 0) return { ok: false, reason: "empty", message: `${name} is empty. Choose a photo.` };
  if (size > MAX_IMAGE_BYTES) {
    return {
      ok: false,
      reason: "too-large",
      message: `${imageTooLargeMessage(size, MAX_IMAGE_BYTES, name)} Resize or recompress it and choose it again. Nothing was uploaded.`,
    };
  }
  const format = sniffImageFormat(head);
  if (format === undefined) {
    return {
      ok: false,
      reason: "not-an-image",
      message: `${name} is not a JPEG, PNG, WebP, GIF or AVIF image. Nothing was uploaded.`,
    };
  }
  return { ok: true, format };
}

/** Reads what `checkImage` needs from a File (the head is only read for files under the cap). */
export async function checkImageFile(file: File): Promise<ImageCheck> {
  const head = file.size > 0 && file.size <= MAX_IMAGE_BYTES ? new Uint8Array(await file.slice(0, 32).arrayBuffer()) : new Uint8Array();
  return checkImage(file.size, head, `“${file.name}”`);
}
