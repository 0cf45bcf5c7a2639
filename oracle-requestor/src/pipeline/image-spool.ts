/**
 * Fetched images wait on disk, not in memory, between their check and their chunk:
 * the queue can hold thousands of requests while the oracle's memory stays flat.
 * One file per request, written atomically, deleted once the request has a result.
 */
import { mkdir, readFile, readdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";

export class ImageSpool {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
  }

  private path(requestId: bigint): string {
    return join(this.dir, requestId.toString());
  }

  async put(requestId: bigint, bytes: Uint8Array): Promise<void> {
    const path = this.path(requestId);
    await writeFile(`${path}.tmp`, bytes);
    await rename(`${path}.tmp`, path);
  }

  /** The spooled image, or undefined when it is gone (then it is fetched again). */
  async get(requestId: bigint): Promise<Uint8Array | undefined> {
    try {
      return await readFile(this.path(requestId));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
  }

  async delete(requestId: bigint): Promise<void> {
    await rm(this.path(requestId), { force: true });
  }

  /** Deletes every file whose request `keep` does not want (leftovers of a crash). */
  async sweep(keep: (requestId: bigint) => boolean): Promise<number> {
    let removed = 0;
    for (const name of await readdir(this.dir)) {
      const id = name.endsWith(".tmp") ? undefined : /^\d+$/.test(name) ? BigInt(name) : undefined;
      if (id !== undefined && keep(id)) continue;
      await rm(join(this.dir, name), { force: true });
      removed++;
    }
    return removed;
  }
}
