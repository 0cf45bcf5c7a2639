/**
 * How many images decode at once (on the decoder thread, their pixel work on libuv's
 * pool): enough to keep every core busy, not so many that they queue inside the pool
 * holding memory.
 */
import { availableParallelism } from "node:os";

/**
 * Two decodes per core keep the cores busy while each decode waits on I/O or the
 * main thread; more than libuv's pool size (`poolSize`: UV_THREADPOOL_SIZE, 4 by
 * default, in the provider settings) would only queue.
 */
export function defaultDecodeConcurrency(poolSize = 4): number {
  return Math.max(1, Math.min(poolSize, 2 * availableParallelism()));
}
