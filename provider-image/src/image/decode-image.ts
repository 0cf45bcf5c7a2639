/**
 * Decodes one untrusted image into exactly the network's input pixels: 8-bit sRGB,
 * 3 channels, row-major, `input.width` × `input.height`.
 *
 * Order of checks, cheapest first, so a hostile file costs as little as possible:
 * byte size → container signature → header (dimensions, format) → pixel cap → decode.
 * The pixel cap is applied to the header's dimensions before decoding, and again by
 * libvips (`limitInputPixels`) as a second line of defence.
 *
 * Normalisation of everything else the world sends: EXIF orientation is applied (the
 * network sees the photo upright), animated images contribute their first frame,
 * alpha is flattened onto white, CMYK / greyscale / 16-bit / ICC-profiled images
 * are converted to 8-bit sRGB. sharp does the work on libuv's thread pool, so many
 * images decode in parallel while the main thread stays free.
 */
import sharp, { type Metadata, type OutputInfo, type SharpOptions } from "sharp";
import { sniffImageFormat, type SupportedFormat } from "./image-format.ts";
import type { ImageLimits } from "./image-limits.ts";
import { ImageRejection } from "./image-rejection.ts";
import type { ModelManifest } from "@argus/protocol/manifest";
import type { ImageInfo } from "@argus/protocol/result";
import { checkByteSize } from "./read-image.ts";
import { planResize, type ResizePlan } from "./resize-plan.ts";

export type DecodeTarget = Pick<ModelManifest, "input" | "preprocess">;

export interface DecodedImage {
  /** input.height × input.width × 3 bytes, RGB. */
  pixels: Buffer;
  /** The source image: size after EXIF orientation, container format. */
  image: ImageInfo;
  plan: ResizePlan;
}

const KERNELS = { bilinear: "linear", bicubic: "cubic", lanczos3: "lanczos3", nearest: "nearest" } as const;
const FLATTEN_ONTO = { r: 255, g: 255, b: 255 };

/** What `inspectImage` learns from the header of an acceptable image. */
export interface InspectedImage extends ImageInfo {
  hasAlpha: boolean;
}

/** sharp input options for untrusted images. */
function inputOptions(limits: ImageLimits): SharpOptions {
  return {
    pages: 1, // animated GIF/WebP: the first frame only
    page: 0,
    autoOrient: true,
    failOn: "warning", // sharp's advice for untrusted input: truncated or corrupt data is an error
    limitInputPixels: limits.maxPixels,
  };
}

/**
 * Every check that needs no decoding — byte size, signature, header, pixel cap —
 * so the oracle can refuse a bad upload as soon as it fetches it. Throws an
 * ImageRejection (with its reason `code`) exactly as decoding would. Corrupt pixel
 * data (a truncated JPEG) only shows when decoding: that stays the provider's check.
 */
export async function inspectImage(bytes: Uint8Array, limits: ImageLimits): Promise<InspectedImage> {
  checkByteSize(bytes.length, limits.maxBytes);
  const format = acceptedFormat(bytes);
  const metadata = await readHeader(bytes, inputOptions(limits), format);
  const { width, height } = metadata.autoOrient;
  if (width * height > limits.maxPixels) {
    throw new ImageRejection(
      "TOO_MANY_PIXELS",
      `the image declares ${width} × ${height} = ${width * height} pixels; the limit is ${limits.maxPixels}`,
    );
  }
  return { width, height, format, hasAlpha: metadata.hasAlpha };
}

export async function decodeImage(bytes: Uint8Array, target: DecodeTarget, limits: ImageLimits): Promise<DecodedImage> {
  const { width, height, format, hasAlpha } = await inspectImage(bytes, limits);
  const { input, preprocess } = target;
  const plan = planResize(preprocess.resize, { width, height }, input);
  let pipeline = sharp(bytes, inputOptions(limits));
  if (hasAlpha) pipeline = pipeline.flatten({ background: FLATTEN_ONTO });
  pipeline = pipeline
    .toColourspace("srgb")
    .resize(plan.resizeWidth, plan.resizeHeight, { fit: "fill", kernel: KERNELS[preprocess.interpolation] });
  if (plan.policy === "resize-crop") {
    pipeline = pipeline.extract({ left: plan.cropLeft, top: plan.cropTop, width: input.width, height: input.height });
  } else if (plan.policy === "letterbox") {
    const pad = preprocess.resize.policy === "letterbox" ? preprocess.resize.padValue : 0;
    pipeline = pipeline.extend({
      left: plan.padLeft,
      top: plan.padTop,
      right: plan.padRight,
      bottom: plan.padBottom,
      background: { r: pad, g: pad, b: pad },
    });
  }

  let decoded: { data: Buffer; info: OutputInfo };
  try {
    decoded = await pipeline.removeAlpha().raw({ depth: "uchar" }).toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw new ImageRejection("DECODE_FAILED", `the ${format} data cannot be decoded: ${(error as Error).message}`, { cause: error });
  }
  const { data, info } = decoded;
  if (info.width !== input.width || info.height !== input.height || info.channels !== 3) {
    // A bug guard, not an input check: the plan always produces the input size.
    throw new ImageRejection(
      "DECODE_FAILED",
      `decoding produced ${info.width}×${info.height}×${info.channels}, expected ${input.width}×${input.height}×3`,
    );
  }
  return { pixels: data, image: { width, height, format }, plan };
}

function acceptedFormat(bytes: Uint8Array): SupportedFormat {
  const sniffed = sniffImageFormat(bytes);
  if (sniffed.kind === "unknown") throw new ImageRejection("NOT_AN_IMAGE", "the bytes are not an image in any recognised format");
  if (sniffed.kind === "unsupported") {
    throw new ImageRejection("UNSUPPORTED_FORMAT", `${sniffed.name} images are not accepted; send JPEG, PNG, WebP, GIF or AVIF`);
  }
  return sniffed.format;
}

/** Reads only the header; refuses a header that disagrees with the file's signature. */
async function readHeader(bytes: Uint8Array, options: SharpOptions, format: SupportedFormat): Promise<Metadata> {
  let metadata: Metadata;
  try {
    // Without libvips' own pixel limit: it would refuse the header of a bomb with a
    // generic error, and the caller's check names the cause (TOO_MANY_PIXELS).
    metadata = await sharp(bytes, { ...options, limitInputPixels: false }).metadata();
  } catch (error) {
    throw new ImageRejection("DECODE_FAILED", `the ${format} header cannot be read: ${(error as Error).message}`, { cause: error });
  }
  if (metadata.format === "heif" && metadata.compression !== "av1") {
    throw new ImageRejection(
      "UNSUPPORTED_FORMAT",
      `HEIF images compressed with ${metadata.compression ?? "an unknown codec"} are not accepted; AVIF is`,
    );
  }
  const decoderFormat = metadata.format === "heif" ? "avif" : metadata.format;
  if (decoderFormat !== format) {
    throw new ImageRejection("DECODE_FAILED", `the file starts like ${format} but decodes as ${metadata.format}`);
  }
  return metadata;
}
