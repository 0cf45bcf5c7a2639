/// <reference lib="esnext.float16" />
/**
 * A classifier's or detector's input data from 8-bit RGB pixels, as the manifest's
 * `input` and `preprocess` name it: layout, colour order and normalisation
 * `(pixel × scale − mean[c]) / std[c]`. That has only 256 possible results per
 * channel, so it is a table lookup; the same loop writes float32 or float16 (Float16Array
 * rounds on store). Pure and browser-safe: the engine fills whole chunks with it, the web
 * UI's browser recompute one image, so both hand the network the same numbers.
 */
import type { ModelManifest } from "./manifest.ts";

export type InputTensorData = Float32Array | Float16Array;
export type InputSpec = Pick<ModelManifest, "input" | "preprocess">;

/** Zero-filled data for `images` images (zeros also pad a fixed-size batch that is not full). */
export function allocateInputData(spec: InputSpec, images: number): InputTensorData {
  const length = images * 3 * spec.input.width * spec.input.height;
  return spec.input.dtype === "float16" ? new Float16Array(length) : new Float32Array(length);
}

/** The tensor's dims for `images` images in the manifest's layout. */
export function inputDims(spec: InputSpec, images: number): number[] {
  const { width, height, layout } = spec.input;
  return layout === "NCHW" ? [images, 3, height, width] : [images, height, width, 3];
}

/** Writes one image's RGB pixels (HWC, 8-bit) into slot `slot` of a chunk's input data. */
export type PixelWriter = (pixels: Uint8Array, data: InputTensorData, slot: number) => void;

export function createPixelWriter(spec: InputSpec): PixelWriter {
  const { scale, mean, std, colorOrder } = spec.preprocess;
  const lookup = new Float32Array(3 * 256);
  for (let channel = 0; channel < 3; channel++) {
    for (let value = 0; value < 256; value++) lookup[channel * 256 + value] = (value * scale - mean[channel]!) / std[channel]!;
  }
  // Tensor channel c takes source (RGB) channel sourceOf[c].
  const sourceOf = colorOrder === "RGB" ? [0, 1, 2] : [2, 1, 0];
  const plane = spec.input.width * spec.input.height;

  if (spec.input.layout === "NCHW") {
    return (pixels, data, slot) => {
      for (let channel = 0; channel < 3; channel++) {
        const table = channel * 256;
        const out = slot * 3 * plane + channel * plane;
        for (let pixel = 0, at = sourceOf[channel]!; pixel < plane; pixel++, at += 3) data[out + pixel] = lookup[table + pixels[at]!]!;
      }
    };
  }
  return (pixels, data, slot) => {
    const out = slot * 3 * plane;
    for (let pixel = 0; pixel < plane; pixel++) {
      const at = pixel * 3;
      for (let channel = 0; channel < 3; channel++) {
        data[out + at + channel] = lookup[channel * 256 + pixels[at + sourceOf[channel]!]!]!;
      }
    }
  };
}
