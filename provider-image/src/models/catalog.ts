/**
 * The model catalogue: manifests stored as `<id>.json` files. The built-in folder
 * (`provider-image/manifests`) holds the models that are served — it ships with the
 * image, `npm start` registers and serves them; more folders can be added with
 * ARGUS_MANIFESTS_DIR (path-list) or per call. `provider-image/catalog` holds models
 * that are known but not served (their weights are downloaded on request, by
 * `npm run models:fetch -- <id>` or `argus models check <id>`); serving one is copying
 * its manifest into a served folder. A model id must be defined once: two different
 * manifests for one id is an error, never a silent choice.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type ModelManifest, parseManifest } from "@argus/protocol/manifest";
import { ModelIdSchema } from "@argus/protocol/ids";
import { canonicalJson } from "@argus/protocol/canonical-json";

export const BUILTIN_MANIFESTS_DIR = fileURLToPath(new URL("../../manifests", import.meta.url));
/** Manifests of models known but not served: the ONNX Model Zoo families, pinned by URL and sha256. */
export const CATALOG_MANIFESTS_DIR = fileURLToPath(new URL("../../catalog", import.meta.url));
export const MANIFESTS_DIR_ENV = "ARGUS_MANIFESTS_DIR";

export class UnknownModelError extends Error {
  override name = "UnknownModelError";
}

/** The built-in folder followed by `extra` (ARGUS_MANIFESTS_DIR in the provider settings). */
export function defaultManifestsDirs(extra: readonly string[] = []): string[] {
  return [BUILTIN_MANIFESTS_DIR, ...extra];
}

/** `dirs` with the not-served catalogue after them: where a model named on purpose is looked up. */
export function withCatalog(dirs: readonly string[]): string[] {
  return dirs.includes(CATALOG_MANIFESTS_DIR) ? [...dirs] : [...dirs, CATALOG_MANIFESTS_DIR];
}

export async function loadManifest(id: string, dirs: readonly string[] = defaultManifestsDirs()): Promise<ModelManifest> {
  if (!ModelIdSchema.safeParse(id).success) throw new UnknownModelError(`"${id}" is not a valid model id`);
  const found: { path: string; manifest: ModelManifest }[] = [];
  for (const dir of dirs) {
    const path = join(dir, `${id}.json`);
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") continue;
      throw error;
    }
    const manifest = parseManifest(JSON.parse(text), path);
    if (manifest.id !== id) throw new UnknownModelError(`${path} declares id "${manifest.id}"; a manifest's file name must be its id`);
    found.push({ path, manifest });
  }
  const [first, ...others] = found;
  if (first === undefined) {
    const known = (await listManifests(dirs)).map((manifest) => manifest.id);
    throw new UnknownModelError(`no manifest for model "${id}" in ${dirs.join(", ")}; known models: ${known.join(", ") || "none"}`);
  }
  const conflicting = others.find((other) => canonicalJson(other.manifest) !== canonicalJson(first.manifest));
  if (conflicting) throw new UnknownModelError(`model "${id}" is defined differently in ${first.path} and ${conflicting.path}`);
  return first.manifest;
}

/**
 * A fingerprint of the files `loadManifest(id, dirs)` reads — one `stat` per folder,
 * none read or parsed — so that whoever holds what it loaded can tell cheaply whether a
 * manifest of `id` has since been added, edited (ctime changes with any write) or removed.
 */
export async function manifestStamp(id: string, dirs: readonly string[] = defaultManifestsDirs()): Promise<string> {
  if (!ModelIdSchema.safeParse(id).success) throw new UnknownModelError(`"${id}" is not a valid model id`);
  const stamps = await Promise.all(
    dirs.map(async (dir) => {
      try {
        const file = await stat(join(dir, `${id}.json`), { bigint: true });
        return `${file.dev}:${file.ino}:${file.size}:${file.mtimeNs}:${file.ctimeNs}`;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return "none";
        throw error;
      }
    }),
  );
  return stamps.join(" ");
}

/** Every manifest in `dirs`, sorted by id. */
export async function listManifests(dirs: readonly string[] = defaultManifestsDirs()): Promise<ModelManifest[]> {
  const ids = new Set<string>();
  for (const dir of dirs) {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") continue;
      throw error;
    }
    for (const name of names) if (name.endsWith(".json")) ids.add(name.slice(0, -".json".length));
  }
  return Promise.all([...ids].sort().map((id) => loadManifest(id, dirs)));
}
