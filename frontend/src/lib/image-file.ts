/**
 * What the app checks about an image before anything is uploaded: its size (the
 * protocol's per-image cap, which the IPFS node, the oracle and the engine enforce too)
 * and its format, read from the file's first bytes rather than trusted from its name or
 * MIME type.
 */
import { imageTooLargeMessage, MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS } from "@argus/protocol/limits";

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

export type ImageCheck =
  | { ok: true; format: ImageFormat; width?: number; height?: number }
  | { ok: false; reason: "empty" | "too-large" | "too-many-pixels" | "not-an-image" | "undecodable"; message: string };

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

/**
 * How the browser reads an image: its dimensions from the header (cheap, no pixels
 * decoded), then a full decode. Injected so the checks run in Node tests too.
 */
export interface ImageDecoder {
  dimensions(file: Blob): Promise<{ width: number; height: number }>;
  /** Resolves once every pixel decoded; rejects when the browser cannot decode it. */
  decode(file: Blob): Promise<void>;
}

/** Checks what only decoding can tell: the pixel cap (before decoding them all), then that the data decodes. */
export type DecodeCheck = { ok: true; width: number; height: number } | Extract<ImageCheck, { ok: false }>;

export async function checkDecodes(file: Blob, decoder: ImageDecoder, name = "The file"): Promise<DecodeCheck> {
  let size: { width: number; height: number };
  try {
    size = await decoder.dimensions(file);
  } catch {
    return undecodable(name);
  }
  const pixels = size.width * size.height;
  if (pixels > MAX_IMAGE_PIXELS) {
    return {
      ok: false,
      reason: "too-many-pixels",
      message:
        `${name} is ${size.width} × ${size.height} pixels (${pixels.toLocaleString("en")}); images can have at most ` +
        `${MAX_IMAGE_PIXELS.toLocaleString("en")} pixels. Resize it and choose it again. Nothing was uploaded.`,
    };
  }
  try {
    await decoder.decode(file);
  } catch {
    return undecodable(name);
  }
  return { ok: true, ...size };
}

function undecodable(name: string): Extract<ImageCheck, { ok: false }> {
  return {
    ok: false,
    reason: "undecodable",
    message: `${name} looks like an image but cannot be decoded: it is corrupt or truncated. Re-export it and choose it again. Nothing was uploaded.`,
  };
}

/** The browser's decoder: an <img> for the header, createImageBitmap for the pixels. */
export const browserDecoder: ImageDecoder = {
  dimensions(file) {
    return new Promise((resolve, reject) => {
      const url = URL.createObjectURL(file);
      const image = new Image();
      image.onload = () => {
        URL.revokeObjectURL(url);
        if (image.naturalWidth === 0 || image.naturalHeight === 0) reject(new Error("no dimensions"));
        else resolve({ width: image.naturalWidth, height: image.naturalHeight });
      };
      image.onerror = () => {
        URL.revokeObjectURL(url);
        reject(new Error("not decodable"));
      };
      image.src = url;
    });
  },
  async decode(file) {
    const bitmap = await createImageBitmap(file);
    bitmap.close();
  },
};

/**
 * Reads what `checkImage` needs from a File (the head is only read for files under the
 * cap), then, with a decoder, checks the pixel cap and that it decodes.
 */
export async function checkImageFile(file: File, decoder?: ImageDecoder): Promise<ImageCheck> {
  const head = file.size > 0 && file.size <= MAX_IMAGE_BYTES ? new Uint8Array(await file.slice(0, 32).arrayBuffer()) : new Uint8Array();
  const name = `“${file.name}”`;
  const check = checkImage(file.size, head, name);
  if (!check.ok || decoder === undefined) return check;
  const decoded = await checkDecodes(file, decoder, name);
  return decoded.ok ? { ...check, width: decoded.width, height: decoded.height } : decoded;
}
