/**
 * Scratch folders for chunks (batch file, images, results), one per attempt, removed
 * when the attempt ends. A process killed mid-chunk (SIGKILL, OOM, power loss) cannot
 * remove its own, so each folder's name carries its owner's pid, and the next start
 * sweeps the folders whose owner is gone — never those of another live oracle on the
 * same machine.
 */
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export type WorkDirKind = "chunk" | "golem";

const NAME = /^argus-(chunk|golem)-(\d+)-/;

/** A fresh, empty scratch folder owned by this process. */
export function createWorkDir(kind: WorkDirKind, parent = tmpdir()): Promise<string> {
  return mkdtemp(join(parent, `argus-${kind}-${process.pid}-`));
}

/** Removes the scratch folders of processes that no longer run; resolves with how many went. */
export async function removeOrphanedWorkDirs(parent = tmpdir(), isRunning: (pid: number) => boolean = processIsRunning): Promise<number> {
  let removed = 0;
  for (const name of await readdir(parent)) {
    const owner = NAME.exec(name)?.[2];
    if (owner === undefined || isRunning(Number(owner))) continue;
    await rm(join(parent, name), { recursive: true, force: true });
    removed++;
  }
  return removed;
}

function processIsRunning(pid: number): boolean {
  try {
    process.kill(pid, 0); // signal 0: existence and permission check only
    return true;
  } catch (error) {
    // EPERM: it runs, under another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
