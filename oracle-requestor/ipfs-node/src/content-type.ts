/**
 * The Content-Type the gateway sends: from the file name when the path has one, else
 * from the first bytes (images are usually added without a name, and results are raw
 * blocks that never have one).
 */
const BY_EXTENSION: Record<string, string> = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  bmp: "image/bmp",
  avif: "image/avif",
  svg: "image/svg+xml",
  ico: "image/x-icon",
  json: "application/json",
  txt: "text/plain; charset=utf-8",
  html: "text/html; charset=utf-8",
  htm: "text/html; charset=utf-8",
  css: "text/css; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  pdf: "application/pdf",
  onnx: "application/octet-stream",
};

const SIGNATURES: Array<{ type: string; matches: (bytes: Uint8Array) => boolean }> = [
  { type: "image/png", matches: (b) => startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) },
  { type: "image/jpeg", matches: (b) => startsWith(b, [0xff, 0xd8, 0xff]) },
  { type: "image/gif", matches: (b) => ascii(b, 0, 6) === "GIF87a" || ascii(b, 0, 6) === "GIF89a" },
  { type: "image/webp", matches: (b) => ascii(b, 0, 4) === "RIFF" && ascii(b, 8, 12) === "WEBP" },
  { type: "image/bmp", matches: (b) => ascii(b, 0, 2) === "BM" && b.length >= 14 },
  { type: "image/avif", matches: (b) => ascii(b, 4, 12) === "ftypavif" },
  { type: "application/pdf", matches: (b) => ascii(b, 0, 5) === "%PDF-" },
];

export function contentTypeFor(path: string, firstBytes: Uint8Array | undefined): string {
  const name = path.split("/").at(-1) ?? "";
  const dot = name.lastIndexOf(".");
  if (dot > 0) {
    const known = BY_EXTENSION[name.slice(dot + 1).toLowerCase()];
    if (known !== undefined) return known;
  }
  return sniff(firstBytes ?? new Uint8Array());
}

export function sniff(bytes: Uint8Array): string {
  for (const signature of SIGNATURES) {
    if (signature.matches(bytes)) return signature.type;
  }
  const text = decodeUtf8(bytes);
  // Valid UTF-8 can still be binary: control characters other than whitespace give it away.
  if (text === undefined || /[\u0000-\u0008\u000b\u000e-\u001f\u007f]/.test(text)) return "application/octet-stream";
  const start = text.trimStart()[0];
  // Results are JSON documents; browsers show JSON nicely when told it is JSON.
  if ((start === "{" || start === "[") && isJson(text)) return "application/json";
  return "text/plain; charset=utf-8";
}

function startsWith(bytes: Uint8Array, prefix: number[]): boolean {
  return prefix.every((byte, index) => bytes[index] === byte);
}

function ascii(bytes: Uint8Array, start: number, end: number): string {
  return bytes.length >= end ? String.fromCharCode(...bytes.subarray(start, end)) : "";
}

function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    // A chunk boundary may split the last character: tolerate an incomplete tail.
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes, { stream: true });
  } catch {
    return undefined;
  }
}

/**
 * Whether the first chunk is a whole JSON document. Results are single blocks, so they
 * always arrive whole; a JSON file bigger than its first chunk is served as text.
 */
function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
