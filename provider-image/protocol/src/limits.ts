/**
 * The size limits every part of Argus assumes, defined once: what one image may be
 * (bytes and pixels), how many requests one batch carries, and how large one result
 * may be. The web UI refuses an image before uploading it, the IPFS node before
 * storing it, the oracle before queueing it and the engine before decoding it, all
 * against these defaults (operators may change the image caps: see the engine's
 * ARGUS_MAX_IMAGE_BYTES / ARGUS_MAX_IMAGE_PIXELS).
 *
 * Browser-safe: no imports at all.
 */

/** 2 MiB: the largest image file accepted by default. */
export const MAX_IMAGE_BYTES = 2 * 1024 * 1024;

/** 40 MP: the largest width × height (first frame, after EXIF orientation) accepted by default. */
export const MAX_IMAGE_PIXELS = 40_000_000;

/** Most requests one batch (one Golem task, one chunk) carries. */
export const MAX_BATCH_SIZE = 16;

/** 1 MiB: a result is one small raw IPFS block; anything bigger is not a result. */
export const MAX_RESULT_BYTES = 1024 * 1024;

/** Bytes in binary units, as the image cap is defined: "812 KiB", "1.9 MiB", "2 MiB". */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KiB`;
  const mebibytes = bytes / (1024 * 1024);
  return `${Number.isInteger(mebibytes) ? mebibytes : mebibytes.toFixed(1)} MiB`;
}

/**
 * The one wording of "this image is over the byte cap", for the web UI, the CLI and the
 * engine's TOO_LARGE_BYTES error: `the image file is 2.1 MiB (2,200,000 bytes); images
 * can be at most 2 MiB (2,097,152 bytes).`
 */
export function imageTooLargeMessage(size: number, maxBytes = MAX_IMAGE_BYTES, name = "the image file"): string {
  return (
    `${name} is ${formatBytes(size)} (${size.toLocaleString("en")} bytes); images can be at most ` +
    `${formatBytes(maxBytes)} (${maxBytes.toLocaleString("en")} bytes).`
  );
}
