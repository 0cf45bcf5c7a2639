/**
 * The image's inputs key: a sha256 over everything the Docker-free build puts into the
 * image or decides it with — the Debian lock and recipe, the build's own code, the
 * engine and protocol sources and manifests (whose sha256 pins fix the model files),
 * the name and version of every installed production dependency, and the Node binary.
 * Two builds with the same key make the same image, so a build whose key matches the
 * one recorded in image.json is reused instead of redone (`npm start -- --golem-devnet`
 * and `npm run build:provider-image` both rely on it).
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { join, relative } from "node:path";
import {
  APP_SOURCES,
  DEBIAN_ARCH,
  DEBIAN_MIRROR_DEFAULT,
  DEBIAN_SUITE,
  DEBIAN_VARIANT,
  DPKG_PATH_EXCLUDES,
  ENGINE_PACKAGE_DIR,
} from "./image-contents.ts";
import { productionTree } from "./production-tree.ts";

/** The build's own code: a change to how the image is made is a change to the image. */
const BUILD_SOURCES = ["provider-image/src/image-build", "provider-image/image.lock"];

export interface ImageInputsOptions {
  repoRoot: string;
  debianMirror?: string | undefined;
  sourceDateEpoch?: number;
}

/** The build settings read from the environment: ARGUS_DEBIAN_MIRROR and SOURCE_DATE_EPOCH. */
export function imageBuildSettings(env: NodeJS.ProcessEnv): { debianMirror: string | undefined; sourceDateEpoch: number } {
  return {
    debianMirror: env.ARGUS_DEBIAN_MIRROR || undefined,
    sourceDateEpoch: env.SOURCE_DATE_EPOCH === undefined || env.SOURCE_DATE_EPOCH === "" ? 0 : Number(env.SOURCE_DATE_EPOCH),
  };
}

/** Every file under `path` (or `path` itself), relative to `root`, sorted. */
async function filesOf(root: string, path: string): Promise<string[]> {
  const absolute = join(root, path);
  if (!(await stat(absolute)).isDirectory()) return [path];
  const entries = await readdir(absolute, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(root, join(entry.parentPath, entry.name)))
    .sort();
}

async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** The inputs key (64 hex digits) of the image the checkout at `repoRoot` would build. */
export async function imageInputsKey(options: ImageInputsOptions): Promise<string> {
  const { repoRoot } = options;
  const key = createHash("sha256");
  const add = (label: string, value: string) => key.update(`${label}\0${value}\n`);
  add(
    "debian",
    JSON.stringify([DEBIAN_SUITE, DEBIAN_VARIANT, DEBIAN_ARCH, DPKG_PATH_EXCLUDES, options.debianMirror ?? DEBIAN_MIRROR_DEFAULT]),
  );
  add("source-date-epoch", String(options.sourceDateEpoch ?? 0));
  const files = new Set<string>();
  for (const source of [...BUILD_SOURCES, ...APP_SOURCES]) for (const file of await filesOf(repoRoot, source)) files.add(file);
  for (const file of [...files].sort()) add(`file ${file}`, await sha256OfFile(join(repoRoot, file)));
  for (const packageDir of productionTree(repoRoot, ENGINE_PACKAGE_DIR).packageDirs) {
    const manifest = JSON.parse(await readFile(join(repoRoot, packageDir, "package.json"), "utf8")) as { name?: string; version?: string };
    add(`package ${packageDir}`, `${manifest.name}@${manifest.version}`);
  }
  add("node", await sha256OfFile(join(repoRoot, "node_modules/node/bin/node")));
  return key.digest("hex");
}
