/// <reference lib="esnext.float16" />
/**
 * The network's input tensor for a whole chunk of images, allocated once per chunk
 * and filled image by image as each finishes decoding, so normalisation overlaps the
 * decoding of the others and nothing is copied twice.
 *
 * Normalisation `(pixel × scale − mean[c]) / std[c]` has only 256 possible results
 * per channel, so it is a table lookup; the same loop writes float32 or float16
 * (Node 24's Float16Array rounds on store).
 */
import { Tensor } from "onnxruntime-node";
import type { ModelManifest } from "@argus/protocol/manifest";

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

/**
 * An onnxruntime tensor over `data` without copying. onnxruntime-node's native binding
 * does not recognise Float16Array yet, so float16 data is handed to it as a Uint16Array
 * view of the same bytes (the binding only reads the raw buffer).
 */
export function toOrtTensor(data: InputTensorData, dims: readonly number[]): Tensor {
  if (data instanceof Float32Array) return new Tensor("float32", data, dims);
  const bits = new Uint16Array(data.buffer, data.byteOffset, data.length);
  const tensor = new Tensor("float16", bits, dims); // onnxruntime-common wraps this back into a Float16Array…
  Object.defineProperty(tensor, "data", { value: bits }); // …which the binding would read as empty
  return tensor;
}
