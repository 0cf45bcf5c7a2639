/**
 * Where the model files (ONNX weights and label files) live, decided in one place:
 * `--models-dir` flag > ARGUS_MODELS_DIR (the provider settings, src/config.ts) > a
 * per-user cache folder.
 *
 * Only the cache folder is filled on demand (downloads from each manifest's pinned
 * URLs, checked by sha256): a folder the user named is theirs, and a missing file in
 * it is an error that says so rather than a surprise download.
 */
import { homedir } from "node:os";
import { join, resolve } from "node:path";

export interface ModelsDir {
  path: string;
  /** Where the choice came from; `cache` is the only one downloaded into. */
  origin: "flag" | "env" | "cache";
}

export const MODELS_DIR_ENV = "ARGUS_MODELS_DIR";

/** The flag, else the configured folder (ARGUS_MODELS_DIR), else `cacheDir`. */
export function resolveModelsDir(
  flag: string | undefined,
  configured: string | undefined,
  cacheDir: string = defaultModelsCacheDir({}),
): ModelsDir {
  if (flag) return { path: resolve(flag), origin: "flag" };
  if (configured) return { path: resolve(configured), origin: "env" };
  return { path: cacheDir, origin: "cache" };
}

/** `$XDG_CACHE_HOME/argus/models`, else `$HOME/.cache/argus/models`, from the variables given. */
export function defaultModelsCacheDir(env: Readonly<Record<string, string | undefined>>): string {
  return argusCacheDir(env, "models");
}

/** `$XDG_CACHE_HOME/argus/<name>`, else `$HOME/.cache/argus/<name>`, from the variables given. */
export function argusCacheDir(env: Readonly<Record<string, string | undefined>>, name: string): string {
  const cacheHome = env.XDG_CACHE_HOME || join(env.HOME || homedir(), ".cache");
  return join(resolve(cacheHome), "argus", name);
}

export function describeModelsDir(dir: ModelsDir): string {
  const why = { flag: "from --models-dir", env: `from ${MODELS_DIR_ENV}`, cache: "the download cache" }[dir.origin];
  return `${dir.path} (${why})`;
}
