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
