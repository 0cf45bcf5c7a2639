/// <reference lib="esnext.float16" />
/**
 * The network's input tensor for a whole chunk of images, allocated once per chunk
 * and filled image by image as each finishes decoding (with @argus/protocol/input-data's
 * pixel writer, shared with the web UI's recompute), so normalisation overlaps the
 * decoding of the others and nothing is copied twice.
 */
import { Tensor } from "onnxruntime-node";
import type { InputTensorData } from "@argus/protocol/input-data";

export {
  allocateInputData,
  createPixelWriter,
  type InputSpec,
  type InputTensorData,
  inputDims,
  type PixelWriter,
} from "@argus/protocol/input-data";

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
