/**
 * Decoding on a thread of its own (decode-worker.ts), shared by everything in the
 * process: `decodeOnThread(jobs)` sends a batch's images at once and hands each back, in
 * the order they finish, through `onDecoded`. Started on first use; it does not keep the
 * process alive when idle; if it dies, the images it held are rejected and the next use
 * starts a new one.
 */
import { stat } from "node:fs/promises";
import { Worker } from "node:worker_threads";
import type { ErrorCode } from "@argus/protocol/result";
import type { DecodedImage, DecodeTarget } from "./decode-image.ts";
import type { ImageLimits } from "./image-limits.ts";
import { ImageRejection } from "./image-rejection.ts";
import { registerDecodingThread, unregisterDecodingThread } from "./decoding-threads.ts";

export type ImageSource = { path: string } | { bytes: Uint8Array };

export interface DecodeJob {
  id: number;
  source: ImageSource;
  target: DecodeTarget;
  limits: ImageLimits;
}

/** What the decoder thread is sent: an image to decode, and how many it may decode at once. */
export interface DecodeRequest {
  job: DecodeJob;
  concurrency: number;
}

export type DecodeReply =
  | { id: number; decoded: DecodedImage; decodeMs: number }
  | { id: number; error: { code: ErrorCode | undefined; message: string } };

/** The decoder thread's first message, once it is ready: its id, where the platform has one to give. */
export interface DecoderStarted {
  started: true;
  threadId: number | undefined;
}

type Outcome = { decoded: DecodedImage; decodeMs: number } | { rejection: ImageRejection };

let worker: Worker | undefined;
let ready: Promise<void> | undefined;
let nextId = 0;
const pending = new Map<number, (outcome: Outcome) => void>();

function decoder(): Worker {
  if (worker !== undefined) return worker;
  const started = new Worker(new URL("./decode-worker.ts", import.meta.url));
  started.unref();
  let threadId: number | undefined;
  let markReady = () => {};
  ready = new Promise((resolve) => (markReady = resolve));
  started.on("message", (reply: DecodeReply | DecoderStarted) => {
    if ("started" in reply) {
      threadId = reply.threadId;
      if (threadId !== undefined) registerDecodingThread(threadId);
      markReady();
      return;
    }
    const settle = pending.get(reply.id);
    if (settle === undefined) return;
    pending.delete(reply.id);
    if (pending.size === 0) started.unref();
    if ("decoded" in reply) {
      // The pixels arrive as a Uint8Array over the moved memory; the engine reads them as a Buffer.
      const { pixels } = reply.decoded;
      settle({
        decoded: { ...reply.decoded, pixels: Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength) },
        decodeMs: reply.decodeMs,
      });
    } else {
      settle({ rejection: rejectionOf(reply.error.code, reply.error.message) });
    }
  });
  const fail = (error: Error) => {
    if (worker === started) worker = undefined;
    if (threadId !== undefined) unregisterDecodingThread(threadId);
    markReady(); // whoever waits for it finds out from the next decode
    for (const [id, settle] of pending) {
      pending.delete(id);
      settle({ rejection: new ImageRejection("DECODE_FAILED", `the decoder stopped: ${error.message}`, { cause: error }) });
    }
  };
  started.on("error", fail);
  started.on("exit", (code) => fail(new Error(`exit code ${code}`)));
  worker = started;
  return started;
}

/**
 * Starts the decoder thread if it is not running, and resolves once it is ready to
 * decode: for measuring decoding's CPU time without the thread's start-up in it.
 */
export async function decoderReady(): Promise<void> {
  const thread = decoder();
  thread.ref(); // an unreferenced thread would let the process exit while this waits
  try {
    await ready;
  } finally {
    if (pending.size === 0) thread.unref();
  }
}

/**
 * The jobs, largest file first: the biggest images, which decode longest, start while
 * there is other work to overlap them, and the batch ends on small ones (a 1.6 MB PNG
 * decoded last among 15 photos made the batch 13% slower than decoded first). Byte size
 * is the estimate that needs no decoding; a file whose size cannot be read keeps its place
 * at the end, and its decode reports why.
 */
async function largestFirst(jobs: readonly DecodeJob[]): Promise<DecodeJob[]> {
  const sizes = await Promise.all(
    jobs.map(({ source }) =>
      "bytes" in source
        ? source.bytes.length
        : stat(source.path).then(
            (file) => file.size,
            () => -1,
          ),
    ),
  );
  return jobs
    .map((job, index) => ({ job, size: sizes[index]! }))
    .sort((a, b) => b.size - a.size)
    .map(({ job }) => job);
}

function rejectionOf(code: ErrorCode | undefined, message: string): ImageRejection {
  // Anything else escaping the decoder is still this image's problem, not the batch's.
  return code === undefined
    ? new ImageRejection("DECODE_FAILED", `the image cannot be decoded: ${message}`)
    : new ImageRejection(code, message);
}

export interface DecodeFlow {
  /** Images decoding at once. */
  concurrency: number;
  /**
   * Images that may be decoded or decoding but not yet `release`d by the caller (the
   * network has not taken them): decoding pauses there, so that it cannot run ahead and
   * leave the network a long tail to do alone. Infinity: no limit.
   */
  window: number;
}

export interface DecodeRun {
  /** Resolves once every image has been handed to `onDecoded`. */
  done: Promise<void>;
  /** The caller is done with `count` images: as many more may start decoding. */
  release(count: number): void;
}

/**
 * Decodes `sources` for `target` on the decoder thread and calls `onDecoded(index,
 * outcome)` as each finishes, in the order they finish.
 */
export function decodeOnThread(
  sources: readonly ImageSource[],
  target: DecodeTarget,
  limits: ImageLimits,
  flow: DecodeFlow,
  onDecoded: (index: number, outcome: Outcome) => void,
): DecodeRun {
  if (sources.length === 0) return { done: Promise.resolve(), release: () => {} };
  const thread = decoder();
  thread.ref();
  // Only the fields decoding reads go across: a manifest is cloned, not shared.
  const plainTarget = { input: target.input, preprocess: target.preprocess };
  const plainLimits = { maxBytes: limits.maxBytes, maxPixels: limits.maxPixels };
  const jobs: DecodeJob[] = [];
  const done: Promise<void>[] = [];
  for (const [index, source] of sources.entries()) {
    const id = nextId++;
    jobs.push({ id, source, target: plainTarget, limits: plainLimits });
    done.push(
      new Promise<void>((resolve) =>
        pending.set(id, (outcome) => {
          try {
            onDecoded(index, outcome);
          } finally {
            resolve();
          }
        }),
      ),
    );
  }
  let order: DecodeJob[] | undefined; // the jobs in the order they go, once their sizes are known
  let sent = 0;
  let allowed = flow.window;
  const send = () => {
    if (order === undefined) return;
    const count = Math.min(order.length - sent, allowed - sent);
    if (count <= 0) return;
    // One message per image: the decoder starts on the first as soon as its bytes are
    // across, instead of after copying every image of the batch (a megabyte takes it
    // about a millisecond, with the cores idle).
    for (const job of order.slice(sent, sent + count)) thread.postMessage({ job, concurrency: flow.concurrency } satisfies DecodeRequest);
    sent += count;
  };
  void largestFirst(jobs).then((sorted) => {
    order = sorted;
    send();
  });
  return {
    done: Promise.all(done).then(() => undefined),
    release: (count) => {
      allowed += count;
      send();
    },
  };
}
