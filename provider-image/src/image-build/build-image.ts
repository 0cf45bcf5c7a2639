/**
 * Builds provider-image/dist/argus-provider.gvmi without Docker: Debian root filesystem
 * (mmdebstrap, locked versions) + the app (stage-app.ts) → squashfs → GVMI trailer,
 * then reads the file back with the same reader the tests use, hashes it as
 * gvmkit-build does (sha3-224 of the whole file) and writes dist/image.json
 * (build-output.ts). With `reuse`, an image whose recorded inputs key (image-inputs.ts)
 * is the checkout's is kept as it is.
 */
import { execFile } from "node:child_process";
import { appendFile, mkdir, mkdtemp, rename, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isDeepStrictEqual, promisify } from "node:util";
import { IMAGE_FILE_NAME, readImageRecord, sha3_224OfFile, verifyImageRecord, writeImageRecord } from "./build-output.ts";
import { debianRootfsTar } from "./debian-rootfs.ts";
import { gvmiTrailer, type GvmiContainerConfig, paddingFor, readGvmi } from "./gvmi-format.ts";
import { APP_DIR, IMAGE_ENTRYPOINT, IMAGE_ENV, IMAGE_VOLUMES } from "./image-contents.ts";
import { imageInputsKey } from "./image-inputs.ts";
import { makeSquashfs } from "./squashfs.ts";
import { stageApp } from "./stage-app.ts";
import type { ReferencePhotosSource } from "../models/reference-set.ts";

const run = promisify(execFile);

/** The commands the build runs, and the Debian package that provides each. */
export const BUILD_TOOLS: Readonly<Record<string, string>> = {
  mmdebstrap: "mmdebstrap",
  mksquashfs: "squashfs-tools",
  "dpkg-query": "dpkg",
  tar: "tar",
};

export interface BuildImageOptions {
  repoRoot: string;
  modelsDir: string;
  /** The self-test's photos, copied into the image (downloaded first when the folder is their cache). */
  referencePhotos: ReferencePhotosSource;
  outputDir: string;
  refreshLock?: boolean;
  debianMirror?: string | undefined;
  sourceDateEpoch?: number;
  /** Keep the image in `outputDir` if its record says it was built from the same inputs. */
  reuse?: boolean;
  log?: (line: string) => void;
}

export interface BuiltImage {
  file: string;
  /** sha3-224 of the whole .gvmi, 56 hex digits: what the registry and Golem demands name. */
  hash: string;
  sizeBytes: number;
  squashfsBytes: number;
  buildSeconds: number;
  /** What went in (image-inputs.ts). */
  inputsKey: string;
  /** True when `reuse` found it already built from these inputs (buildSeconds is then the original build's). */
  reused: boolean;
}

export function imageContainerConfig(): GvmiContainerConfig {
  return {
    Env: [...IMAGE_ENV],
    WorkingDir: APP_DIR,
    Volumes: Object.fromEntries(IMAGE_VOLUMES.map((volume) => [volume, {}])),
    Entrypoint: [...IMAGE_ENTRYPOINT],
  };
}

/** The tools from BUILD_TOOLS (or `tools`) that are not on PATH, with their Debian packages. */
export async function missingTools(tools: Readonly<Record<string, string>> = BUILD_TOOLS): Promise<string[]> {
  const missing: string[] = [];
  for (const [tool, debianPackage] of Object.entries(tools)) {
    const found = await run("sh", ["-c", `command -v ${tool}`]).then(
      () => true,
      () => false,
    );
    if (!found) missing.push(`${tool} (Debian package ${debianPackage})`);
  }
  return missing;
}

export { sha3_224OfFile };

/** The image already in `outputDir`, if its record names these inputs and its file is the recorded size. */
async function builtFrom(outputDir: string, inputsKey: string): Promise<BuiltImage | undefined> {
  const record = await readImageRecord(outputDir).catch(() => undefined);
  if (record?.inputsKey !== inputsKey) return undefined;
  if (
    !(await verifyImageRecord(record, { quick: true }).then(
      () => true,
      () => false,
    ))
  )
    return undefined;
  const { imagePath, hash, sizeBytes, squashfsBytes, buildSeconds } = record;
  return { file: imagePath, hash, sizeBytes, squashfsBytes, buildSeconds, inputsKey, reused: true };
}

export async function buildImage(options: BuildImageOptions): Promise<BuiltImage> {
  const started = performance.now();
  const log = options.log ?? ((line: string) => console.error(line));
  const sourceDateEpoch = options.sourceDateEpoch ?? 0;
  const inputsKey = await imageInputsKey({ repoRoot: options.repoRoot, debianMirror: options.debianMirror, sourceDateEpoch });
  if (options.reuse) {
    const existing = await builtFrom(options.outputDir, inputsKey);
    if (existing) {
      log(`image up to date: ${existing.file} was built from these inputs (key ${inputsKey.slice(0, 16)}…)`);
      return existing;
    }
  }
  const missing = await missingTools();
  if (missing.length > 0) throw new Error(`building the image needs ${missing.join(", ")}: apt-get install them`);
  // mmdebstrap's root mode and keeping the rootfs' owners while staging need root.
  if (process.getuid?.() !== 0) throw new Error("building the image needs root (mmdebstrap --mode=root)");
  const nodeBinary = join(options.repoRoot, "node_modules/node/bin/node");
  const { stdout: nodeVersion } = await run(nodeBinary, ["--version"]);
  if (!nodeVersion.startsWith("v24.")) throw new Error(`${nodeBinary} is Node ${nodeVersion.trim()}, the image needs Node 24`);

  const rootfsTar = await debianRootfsTar({
    lockPath: join(options.repoRoot, "provider-image/image.lock"),
    cacheDir: join(options.repoRoot, "node_modules/.cache/argus-gvmi"),
    refreshLock: options.refreshLock ?? false,
    mirror: options.debianMirror,
    sourceDateEpoch,
    log,
  });
  await mkdir(options.outputDir, { recursive: true });
  const work = await mkdtemp(join(tmpdir(), "argus-gvmi-"));
  try {
    const rootDir = join(work, "root");
    await mkdir(rootDir);
    await run("tar", ["-xpf", rootfsTar, "--numeric-owner", "-C", rootDir]);
    log(`staging the app (Node ${nodeVersion.trim()}, models from ${options.modelsDir})…`);
    await stageApp({
      repoRoot: options.repoRoot,
      rootDir,
      nodeBinary,
      modelsDir: options.modelsDir,
      referencePhotos: options.referencePhotos,
    });

    const partial = join(options.outputDir, "argus-provider.gvmi.partial");
    log("mksquashfs (lzo)…");
    await makeSquashfs(rootDir, partial, sourceDateEpoch);
    const squashfsBytes = (await stat(partial)).size;
    const config = imageContainerConfig();
    await appendFile(partial, Buffer.concat([paddingFor(squashfsBytes), gvmiTrailer(config)]));

    // Self-check: the file parses as ya-runtime-vm parses it and says what we wrote.
    const layout = await readGvmi(partial);
    if (!isDeepStrictEqual(layout.config, config) || layout.compression !== "lzo")
      throw new Error(`self-check failed: read back ${layout.compression}, ${layout.configJson}`);

    const file = join(options.outputDir, IMAGE_FILE_NAME);
    await rename(partial, file);
    const built: BuiltImage = {
      file,
      hash: await sha3_224OfFile(file),
      sizeBytes: layout.fileSize,
      squashfsBytes: layout.squashfsSize,
      buildSeconds: Math.round((performance.now() - started) / 100) / 10,
      inputsKey,
      reused: false,
    };
    await writeImageRecord(options.outputDir, {
      file: IMAGE_FILE_NAME,
      hash: built.hash,
      sizeBytes: built.sizeBytes,
      squashfsBytes: built.squashfsBytes,
      buildSeconds: built.buildSeconds,
      inputsKey,
      config: { ...config },
    });
    return built;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
