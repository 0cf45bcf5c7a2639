/**
 * Input tensor memory kept from one batch for the next.
 *
 * A chunk's input data is megabytes (16 MobileNetV2 images: 9.6 MB of float32), which
 * the allocator takes fresh from the kernel each time and the kernel maps page by page
 * on first write. Measured on a 2-core VM, those page faults cost 2.7 ms per 224×224
 * image — as much as its inference — against 0.17 ms for the same writes into memory
 * already mapped. So the engine returns each chunk's data here once the network is
 * done with it, and the next batch of the same shape reuses it.
 *
 * Reused data holds the previous batch's values: callers write every slot they run
 * (input-chunks.ts zeroes a fixed batch's padding itself).
 */
/// <reference lib="esnext.float16" />
import { allocateInputData, type InputSpec, type InputTensorData } from "./input-tensor.ts";

/** What is kept at most, over all shapes (the oldest go first): a few chunks of the largest inputs (331×331 float32 × 16 is 21 MB). */
const MAX_RETAINED_BYTES = 64 * 1024 * 1024;

const idle: InputTensorData[] = []; // oldest first

const dtypeOf = (data: InputTensorData) => (data instanceof Float32Array ? "float32" : "float16");

/** Data for `images` images of `spec`: reused when a returned one fits, else new (zero-filled). */
export function takeInputData(spec: InputSpec, images: number): InputTensorData {
  const length = images * 3 * spec.input.width * spec.input.height;
  const index = idle.findLastIndex((data) => data.length === length && dtypeOf(data) === spec.input.dtype);
  return index < 0 ? allocateInputData(spec, images) : idle.splice(index, 1)[0]!;
}

/** Gives back data from `takeInputData`, once, when nothing reads it any more (the network has returned). */
export function returnInputData(data: InputTensorData): void {
  idle.push(data);
  let retainedBytes = idle.reduce((sum, kept) => sum + kept.byteLength, 0);
  while (retainedBytes > MAX_RETAINED_BYTES) retainedBytes -= idle.shift()!.byteLength;
}
