/**
 * Caps on what one image may cost. Both are checked before any pixel is decoded: the
 * byte cap on the file size, the pixel cap on the dimensions its header declares (a
 * tiny PNG can declare 30,000 × 30,000 pixels and would need gigabytes to decode).
 */
export interface ImageLimits {
  /** Largest accepted image file, in bytes. */
  maxBytes: number;
  /** Largest accepted width × height (after taking the first frame), in pixels. */
  maxPixels: number;
}

export const DEFAULT_IMAGE_LIMITS: Readonly<ImageLimits> = Object.freeze({
  maxBytes: 2 * 1024 * 1024,
  maxPixels: 40_000_000,
});

/** The defaults, overridden by ARGUS_MAX_IMAGE_BYTES / ARGUS_MAX_IMAGE_PIXELS when set. */
export function imageLimitsFromEnv(env: NodeJS.ProcessEnv = process.env): ImageLimits {
  return {
    maxBytes: positiveIntegerFromEnv(env, "ARGUS_MAX_IMAGE_BYTES") ?? DEFAULT_IMAGE_LIMITS.maxBytes,
    maxPixels: positiveIntegerFromEnv(env, "ARGUS_MAX_IMAGE_PIXELS") ?? DEFAULT_IMAGE_LIMITS.maxPixels,
  };
}

function positiveIntegerFromEnv(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === "") return undefined;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`${name} must be a positive integer, got "${raw}"`);
  return value;
}
