/**
 * Caps on what one image may cost. Both are checked before any pixel is decoded: the
 * byte cap on the file size, the pixel cap on the dimensions its header declares (a
 * tiny PNG can declare 30,000 × 30,000 pixels and would need gigabytes to decode).
 * The defaults are the protocol's (`@argus/protocol/limits`); the environment variables
 * below are the one operator setting for each cap (the oracle reads the same names).
 */
import { MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS } from "@argus/protocol/limits";

export interface ImageLimits {
  /** Largest accepted image file, in bytes. */
  maxBytes: number;
  /** Largest accepted width × height (after taking the first frame), in pixels. */
  maxPixels: number;
}

export const DEFAULT_IMAGE_LIMITS: Readonly<ImageLimits> = Object.freeze({
  maxBytes: MAX_IMAGE_BYTES,
  maxPixels: MAX_IMAGE_PIXELS,
});

/** The environment variable that sets each cap. */
export const IMAGE_LIMITS_ENV: Readonly<Record<keyof ImageLimits, string>> = Object.freeze({
  maxBytes: "ARGUS_MAX_IMAGE_BYTES",
  maxPixels: "ARGUS_MAX_IMAGE_PIXELS",
});
