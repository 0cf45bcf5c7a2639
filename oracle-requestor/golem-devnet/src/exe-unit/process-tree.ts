/**
 * What a sandboxed command costs, read from /proc while it runs: the memory the VM's
 * kernel could not reclaim (anonymous and shared-memory pages of every process in the
 * sandbox, plus what its /tmp tmpfs holds) and the CPU time of the whole tree.
 *
 * Why polling and not the usual mechanisms (measured on the devnet's host, see the
 * exe-unit tests): RLIMIT_AS and RLIMIT_DATA count address space, and V8 reserves
 * hundreds of MiB it never touches (Node fails to start under a 512 MiB RLIMIT_DATA and
 * gets only 448 MiB of buffers under 1 GiB), so neither means "the offer's memory";
 * cgroups may not be delegated to the devnet. A Golem VM's guest kernel OOM-kills a
 * process when its resident memory passes the VM's RAM; the watchdog does the same from
 * outside, SIGKILLing the sandbox the first time a sample is over the limit.
 *
 * CPU: bwrap's monitor does not reap the sandbox's PID 1, so the sandbox's rusage never
 * reaches us; the sum over the live tree of each process's own and reaped-children times
 * (utime + stime + cutime + cstime) is the tree's CPU so far, and the last sample before
 * the sandbox exits is its total (short of at most one polling interval).
 */
import { readdir, readFile, statfs } from "node:fs/promises";

/** Linux reports times in USER_HZ ticks, 100 per second on every architecture Node supports. */
const TICKS_PER_SECOND = 100;
const KIB = 1024;

export interface TreeSample {
  /** Processes in the tree (the root included). */
  processes: number;
  /** Anonymous + shared-memory resident bytes of all processes, plus the sandbox's /tmp usage. */
  memoryBytes: number;
  /** CPU seconds the tree has used so far. */
  cpuSec: number;
}

/** The pids of `root` and its descendants (threads' children included). */
async function treePids(root: number): Promise<number[]> {
  const pids: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    pids.push(pid);
    const tasks = await readdir(`/proc/${pid}/task`).catch(() => []);
    for (const task of tasks) {
      const children = await readFile(`/proc/${pid}/task/${task}/children`, "utf8").catch(() => "");
      for (const child of children.split(" ")) if (child.trim()) queue.push(Number(child));
    }
  }
  return pids;
}

/** Resident anonymous + shmem bytes of one process (0 once it is gone). */
async function residentBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
  let kib = 0;
  for (const line of status.split("\n")) {
    if (line.startsWith("RssAnon:") || line.startsWith("RssShmem:")) kib += Number.parseInt(line.slice(9), 10) || 0;
  }
  return kib * KIB;
}

/** utime + stime + cutime + cstime of one process, in ticks (0 once it is gone). */
async function cpuTicks(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  // Fields after the parenthesised command name (which may hold spaces): state is field 3.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return [11, 12, 13, 14].reduce((sum, index) => sum + (Number(fields[index]) || 0), 0);
}

/** Bytes used on the tmpfs at `/tmp` as seen by `pid` (inside the sandbox's mount namespace). */
async function tmpUsedBytes(pid: number, expectedSize: number): Promise<number> {
  const fs = await statfs(`/proc/${pid}/root/tmp`).catch(() => undefined);
  // Until bwrap has pivoted, the process still sees the host's /tmp: only count the sandbox's own.
  if (fs === undefined || fs.blocks * fs.bsize !== expectedSize) return 0;
  return (fs.blocks - fs.bfree) * fs.bsize;
}

export async function sampleTree(root: number, tmpfsSize: number): Promise<TreeSample> {
  const pids = await treePids(root);
  let memoryBytes = 0;
  let ticks = 0;
  for (const pid of pids) {
    memoryBytes += await residentBytes(pid);
    ticks += await cpuTicks(pid);
  }
  // The sandboxed command is the third generation: bwrap → bwrap (PID 1) → command.
  const inside = pids.length >= 3 ? pids[2] : undefined;
  if (inside !== undefined) memoryBytes += await tmpUsedBytes(inside, tmpfsSize);
  return { processes: pids.length, memoryBytes, cpuSec: ticks / TICKS_PER_SECOND };
}

export interface TreeWatch {
  /** The highest CPU total seen: the tree's CPU seconds so far. */
  cpuSec(): number;
  peakMemoryBytes(): number;
  stop(): void;
}

/**
 * Samples `root`'s tree every `intervalMs` and calls `onOverLimit` (once) the first time
 * its memory is above `limitBytes`.
 */
export function watchTree(
  root: number,
  options: { limitBytes: number; tmpfsSize: number; intervalMs: number; onOverLimit: (sample: TreeSample) => void },
): TreeWatch {
  let cpu = 0;
  let peak = 0;
  let stopped = false;
  let fired = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = async () => {
    if (stopped) return;
    const sample = await sampleTree(root, options.tmpfsSize).catch(() => undefined);
    if (stopped) return;
    if (sample === undefined) {
      timer = setTimeout(tick, options.intervalMs);
      return;
    }
    cpu = Math.max(cpu, sample.cpuSec);
    peak = Math.max(peak, sample.memoryBytes);
    if (!fired && sample.memoryBytes > options.limitBytes) {
      fired = true;
      options.onOverLimit(sample);
    }
    timer = setTimeout(tick, options.intervalMs);
  };
  void tick();
  return {
    cpuSec: () => cpu,
    peakMemoryBytes: () => peak,
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
