/**
 * The browser's copy of the engine's preprocessing, on images made here with wasm-vips.
 * That it gives sharp's pixels byte for byte on every shared photo is checked against
 * the engine itself by test/frontend/browser-recompute.test.ts (the web UI may not
 * import the engine); these pin the rules it copies from sharp.
 */
import Vips from "wasm-vips";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DecodeTarget, decodePixels, exifRotation, jpegShrinkOnLoad, type VipsModule } from "./decode-pixels.ts";

const TARGET: DecodeTarget = {
  input: { name: "input", dtype: "float32", layout: "NCHW", width: 8, height: 8 },
  preprocess: {
    resize: { policy: "resize-crop", shortSide: 10 },
    interpolation: "bilinear",
    colorOrder: "RGB",
    scale: 1 / 255,
    mean: [0, 0, 0],
    std: [1, 1, 1],
  },
};
const MAX_PIXELS = 40_000_000;

let vips: VipsModule;
beforeAll(async () => {
  vips = await Vips();
}, 60_000);
afterAll(() => vips?.shutdown());

/** A `width` × `height` sRGB image of one colour (with alpha when `rgba` has 4 values), encoded as `suffix`. */
function solidImage(width: number, height: number, rgba: number[], suffix: string, orientation?: number): Uint8Array {
  const black = vips.Image.black(width, height, { bands: rgba.length });
  const filled = black.add(rgba).cast("uchar");
  const image = filled.copy({ interpretation: "srgb" });
  if (orientation !== undefined) image.setInt("orientation", orientation);
  const bytes = image.writeToBuffer(suffix);
  for (const owned of [black, filled, image]) owned.delete();
  return bytes;
}

describe("jpegShrinkOnLoad: sharp's shrink-on-load factor", () => {
  it.each([
    [1, 1],
    [1.99, 1],
    [2, 1], // integer part 2: decode whole, let the resize halve
    [2.5, 1],
    [3, 2],
    [3.9, 2],
    [4, 2],
    [4.2, 2], // its integer part is 4: halved
    [5, 4],
    [8, 4],
    [8.5, 4],
    [9, 8],
    [30, 8],
  ] as const)("shrink %d → %d", (shrink, factor) => {
    expect(jpegShrinkOnLoad(shrink)).toBe(factor);
  });
});

describe("exifRotation: EXIF orientation as sharp applies it", () => {
  it("maps the eight orientations to rotation and mirror", () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map(exifRotation)).toEqual([
      { rotate: "d0", flop: false },
      { rotate: "d0", flop: true },
      { rotate: "d180", flop: false },
      { rotate: "d180", flop: true },
      { rotate: "d90", flop: true },
      { rotate: "d90", flop: false },
      { rotate: "d270", flop: true },
      { rotate: "d270", flop: false },
    ]);
    expect(exifRotation(0)).toEqual({ rotate: "d0", flop: false });
  });
});

// The first decode compiles libvips' operations: slow on a loaded machine.
describe("decodePixels", { timeout: 30_000 }, () => {
  it("gives input.width × input.height × 3 bytes and the source's size and format", () => {
    const decoded = decodePixels(vips, solidImage(40, 20, [10, 120, 240], ".png"), TARGET, MAX_PIXELS);
    expect(decoded.pixels.length).toBe(8 * 8 * 3);
    expect(decoded.image).toEqual({ width: 40, height: 20, format: "png" });
    expect(decoded.plan).toEqual({ policy: "resize-crop", resizeWidth: 20, resizeHeight: 10, cropLeft: 6, cropTop: 1 });
    expect(new Set(decoded.pixels)).toEqual(new Set([10, 120, 240]));
  });

  it("flattens transparency onto white, as the engine does", () => {
    const decoded = decodePixels(vips, solidImage(16, 16, [0, 0, 0, 0], ".png"), TARGET, MAX_PIXELS);
    expect(decoded.pixels.every((value) => value === 255)).toBe(true);
  });

  it("names each container format as results record it", () => {
    const formats = [".png", ".jpg", ".gif", ".webp"].map(
      (suffix) => decodePixels(vips, solidImage(16, 16, [90, 90, 90], suffix), TARGET, MAX_PIXELS).image.format,
    );
    expect(formats).toEqual(["png", "jpeg", "gif", "webp"]);
  });

  it("reports the size after EXIF rotation (orientation 6: a quarter turn)", () => {
    const decoded = decodePixels(vips, solidImage(40, 20, [50, 60, 70], ".jpg", 6), TARGET, MAX_PIXELS);
    expect(decoded.image).toEqual({ width: 20, height: 40, format: "jpeg" });
    expect(decoded.plan).toMatchObject({ resizeWidth: 10, resizeHeight: 20 });
  });

  it("refuses an image over the pixel cap before resizing it", () => {
    expect(() => decodePixels(vips, solidImage(40, 20, [1, 2, 3], ".png"), TARGET, 799)).toThrow(/800 pixels; the limit is 799/);
  });
});
