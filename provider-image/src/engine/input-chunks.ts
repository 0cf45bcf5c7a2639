/**
 * Decodes a batch's images in parallel and packs them into input chunks, handing each
 * chunk to a consumer (the network) as soon as it can take one, so that inference of
 * the first images overlaps the decoding of the rest and every core stays busy.
 *
 * - Fixed batch dimension: a chunk is that many images, run as soon as it is full (one
 *   image at a time for SqueezeNet and FastestDet).
 * - Dynamic batch dimension (MobileNetV2): whenever the network is idle, everything
 *   decoded since its last run goes through it as one chunk. The first run takes the
 *   first images ready; while it runs the next ones decode, and the next run takes them
 *   all — batches grow to what decoding delivers, and the last run holds only the last
 *   few images, so the tail where nothing else is left to overlap stays short.
 *
 * onnxruntime-node runs the network on this thread, so decoding is told it may go on
 * before each run starts, and decoded images wait in the decoder's messages until the
 * run ends; they are all placed before the next run is formed.
 *
 * Images take slots in the order they finish decoding and are written straight into
 * one tensor (per fixed-size chunk, or for the whole batch when the batch dimension is
 * dynamic, each run taking a contiguous range of it), whose memory is reused from
 * batch to batch (input-buffers.ts). A rejected image only records its rejection; it
 * never stops the others.
 */
import type { DecodedImage } from "../image/decode-image.ts";
import { decodeOnThread, type ImageSource } from "../image/decoder-thread.ts";
import type { ImageLimits } from "../image/image-limits.ts";
import type { ImageRejection } from "../image/image-rejection.ts";
import { returnInputData, takeInputData } from "./input-buffers.ts";
import { createPixelWriter, type InputSpec, type InputTensorData } from "./input-tensor.ts";

export type { ImageSource };

export interface ChunkSlot {
  /** Index of the image in the batch. */
  imageIndex: number;
  decoded: DecodedImage;
  decodeMs: number;
}

export interface InputChunk {
  /**
   * Tensor data for `runSize` images; slots beyond `slots.length` are zero padding.
   * Valid only until `consume` returns: the memory then goes to the next chunk.
   */
  data: InputTensorData;
  runSize: number;
  slots: ChunkSlot[];
}

export interface ChunkingOptions {
  limits: ImageLimits;
  decodeConcurrency: number;
  /**
   * Decoded images that may wait for the network, beyond those decoding: decoding
   * pauses there until the network catches up. Default: `decodeConcurrency`.
   */
  decodeAhead?: number;
  /** Images per session.run when the batch dimension is dynamic. */
  maxChunk: number;
}

export interface ChunkedModel {
  manifest: InputSpec;
  fixedBatchSize: number | null;
}

/** A preallocated tensor and the images placed in it: slots [0, submitted) have gone to the network. */
interface Filling {
  data: InputTensorData;
  capacity: number;
  slots: ChunkSlot[];
  submitted: number;
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
  const fixed = model.fixedBatchSize;
  const rejections = new Map<number, ImageRejection>();

  let unplaced = sources.length; // neither rejected nor in a chunk yet
  const fillings: Filling[] = []; // oldest first; each holds slots not yet submitted, the last may still be filling
  let running = false;
  let consumed = Promise.resolve();
  let consumerFailure: { error: unknown } | undefined;

  const held = new Set<InputTensorData>(); // taken from input-buffers.ts, not yet returned
  const release = (data: InputTensorData) => {
    if (held.delete(data)) returnInputData(data);
  };
  const run = (chunk: InputChunk, lastOf?: Filling) => {
    running = true;
    // Caught at once (an unobserved rejection would end the process); rethrown at the end.
    consumed = consumed
      .then(() => {
        // The network takes these images now, so as many more may decode during the run.
        // Told before the run, not after: the run holds this thread (onnxruntime-node
        // computes on it), and the decoder must not wait for its end to go on.
        decoding.release(chunk.slots.length);
        return consumerFailure === undefined ? consume(chunk) : undefined;
      })
      .catch((error: unknown) => {
        consumerFailure = { error };
      })
      .finally(() => {
        running = false;
        if (lastOf !== undefined) release(lastOf.data); // its earlier runs were consumed before this one
        submitSoon(); // what decoded during this run goes next
      });
  };

  // Submission waits for the end of the event loop's turn: decoded images that arrived
  // while a run held the thread are all queued then, and are all placed before the
  // next run starts, so that it takes them together instead of one at a time.
  let submitScheduled = false;
  const submitSoon = () => {
    if (submitScheduled) return;
    submitScheduled = true;
    setImmediate(() => {
      submitScheduled = false;
      submitWaiting(false);
    });
  };

  /** Sends waiting slots to the network: a fixed batch once full, a dynamic one whenever the network is idle; everything at the end. */
  const submitWaiting = (final: boolean) => {
    const filling = fillings[0];
    if (filling === undefined || filling.submitted === filling.slots.length) return;
    if (fixed !== null) {
      if (filling.slots.length < filling.capacity && !final) return;
      fillings.shift();
      // A fixed batch runs its full size, zero-padded (reused memory holds an earlier batch).
      filling.data.fill(0, filling.slots.length * valuesPerImage);
      run({ data: filling.data, runSize: fixed, slots: filling.slots }, filling);
    } else {
      if (running && !final) return;
      const from = filling.submitted;
      filling.submitted = filling.slots.length;
      const complete = filling.slots.length === filling.capacity;
      if (complete) fillings.shift();
      const slots = filling.slots.slice(from);
      const data = filling.data.subarray(from * valuesPerImage, filling.submitted * valuesPerImage);
      run({ data, runSize: slots.length, slots }, complete ? filling : undefined);
    }
    submitWaiting(final);
  };

  const place = (imageIndex: number, decoded: DecodedImage, decodeMs: number) => {
    let filling = fillings[fillings.length - 1];
    if (filling === undefined || filling.slots.length === filling.capacity) {
      // Sized for the images that can still arrive, so a small batch gets a small tensor.
      const capacity = fixed ?? Math.min(options.maxChunk, unplaced);
      filling = { data: takeInputData(spec, capacity), capacity, slots: [], submitted: 0 };
      held.add(filling.data);
      fillings.push(filling);
    }
    writePixels(decoded.pixels, filling.data, filling.slots.length);
    filling.slots.push({ imageIndex, decoded, decodeMs });
    unplaced--;
    submitSoon();
  };

  // Decoding runs on its own thread, so it goes on while the network holds this one, but
  // never more than `window` images ahead of it.
  // (A fixed batch must be able to fill up, or it would wait for itself.)
  const window = options.decodeConcurrency + Math.max(options.decodeAhead ?? options.decodeConcurrency, fixed ?? 1);
  const decoding = decodeOnThread(
    sources,
    spec,
    options.limits,
    { concurrency: options.decodeConcurrency, window },
    (imageIndex, outcome) => {
      if ("decoded" in outcome) {
        place(imageIndex, outcome.decoded, outcome.decodeMs);
      } else {
        rejections.set(imageIndex, outcome.rejection);
        unplaced--;
        decoding.release(1);
      }
    },
  );
  await decoding.done;
  submitWaiting(true); // the last, partly filled chunk
  await consumed;
  for (const data of held) release(data); // fillings that never filled up (rejections, the last one)
  if (consumerFailure !== undefined) throw consumerFailure.error;
  return rejections;
}
