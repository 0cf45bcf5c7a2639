/**
 * Bounded parallelism for work that runs on libuv's thread pool (sharp decoding, file
 * reads): enough tasks in flight to keep every core busy, not so many that they queue
 * inside the pool holding memory.
 */
import { availableParallelism } from "node:os";

/** Runs `task(0..count-1)` with at most `limit` running at once; resolves when all have settled. */
export async function forEachBounded(count: number, limit: number, task: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, count)) }, worker));
}

/**
 * Two decodes per core keep the cores busy while each decode waits on I/O or the
 * main thread; more than libuv's pool size (`poolSize`: UV_THREADPOOL_SIZE, 4 by
 * default, in the provider settings) would only queue.
 */
export function defaultDecodeConcurrency(poolSize = 4): number {
  return Math.max(1, Math.min(poolSize, 2 * availableParallelism()));
}
