/**
 * The image's Debian root filesystem, made by mmdebstrap (no Docker), cached as a tar
 * by content, with every package version recorded in provider-image/image.lock: a
 * rebuild that resolves to other versions fails instead of silently changing the image.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { DEBIAN_ARCH, DEBIAN_MIRROR_DEFAULT, DEBIAN_SUITE, DEBIAN_VARIANT, DPKG_PATH_EXCLUDES } from "./image-contents.ts";

const run = promisify(execFile);

export interface RootfsOptions {
  lockPath: string;
  cacheDir: string;
  /** Rewrite the lock file with what the mirror resolves to today, instead of failing on a difference. */
  refreshLock: boolean;
  /** e.g. a snapshot.debian.org URL, to reproduce an old lock once its versions left the live mirror. */
  mirror?: string | undefined;
  /** Seconds since the epoch stamped on every file (SOURCE_DATE_EPOCH). */
  sourceDateEpoch: number;
  log: (line: string) => void;
}

export class LockMismatchError extends Error {
  override name = "LockMismatchError";
}

/** `package version architecture` lines, sorted: the lock file's body. */
export function lockBody(packages: string): string {
  return `${packages
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "")
    .sort()
    .join("\n")}\n`;
}

function lockHeader(mirror: string): string {
  return [
    "# Debian packages of the provider image's root filesystem (provider-image/src/image-build).",
    `# mmdebstrap --variant=${DEBIAN_VARIANT} --architectures=${DEBIAN_ARCH} ${DEBIAN_SUITE} ${mirror}`,
    "# A build whose packages differ from these fails; refresh deliberately with",
    "#   npm run build:provider-image -- --refresh-lock",
    "",
  ].join("\n");
}

function lockBodyOf(text: string): string {
  return lockBody(
    text
      .split("\n")
      .filter((line) => !line.startsWith("#"))
      .join("\n"),
  );
}

/** Returns the path of a root filesystem tar whose packages equal the lock's. */
export async function debianRootfsTar(options: RootfsOptions): Promise<string> {
  const mirror = options.mirror ?? DEBIAN_MIRROR_DEFAULT;
  const locked = existsSync(options.lockPath) ? lockBodyOf(await readFile(options.lockPath, "utf8")) : undefined;
  const recipe = (body: string) =>
    createHash("sha256")
      .update(JSON.stringify([DEBIAN_SUITE, DEBIAN_VARIANT, DEBIAN_ARCH, DPKG_PATH_EXCLUDES, mirror, options.sourceDateEpoch, body]))
      .digest("hex")
      .slice(0, 24);
  if (locked !== undefined && !options.refreshLock) {
    const cached = join(options.cacheDir, `rootfs-${recipe(locked)}.tar`);
    if (existsSync(cached)) {
      options.log(`root filesystem: cached ${cached}`);
      return cached;
    }
  }
  await mkdir(options.cacheDir, { recursive: true });
  const work = await mkdtemp(join(tmpdir(), "argus-rootfs-"));
  try {
    const tar = join(work, "rootfs.tar");
    options.log(`root filesystem: mmdebstrap ${DEBIAN_SUITE} (${DEBIAN_VARIANT}) from ${mirror}…`);
    await run(
      "mmdebstrap",
      [
        `--variant=${DEBIAN_VARIANT}`,
        `--architectures=${DEBIAN_ARCH}`,
        "--mode=root",
        "--format=tar",
        ...DPKG_PATH_EXCLUDES.map((path) => `--dpkgopt=path-exclude=${path}`),
        DEBIAN_SUITE,
        tar,
        mirror,
      ],
      { env: { ...process.env, SOURCE_DATE_EPOCH: String(options.sourceDateEpoch) }, maxBuffer: 64 << 20 },
    );
    const packages = lockBody(await packagesInTar(tar, work));
    if (locked !== undefined && packages !== locked && !options.refreshLock)
      throw new LockMismatchError(
        `the Debian mirror resolves to other packages than ${options.lockPath}:\n${lockDiff(locked, packages)}\n` +
          "rebuild from a snapshot mirror (ARGUS_DEBIAN_MIRROR=https://snapshot.debian.org/archive/debian/<time>) " +
          "or refresh the lock deliberately: npm run build:provider-image -- --refresh-lock",
      );
    if (locked !== packages) {
      await writeFile(options.lockPath, lockHeader(mirror) + packages);
      options.log(`wrote ${options.lockPath}`);
    }
    const cached = join(options.cacheDir, `rootfs-${recipe(packages)}.tar`);
    await rename(tar, cached);
    return cached;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** The `package version arch` lines of the dpkg status file inside a rootfs tar. */
async function packagesInTar(tar: string, work: string): Promise<string> {
  const admin = join(work, "dpkg");
  await mkdir(admin, { recursive: true });
  await run("tar", ["-xf", tar, "-C", admin, "--strip-components=4", "./var/lib/dpkg/status"]);
  // dpkg-query's own ${field} syntax, not a template string.
  const format = ["Package", "Version", "Architecture"].map((field) => `\${${field}}`).join(" ");
  const { stdout } = await run("dpkg-query", [`--admindir=${admin}`, "-W", "-f", `${format}\\n`]);
  return stdout;
}

function lockDiff(locked: string, found: string): string {
  const before = new Set(locked.split("\n"));
  const after = new Set(found.split("\n"));
  return [
    ...[...before].filter((line) => line !== "" && !after.has(line)).map((line) => `- ${line}`),
    ...[...after].filter((line) => line !== "" && !before.has(line)).map((line) => `+ ${line}`),
  ].join("\n");
}
