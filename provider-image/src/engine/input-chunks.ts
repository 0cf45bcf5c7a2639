/**
 * Decodes a batch's images in parallel and packs them into input chunks, handing each
 * chunk to a consumer (the network) as soon as it is full.
 *
 * A chunk is what one `session.run` takes: every image of the batch when the model's
 * batch dimension is dynamic (up to `maxChunk`), one image at a time (or the fixed
 * size) otherwise — in which case inference of the first images overlaps the decoding
 * of the rest. Images take slots in the order they finish decoding and are written
 * straight into the chunk's preallocated tensor. A rejected image only records its
 * rejection; it never stops the others.
 */
import { forEachBounded } from "./concurrency.ts";
import { decodeImage, type DecodedImage } from "../image/decode-image.ts";
import type { ImageLimits } from "../image/image-limits.ts";
import { ImageRejection } from "../image/image-rejection.ts";
import { allocateInputData, createPixelWriter, type InputSpec, type InputTensorData } from "./input-tensor.ts";
import { readImageFile } from "../image/read-image.ts";

export type ImageSource = { path: string } | { bytes: Uint8Array };

export interface ChunkSlot {
  /** Index of the image in the batch. */
  imageIndex: number;
  decoded: DecodedImage;
  decodeMs: number;
}

export interface InputChunk {
  /** Tensor data for `runSize` images; slots beyond `slots.length` are zero padding. */
  data: InputTensorData;
  runSize: number;
  slots: ChunkSlot[];
}

export interface ChunkingOptions {
  limits: ImageLimits;
  decodeConcurrency: number;
  /** Images per session.run when the batch dimension is dynamic. */
  maxChunk: number;
}

export interface ChunkedModel {
  manifest: InputSpec;
  fixedBatchSize: number | null;
}

/**
 * Decodes `sources` and calls `consume` once per chunk, one call at a time, in fill
 * order. Resolves, after the last chunk has been consumed, with the rejections by image index.
 */
export async function decodeIntoChunks(
  model: ChunkedModel,
  sources: readonly ImageSource[],
  options: ChunkingOptions,
  consume: (chunk: InputChunk) => Promise<void>,
): Promise<Map<number, ImageRejection>> {
  const spec = model.manifest;
  const writePixels = createPixelWriter(spec);
  const valuesPerImage = 3 * spec.input.width * spec.input.height;
  const chunkCapacity = model.fixedBatchSize ?? options.maxChunk;
  const rejections = new Map<number, ImageRejection>();

  let unplaced = sources.length; // neither rejected nor in a chunk yet
  let filling: { data: InputTensorData; capacity: number; slots: ChunkSlot[] } | null = null;
  let consumed = Promise.resolve();
  let consumerFailure: { error: unknown } | undefined;

  const submit = () => {
    if (filling === null || filling.slots.length === 0) return;
    const { data, slots } = filling;
    filling = null;
    // A dynamic batch runs exactly the images it has; a fixed one runs its full size, zero-padded.
    const runSize = model.fixedBatchSize ?? slots.length;
    const chunk = { data: data.subarray(0, runSize * valuesPerImage), runSize, slots };
    // Caught at once (an unobserved rejection would end the process); rethrown at the end.
    consumed = consumed
      .then(() => (consumerFailure === undefined ? consume(chunk) : undefined))
      .catch((error: unknown) => {
        consumerFailure = { error };
      });
  };

  const place = (imageIndex: number, decoded: DecodedImage, decodeMs: number) => {
    if (filling === null) {
      // Sized for the images that can still arrive, so a small batch gets a small tensor.
      const capacity = model.fixedBatchSize ?? Math.min(chunkCapacity, unplaced);
      filling = { data: allocateInputData(spec, capacity), capacity, slots: [] };
    }
    writePixels(decoded.pixels, filling.data, filling.slots.length);
    filling.slots.push({ imageIndex, decoded, decodeMs });
    unplaced--;
    if (filling.slots.length === filling.capacity) submit();
  };

  await forEachBounded(sources.length, options.decodeConcurrency, async (imageIndex) => {
    const started = performance.now();
    try {
      const source = sources[imageIndex]!;
      const bytes = "bytes" in source ? source.bytes : await readImageFile(source.path, options.limits.maxBytes);
      const decoded = await decodeImage(bytes, spec, options.limits);
      place(imageIndex, decoded, performance.now() - started);
    } catch (error) {
      rejections.set(imageIndex, asRejection(error));
      unplaced--;
    }
  });
  submit(); // the last, partly filled chunk
  await consumed;
  if (consumerFailure !== undefined) throw consumerFailure.error;
  return rejections;
}

function asRejection(error: unknown): ImageRejection {
  if (error instanceof ImageRejection) return error;
  // Anything else escaping the decoder is still this image's problem, not the batch's.
  return new ImageRejection("DECODE_FAILED", `the image cannot be decoded: ${(error as Error)?.message ?? String(error)}`, {
    cause: error,
  });
}
