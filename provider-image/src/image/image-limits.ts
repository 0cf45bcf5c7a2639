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

/** The defaults, overridden by ARGUS_MAX_IMAGE_BYTES / ARGUS_MAX_IMAGE_PIXELS when set. */
export function imageLimitsFromEnv(env: NodeJS.ProcessEnv = process.env): ImageLimits {
  return {
    maxBytes: positiveIntegerFromEnv(env, IMAGE_LIMITS_ENV.maxBytes) ?? DEFAULT_IMAGE_LIMITS.maxBytes,
    maxPixels: positiveIntegerFromEnv(env, IMAGE_LIMITS_ENV.maxPixels) ?? DEFAULT_IMAGE_LIMITS.maxPixels,
  };
}

function positiveIntegerFromEnv(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === "") return undefined;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`${name} must be a positive integer, got "${raw}"`);
  return value;
}
