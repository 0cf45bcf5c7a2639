/**
 * The decoder thread (decoder-thread.ts starts it): reads and decodes the images it is
 * sent, up to `concurrency` at once, and posts each one back as soon as it is done.
 *
 * Why a thread of its own: onnxruntime-node's `session.run` computes on the calling
 * thread, so while the network runs, the main thread cannot take a decode from one of
 * its steps (header, pixels) to the next, and the cores decoding should use sit idle.
 * Here the steps are driven by this thread's event loop, which the network never blocks;
 * the pixel work itself runs, as before, on libuv's pool.
 */
import { parentPort } from "node:worker_threads";
import sharp from "sharp";
import { decodeImage } from "./decode-image.ts";
import { lowerDecodingPriority } from "./decode-priority.ts";
import { ImageRejection } from "./image-rejection.ts";
import { readImageFile } from "./read-image.ts";
import type { DecodeJob, DecodeReply, DecoderStarted, DecodeRequest } from "./decoder-thread.ts";
import { currentThreadId } from "./decoding-threads.ts";

if (parentPort === null) throw new Error("decode-worker.ts runs as a worker thread (decoder-thread.ts)");
const port = parentPort;
// Ready (sharp loaded); the main thread counts this thread's CPU time as decoding from now on.
port.postMessage({ started: true, threadId: currentThreadId() } satisfies DecoderStarted);
// libvips keeps recent operations' results (up to 50 MB, process-wide) for reuse; every
// image that comes here is a new one, so the cache only costs memory and bookkeeping
// (bench:inference, interleaved A/B: floorRatio 1.04–1.09 without it, 1.12–1.14 with).
sharp.cache(false);

const queue: DecodeJob[] = [];
let running = 0;
let concurrency = 4;

port.on("message", (message: DecodeRequest) => {
  concurrency = message.concurrency;
  queue.push(message.job);
  pump();
});

function pump(): void {
  if (running < concurrency && queue.length > 0) lowerDecodingPriority();
  while (running < concurrency && queue.length > 0) {
    const job = queue.shift()!;
    running++;
    void decode(job).finally(() => {
      running--;
      pump();
    });
  }
}

async function decode(job: DecodeJob): Promise<void> {
  const started = performance.now();
  let reply: DecodeReply;
  try {
    const bytes = "bytes" in job.source ? job.source.bytes : await readImageFile(job.source.path, job.limits.maxBytes);
    const decoded = await decodeImage(bytes, job.target, job.limits);
    reply = { id: job.id, decoded, decodeMs: performance.now() - started };
  } catch (error) {
    const code = error instanceof ImageRejection ? error.code : undefined;
    reply = { id: job.id, error: { code, message: (error as Error)?.message ?? String(error) } };
  }
  if (!("decoded" in reply)) {
    port.postMessage(reply);
    return;
  }
  // Moved, not cloned, to the main thread: a copy of their own first, since sharp's
  // buffer may be external memory or share an ArrayBuffer with others.
  const pixels = new Uint8Array(reply.decoded.pixels);
  port.postMessage({ ...reply, decoded: { ...reply.decoded, pixels } }, [pixels.buffer]);
}
