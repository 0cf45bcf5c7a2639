/**
 * mksquashfs with gvmkit-build's settings (lzo, -noappend) plus what makes the result
 * depend on the contents only: every file owned by root, one fixed timestamp.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

export async function makeSquashfs(rootDir: string, output: string, sourceDateEpoch: number): Promise<void> {
  await run(
    "mksquashfs",
    [
      rootDir,
      output,
      "-comp",
      "lzo",
      "-noappend",
      "-all-root",
      "-no-progress",
      "-all-time",
      String(sourceDateEpoch),
      "-mkfs-time",
      String(sourceDateEpoch),
    ],
    { maxBuffer: 64 << 20 },
  );
}
