/**
 * Puts a manifest's pinned files (weights, labels) into a models folder: downloaded
 * to a temporary file beside the target, hashed while streaming, and renamed into
 * place only when the sha256 matches, so a folder never holds a partial or wrong file
 * under a real name, even with several processes downloading at once.
 */
import { createHash, randomUUID } from "node:crypto";
import { access, mkdir, open, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { describeModelsDir, MODELS_DIR_ENV, type ModelsDir } from "./models-dir.ts";
import type { ModelManifest } from "@argus/protocol/manifest";

export interface PinnedFile {
  file: string;
  sha256: string;
  url?: string | undefined;
}

export interface DownloadOptions {
  /**
   * A flat mirror: when set, every file is fetched from `<mirror>/<file name>` instead
   * of its manifest URL (still checked by sha256). ARGUS_MODELS_MIRROR sets it.
   */
  mirror?: string | undefined;
  /** Abort a download that takes longer than this (default 10 minutes). */
  timeoutMs?: number;
}

export const MODELS_MIRROR_ENV = "ARGUS_MODELS_MIRROR";

/** A pinned file whose bytes do not match the manifest's sha256. */
export class ModelIntegrityError extends Error {
  override name = "ModelIntegrityError";
}

/** A model file that is not there and could not (or may not) be downloaded. */
export class ModelFilesMissingError extends Error {
  override name = "ModelFilesMissingError";
}

export function pinnedFiles(manifest: ModelManifest): PinnedFile[] {
  return [manifest.weights, manifest.labels];
}

/**
 * Makes sure every pinned file of `manifest` is present in `dir`. Missing files are
 * downloaded when `dir` is the cache; otherwise the error says what to do. Files that
 * are present are not re-hashed here: loading the model verifies them.
 */
export async function ensureModelFiles(manifest: ModelManifest, dir: ModelsDir, options: DownloadOptions = {}): Promise<void> {
  for (const pinned of pinnedFiles(manifest)) await ensurePinnedFile(manifest.id, pinned, dir, options);
}

/** One pinned file of model `modelId` in `dir`, downloaded first when `dir` is the cache; returns its path. */
export async function ensurePinnedFile(
  modelId: string,
  pinned: PinnedFile,
  dir: ModelsDir,
  options: DownloadOptions = {},
): Promise<string> {
  const path = join(dir.path, pinned.file);
  if (await exists(path)) return path;
  if (dir.origin !== "cache") {
    throw new ModelFilesMissingError(
      `model ${modelId} needs ${pinned.file}, which is not in ${describeModelsDir(dir)}. ` +
        `Put it there${pinned.url ? ` (it is published at ${pinned.url})` : ""}, ` +
        `or fill the folder with \`npm run models:fetch -- --models-dir ${dir.path} ${modelId}\`.`,
    );
  }
  try {
    return await downloadPinnedFile(pinned, dir.path, options);
  } catch (error) {
    if (error instanceof ModelIntegrityError) throw error;
    throw new ModelFilesMissingError(
      `model ${modelId} needs ${pinned.file}, which is not in ${describeModelsDir(dir)}, and downloading it failed: ` +
        `${(error as Error).message}. Set ${MODELS_DIR_ENV} to a folder that holds the model files (or pass --models-dir DIR).`,
      { cause: error },
    );
  }
}

/** Downloads one pinned file into `dirPath` and returns its path; throws ModelIntegrityError on a digest mismatch. */
export async function downloadPinnedFile(pinned: PinnedFile, dirPath: string, options: DownloadOptions = {}): Promise<string> {
  const url = sourceUrl(pinned, options.mirror);
  await mkdir(dirPath, { recursive: true });
  const target = join(dirPath, pinned.file);
  const partial = join(dirPath, `.${pinned.file}.${process.pid}.${randomUUID().slice(0, 8)}.part`);
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(options.timeoutMs ?? 600_000), redirect: "follow" }).catch(
      (error: Error) => {
        // fetch's own message is just "fetch failed"; the reason (DNS, refused, timeout) is its cause.
        const reason = error.cause instanceof Error ? error.cause.message : error.message;
        throw new Error(`GET ${url} failed: ${reason}`, { cause: error });
      },
    );
    if (!response.ok || response.body === null) throw new Error(`GET ${url} answered ${response.status} ${response.statusText}`);
    const hash = createHash("sha256");
    const handle = await open(partial, "wx");
    try {
      for await (const chunk of response.body) {
        hash.update(chunk);
        await handle.write(chunk);
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
    const actual = hash.digest("hex");
    if (actual !== pinned.sha256) {
      throw new ModelIntegrityError(
        `${url} served ${pinned.file} with sha256 ${actual}, but the manifest pins ${pinned.sha256}; not saved`,
      );
    }
    await rename(partial, target);
    return target;
  } finally {
    await rm(partial, { force: true });
  }
}

export function sourceUrl(pinned: PinnedFile, mirror?: string): string {
  if (mirror) return `${mirror.replace(/\/+$/, "")}/${encodeURIComponent(pinned.file)}`;
  if (!pinned.url) throw new Error(`${pinned.file} has no download URL in its manifest`);
  return pinned.url;
}

export async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
