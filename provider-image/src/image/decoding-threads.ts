/**
 * Which threads of this process decode images, and how much CPU they have used, told
 * apart through /proc on Linux: libuv's pool (where sharp starts each step), libvips'
 * workers (where the pixels are computed) and the decoder thread itself
 * (decoder-thread.ts, which registers its id). decode-priority.ts lowers their priority;
 * intra-op-threads.ts weighs their CPU time against the network's.
 *
 * libuv's pool is shared with the rest of the process (file system, crypto, zlib), so
 * their work counts here too; it is small beside decoding wherever the engine runs.
 */
import { readdirSync, readFileSync } from "node:fs";

const POOL_THREAD = /^(libuv-worker|libvips worker)$/;
/** Thread ids already looked at, and whether each is one of the pools'. */
const known = new Map<number, boolean>();
const registered = new Set<number>();

/** The id of the calling thread (Linux), for `registerDecodingThread`. */
export function currentThreadId(): number | undefined {
  if (process.platform !== "linux") return undefined;
  try {
    return Number(readFileSync("/proc/thread-self/stat", "utf8").split(" ", 1)[0]);
  } catch {
    return undefined;
  }
}

/** Counts thread `tid` as decoding (the decoder thread, whose name is the generic one of a worker). */
export function registerDecodingThread(tid: number): void {
  registered.add(tid);
}

/** Forgets a registered thread that has ended. */
export function unregisterDecodingThread(tid: number): void {
  registered.delete(tid);
}

/** The ids of libuv's and libvips' pool threads now alive; empty where /proc cannot tell. */
export function poolThreadIds(): number[] {
  const ids: number[] = [];
  for (const tid of taskIds()) {
    let pool = known.get(tid);
    if (pool === undefined) {
      pool = POOL_THREAD.test(threadName(tid));
      known.set(tid, pool);
    }
    if (pool) ids.push(tid);
  }
  return ids;
}

/** Forgets what `poolThreadIds` knew of `tid`: it has ended, and its id may come back as another thread. */
export function forgetThread(tid: number): void {
  known.delete(tid);
}

/**
 * CPU time in milliseconds used so far by every decoding thread alive, or undefined where
 * it cannot be read (not Linux, no scheduler statistics). A thread that ends between two
 * readings takes its time with it, so compare readings over work that keeps its threads:
 * libuv's and libvips' pools and the decoder thread live as long as the process uses them.
 */
export function decodingCpuMs(): number | undefined {
  if (process.platform !== "linux") return undefined;
  let totalNs = 0;
  for (const tid of new Set([...poolThreadIds(), ...registered])) {
    const ns = threadCpuNs(tid);
    if (ns === undefined) {
      if (!existsTask(tid)) continue;
      return undefined;
    }
    totalNs += ns;
  }
  return totalNs / 1e6;
}

function threadCpuNs(tid: number): number | undefined {
  try {
    // schedstat: time on a CPU (ns), time waiting for one (ns), timeslices.
    const onCpu = Number(readFileSync(`/proc/self/task/${tid}/schedstat`, "utf8").split(" ", 1)[0]);
    return Number.isFinite(onCpu) ? onCpu : undefined;
  } catch {
    return undefined;
  }
}

function existsTask(tid: number): boolean {
  try {
    readFileSync(`/proc/self/task/${tid}/comm`);
    return true;
  } catch {
    forgetThread(tid);
    return false;
  }
}

function taskIds(): number[] {
  try {
    return readdirSync("/proc/self/task").map(Number);
  } catch {
    return [];
  }
}

function threadName(tid: number): string {
  try {
    return readFileSync(`/proc/self/task/${tid}/comm`, "utf8").trim();
  } catch {
    return "";
  }
}
