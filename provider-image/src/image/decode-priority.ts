/**
 * Decoding yields the cores to the network. The threads that decode — libuv's pool
 * (where sharp starts each step) and libvips' workers (where the pixels are computed)
 * — run at a lower scheduling priority (a higher nice value) than the thread that runs
 * onnxruntime, so whenever the network has images to run it gets a core at once, and
 * decoding fills every moment it leaves. Without this the scheduler shares the cores
 * evenly among the four or more decoding threads and the network, the network falls
 * behind, and its backlog runs at the end with nothing left to overlap it. With the
 * network on one thread (intra-op-threads.ts), this took `npm run bench:inference`'s
 * floorRatio on two cores from 1.22 to 1.14 (means of six interleaved runs each).
 *
 * Linux only (per-thread nice values through /proc); elsewhere it does nothing.
 * Raising a nice value needs no privilege. The decoder thread calls this before each
 * decode it starts, since libvips starts workers as it needs them.
 */
import { getPriority, setPriority } from "node:os";
import { forgetThread, poolThreadIds } from "./decoding-threads.ts";

/** The nice value of decoding threads: far enough below the network's priority that it always wins a core; decoding gets the rest. */
export const DECODE_NICE = 10;

export function lowerDecodingPriority(): void {
  if (process.platform !== "linux") return;
  for (const tid of poolThreadIds()) {
    try {
      if (getPriority(tid) !== DECODE_NICE) setPriority(tid, DECODE_NICE);
    } catch {
      forgetThread(tid); // it has ended; its id may come back as another thread
    }
  }
}
