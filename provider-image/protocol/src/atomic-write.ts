/**
 * Writes a file so that readers see either nothing or the whole file: a temporary
 * file in the same folder, flushed, then renamed over the target. A requestor that
 * downloads results.json while the provider is still writing never gets half of it.
 * Node only (the one subpath of this package that is): `@argus/protocol/atomic-write`.
 */
import { open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  try {
    const handle = await open(temporary, "wx");
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } finally {
    await rm(temporary, { force: true });
  }
}
