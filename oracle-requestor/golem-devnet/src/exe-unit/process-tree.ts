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
 * CPU: the VM's processes are not our children (bwrap's PID 1 reaps what a command
 * leaves behind), so their rusage never reaches us; each process's own utime + stime,
 * sampled while it lives, is what it cost (see VmAccounting).
 */
import { readdirSync, readFileSync, statfsSync } from "node:fs";

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
export function treePids(root: number): number[] {
  const pids: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    pids.push(pid);
    for (const task of tryRead(() => readdirSync(`/proc/${pid}/task`), [] as string[])) {
      const children = tryRead(() => readFileSync(`/proc/${pid}/task/${task}/children`, "utf8"), "");
      for (const child of children.split(" ")) if (child.trim()) queue.push(Number(child));
    }
  }
  return pids;
}

/** /proc reads are synchronous on purpose: each is microseconds, and the watchdog samples every VM 20 times a second (async reads cost the devnet seconds of CPU per benchmark). */
function tryRead<T>(read: () => T, otherwise: T): T {
  try {
    return read();
  } catch {
    return otherwise; // the process is gone
  }
}

/** Resident anonymous + shmem bytes of one process (0 once it is gone). */
function residentBytes(pid: number): number {
  const status = tryRead(() => readFileSync(`/proc/${pid}/status`, "utf8"), "");
  let kib = 0;
  for (const line of status.split("\n")) {
    if (line.startsWith("RssAnon:") || line.startsWith("RssShmem:")) kib += Number.parseInt(line.slice(9), 10) || 0;
  }
  return kib * KIB;
}

/** utime + stime of one process itself, in ticks (0 once it is gone). */
function ownCpuTicks(pid: number): number {
  const stat = tryRead(() => readFileSync(`/proc/${pid}/stat`, "utf8"), "");
  // Fields after the parenthesised command name (which may hold spaces): state is field 3.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) || 0) + (Number(fields[12]) || 0);
}

/** Bytes used on the tmpfs at `/tmp` as seen by `pid` (inside the sandbox's mount namespace). */
function tmpUsedBytes(pid: number, expectedSize: number): number {
  const fs = tryRead(() => statfsSync(`/proc/${pid}/root/tmp`), undefined);
  // Until bwrap has pivoted, the process still sees the host's /tmp: only count the sandbox's own.
  if (fs === undefined || fs.blocks * fs.bsize !== expectedSize) return 0;
  return (fs.blocks - fs.bfree) * fs.bsize;
}

/**
 * The VM's processes, sampled: every process under each root (the VM's keeper, whose
 * PID 1 inherits whatever a command leaves running, and the command running now).
 * CPU is kept per process, as the most seen of its own utime + stime, so a process that
 * moves from a command's tree to the keeper's (a server a command started) is counted
 * once; processes that live less than one polling interval are missed.
 */
export class VmAccounting {
  readonly #ticks = new Map<number, number>();
  readonly #tmpfsSize: number;

  constructor(tmpfsSize: number) {
    this.#tmpfsSize = tmpfsSize;
  }

  /** CPU seconds of every process seen so far. */
  cpuSec(): number {
    let ticks = 0;
    for (const value of this.#ticks.values()) ticks += value;
    return ticks / TICKS_PER_SECOND;
  }

  /** Samples the trees under `roots`; `tmpOf` is a process inside the VM whose /tmp is the VM's. */
  sample(roots: readonly number[], tmpOf: number | undefined): TreeSample {
    let memoryBytes = 0;
    let processes = 0;
    for (const root of roots) {
      for (const pid of treePids(root)) {
        processes += 1;
        memoryBytes += residentBytes(pid);
        const ticks = ownCpuTicks(pid);
        if (ticks > (this.#ticks.get(pid) ?? 0)) this.#ticks.set(pid, ticks);
      }
    }
    if (tmpOf !== undefined) memoryBytes += tmpUsedBytes(tmpOf, this.#tmpfsSize);
    return { processes, memoryBytes, cpuSec: this.cpuSec() };
  }
}
