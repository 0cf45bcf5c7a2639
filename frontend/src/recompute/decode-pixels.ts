/**
 * The engine's image preprocessing, repeated in the browser with wasm-vips: the same
 * libvips (8.18.7, with the same mozjpeg, libpng, libwebp and libheif as sharp's
 * prebuilt one), driven through the same operations in the same order as the engine's
 * `sharp(…).flatten().toColourspace("srgb").resize(…, {fit: "fill"}).extract()/extend()
 * .removeAlpha().raw()` (provider-image/src/image/decode-image.ts). sharp's pipeline
 * (its src/pipeline.cc) is not a plain vips_resize: it decodes large JPEGs at 1/2, 1/4 or
 * 1/8 size (shrink-on-load) and WebP at a reduced scale, converts embedded ICC profiles
 * and CMYK to sRGB, flattens alpha, resizes, and only then applies the EXIF rotation.
 * Each of those steps is repeated here, so the pixels are byte-identical — which
 * `decode-pixels.test.ts` checks against sharp on every shared photo.
 *
 * The geometry (`planResize`) is @argus/protocol's, the engine's own.
 */
import { planResize, type ResizePlan } from "@argus/protocol/resize-plan";
import type { ModelManifest } from "@argus/protocol/manifest";
import type { ImageInfo } from "@argus/protocol/result";

/** The wasm-vips module (what `await Vips()` returns). */
export type VipsModule = Awaited<ReturnType<typeof import("wasm-vips")>>;
type VipsImage = InstanceType<VipsModule["Image"]>;

export type DecodeTarget = Pick<ModelManifest, "input" | "preprocess">;

export interface DecodedPixels {
  /** input.height × input.width × 3 bytes, RGB. */
  pixels: Uint8Array;
  /** The source image: size after EXIF orientation, container format (what results record). */
  image: ImageInfo;
  plan: ResizePlan;
}

/** The engine's `preprocess.interpolation` → libvips kernel names (decode-image.ts's KERNELS). */
const KERNELS = { bilinear: "linear", bicubic: "cubic", lanczos3: "lanczos3", nearest: "nearest" } as const;
const FLATTEN_ONTO = [255, 255, 255];

/** The loader libvips picked → the format name results record. */
const FORMATS: Record<string, ImageInfo["format"]> = {
  jpegload_buffer: "jpeg",
  pngload_buffer: "png",
  gifload_buffer: "gif",
  webpload_buffer: "webp",
  heifload_buffer: "avif",
};
/** Loaders that take `n` / `page` (sharp's ImageTypeSupportsPage): animated images give their first frame. */
const PAGED = new Set(["gif", "webp", "avif"]);

export function decodePixels(vips: VipsModule, bytes: Uint8Array, target: DecodeTarget, maxPixels: number): DecodedPixels {
  const owned: VipsImage[] = [];
  const keep = <T extends VipsImage>(image: T): T => {
    owned.push(image);
    return image;
  };
  try {
    const open = (extra: Record<string, unknown>) => {
      const probe = keep(vips.Image.newFromBuffer(bytes, "", { access: "sequential", fail_on: "warning" }));
      const format = FORMATS[probe.getString("vips-loader")];
      if (format === undefined) throw new Error(`unsupported image loader ${probe.getString("vips-loader")}`);
      if (!PAGED.has(format) && Object.keys(extra).length === 0) return { image: probe, format };
      const options = { access: "sequential", fail_on: "warning", ...(PAGED.has(format) ? { n: 1, page: 0 } : {}), ...extra };
      return { image: keep(vips.Image.newFromBuffer(bytes, "", options as never)), format };
    };
    let { image, format } = open({});
    const orientation = image.getTypeof("orientation") !== 0 ? image.getInt("orientation") : 1;
    const { rotate, flop } = exifRotation(orientation);
    const sideways = rotate === "d90" || rotate === "d270";
    const source = sideways ? { width: image.height, height: image.width } : { width: image.width, height: image.height };
    if (source.width * source.height > maxPixels)
      throw new Error(`the image has ${source.width * source.height} pixels; the limit is ${maxPixels}`);
    const plan = planResize(target.preprocess.resize, source, target.input);
    // sharp resizes before rotating, so its target is in the stored (unrotated) orientation.
    const targetWidth = sideways ? plan.resizeHeight : plan.resizeWidth;
    const targetHeight = sideways ? plan.resizeWidth : plan.resizeHeight;

    // Shrink-on-load, as sharp decides it (fastShrinkOnLoad: true).
    const shrink = Math.min(image.width / targetWidth, image.height / targetHeight);
    if (format === "jpeg") {
      const factor = jpegShrinkOnLoad(shrink);
      if (factor > 1) image = open({ shrink: factor }).image;
    } else if (format === "webp" && shrink > 1) {
      image = open({ scale: 1 / shrink }).image;
    }

    const interpretation = image.interpretation;
    if (hasIccProfile(image) && interpretation !== "labs" && interpretation !== "grey16") {
      try {
        image = keep(
          image.iccTransform(interpretation === "rgb16" ? "p3" : "srgb", {
            embedded: true,
            depth: interpretation === "rgb16" ? 16 : 8,
            intent: "perceptual",
          }),
        );
      } catch {
        // sharp warns and goes on with the untransformed pixels; so does this.
      }
    } else if (interpretation === "cmyk") {
      image = keep(image.iccTransform("srgb", { input_profile: "cmyk", intent: "perceptual" }));
    }
    if (image.hasAlpha()) {
      const multiplier = image.interpretation === "rgb16" || image.interpretation === "grey16" ? 256 : 1;
      image = keep(image.flatten({ background: FLATTEN_ONTO.map((value) => value * multiplier) }));
    }
    const hshrink = image.width / targetWidth;
    const vshrink = image.height / targetHeight;
    if (hshrink !== 1 || vshrink !== 1) {
      image = keep(image.resize(1 / hshrink, { vscale: 1 / vshrink, kernel: KERNELS[target.preprocess.interpolation] }));
    }
    if (rotate !== "d0") image = keep(image.rot(rotate));
    if (flop) image = keep(image.flip("horizontal"));

    const { input } = target;
    if (plan.policy === "resize-crop") {
      image = keep(image.extractArea(plan.cropLeft, plan.cropTop, input.width, input.height));
    }
    if (plan.policy === "letterbox") {
      const pad = target.preprocess.resize.policy === "letterbox" ? target.preprocess.resize.padValue : 0;
      image = keep(
        image.embed(plan.padLeft, plan.padTop, input.width, input.height, { extend: "background", background: [pad, pad, pad] }),
      );
    }
    // sharp's output stage: 16-bit images are cast to ushort, then converted to 8-bit sRGB.
    if (image.interpretation === "rgb16" || image.interpretation === "grey16") image = keep(image.cast("ushort"));
    if (image.interpretation !== "srgb") image = keep(image.colourspace("srgb", { source_space: image.interpretation }));
    if (image.hasAlpha()) image = keep(image.extractBand(0, { n: image.bands - 1 }));
    if (image.format !== "uchar") image = keep(image.cast("uchar"));
    if (image.width !== input.width || image.height !== input.height || image.bands !== 3) {
      throw new Error(`decoding produced ${image.width}×${image.height}×${image.bands}, expected ${input.width}×${input.height}×3`);
    }
    const pixels = new Uint8Array(image.writeToMemory());
    return { pixels, image: { width: source.width, height: source.height, format }, plan };
  } finally {
    for (const image of owned.reverse()) image.delete();
  }
}

/**
 * The factor sharp has libjpeg decode at (1, 2, 4 or 8) for an overall shrink of `shrink`:
 * the largest power of two not above it, halved when the shrink's integer part equals it
 * (so the final resize always does some of the work). sharp's pipeline.cc, fastShrinkOnLoad.
 */
export function jpegShrinkOnLoad(shrink: number): 1 | 2 | 4 | 8 {
  let factor: 1 | 2 | 4 | 8 = shrink >= 8 ? 8 : shrink >= 4 ? 4 : shrink >= 2 ? 2 : 1;
  if (factor > 1 && Math.trunc(shrink) === factor) factor = (factor / 2) as 1 | 2 | 4;
  return factor;
}

/** EXIF orientation → the rotation and mirror sharp applies (its CalculateExifRotationAndFlop). */
export function exifRotation(orientation: number): { rotate: "d0" | "d90" | "d180" | "d270"; flop: boolean } {
  switch (orientation) {
    case 6:
      return { rotate: "d90", flop: false };
    case 3:
      return { rotate: "d180", flop: false };
    case 8:
      return { rotate: "d270", flop: false };
    case 2:
      return { rotate: "d0", flop: true };
    case 7:
      return { rotate: "d270", flop: true };
    case 4:
      return { rotate: "d180", flop: true };
    case 5:
      return { rotate: "d90", flop: true };
    default:
      return { rotate: "d0", flop: false };
  }
}

function hasIccProfile(image: VipsImage): boolean {
  return image.getTypeof("icc-profile-data") !== 0;
}
