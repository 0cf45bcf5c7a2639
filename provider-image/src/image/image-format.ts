/**
 * Recognises an image container by its leading bytes, before any decoder sees it.
 *
 * This decides the reason code on its own terms instead of parsing a decoder's error
 * text: bytes with a known image signature that fail to decode are DECODE_FAILED;
 * known image formats the engine does not take are UNSUPPORTED_FORMAT (SVG in
 * particular, which libvips would happily render); anything else is NOT_AN_IMAGE.
 */
import type { ImageInfo } from "@argus/protocol/result";

export type SupportedFormat = ImageInfo["format"];

export type SniffedFormat = { kind: "supported"; format: SupportedFormat } | { kind: "unsupported"; name: string } | { kind: "unknown" };

export function sniffImageFormat(bytes: Uint8Array): SniffedFormat {
  const startsWith = (signature: readonly number[], at = 0) => signature.every((byte, index) => bytes[at + index] === byte);
  const ascii = (from: number, to: number) => String.fromCharCode(...bytes.subarray(from, to));

  if (startsWith([0xff, 0xd8, 0xff])) return supported("jpeg");
  if (startsWith([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return supported("png");
  if (ascii(0, 6) === "GIF87a" || ascii(0, 6) === "GIF89a") return supported("gif");
  if (ascii(0, 4) === "RIFF" && ascii(8, 12) === "WEBP") return supported("webp");
  if (ascii(4, 8) === "ftyp") return sniffIsoMedia(bytes);

  if (startsWith([0x49, 0x49, 0x2a, 0x00]) || startsWith([0x4d, 0x4d, 0x00, 0x2a])) return unsupported("TIFF");
  if (ascii(0, 2) === "BM") return unsupported("BMP");
  if (ascii(0, 4) === "%PDF") return unsupported("PDF");
  if (ascii(0, 4) === "8BPS") return unsupported("PSD");
  if (startsWith([0x00, 0x00, 0x01, 0x00]) || startsWith([0x00, 0x00, 0x02, 0x00])) return unsupported("ICO/CUR");
  if (startsWith([0xff, 0x0a]) || (startsWith([0x00, 0x00, 0x00, 0x0c]) && ascii(4, 8) === "JXL ")) return unsupported("JPEG XL");
  if (startsWith([0x00, 0x00, 0x00, 0x0c]) && ascii(4, 8) === "jP  ") return unsupported("JPEG 2000");
  if (startsWith([0x76, 0x2f, 0x31, 0x01])) return unsupported("OpenEXR");
  if (ascii(0, 10) === "#?RADIANCE" || ascii(0, 6) === "#?RGBE") return unsupported("Radiance HDR");
  if (/^P[1-7]\s$/.test(ascii(0, 3))) return unsupported("PNM");
  if (looksLikeSvg(bytes)) return unsupported("SVG");
  return { kind: "unknown" };
}

/** ISO base media (HEIF family): AVIF is supported, HEIC and others are not. */
function sniffIsoMedia(bytes: Uint8Array): SniffedFormat {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const boxSize = bytes.length >= 4 ? view.getUint32(0) : 0;
  const end = Math.min(bytes.length, Math.max(boxSize, 16));
  const brands: string[] = [];
  for (let at = 8; at + 4 <= end; at += 4) {
    if (at === 12) continue; // minor version, not a brand
    brands.push(String.fromCharCode(...bytes.subarray(at, at + 4)));
  }
  if (brands.includes("avif") || brands.includes("avis")) return supported("avif");
  if (brands.some((brand) => ["heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1"].includes(brand))) {
    return unsupported("HEIC/HEIF");
  }
  return { kind: "unknown" }; // MP4, MOV and other ISO media are not images
}

function looksLikeSvg(bytes: Uint8Array): boolean {
  const head = new TextDecoder("utf-8", { fatal: false })
    .decode(bytes.subarray(0, 1024))
    .replace(/^\uFEFF/, "")
    .trimStart();
  if (head.startsWith("<svg")) return true;
  return head.startsWith("<?xml") && head.includes("<svg");
}

function supported(format: SupportedFormat): SniffedFormat {
  return { kind: "supported", format };
}

function unsupported(name: string): SniffedFormat {
  return { kind: "unsupported", name };
}
