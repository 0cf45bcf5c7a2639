/**
 * The reference photos every model is tested on before it goes live.
 * provider-image/reference-set holds `reference-set.json` (each photo's sha256, what it
 * shows, and the repository, commit and path it comes from) and the licences; the
 * photos themselves are not in the repository but in a folder (ARGUS_REFERENCE_PHOTOS_DIR,
 * which the provider image sets to the copy it carries) or in a download cache filled
 * from each photo's pinned source, as model files are.
 *
 * - `imagenet-photos-v1`: each photo with an `imagenet` entry is one item, right when
 *   the classifier's top class is one of `accept` (ImageNet-1k indices).
 * - `coco-objects-v1`: each object of each photo is one item, right when the detector
 *   reports the same label (COCO names, compared without case) with a box overlapping
 *   it by IoU ≥ 0.5.
 *
 * The photos are read once per process and checked against their sha256, so a damaged
 * installation fails loudly instead of failing every model.
 */
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { PlainFileNameSchema, Sha256HexSchema } from "@argus/protocol/ids";
import type { ReferenceSet } from "@argus/protocol/manifest";
import { type DownloadOptions, downloadPinnedFile, exists, ModelIntegrityError, type PinnedFile, sourceUrl } from "./model-files.ts";
import { argusCacheDir } from "./models-dir.ts";
import { sha256Hex } from "./sha256-file.ts";

/** reference-set.json, the licences and the README: what the photos are, not the photos. */
export const REFERENCE_SET_DIR = fileURLToPath(new URL("../../reference-set", import.meta.url));
export const REFERENCE_PHOTOS_DIR_ENV = "ARGUS_REFERENCE_PHOTOS_DIR";

/** Where the photos are read from; only the cache is downloaded into (a folder the user named is theirs). */
export interface ReferencePhotosDir {
  path: string;
  origin: "configured" | "cache";
}

/** `$XDG_CACHE_HOME/argus/reference-photos`, else `$HOME/.cache/argus/reference-photos`, from the variables given. */
export function defaultReferencePhotosCacheDir(env: Readonly<Record<string, string | undefined>>): string {
  return argusCacheDir(env, "reference-photos");
}

/** The configured folder (ARGUS_REFERENCE_PHOTOS_DIR), else `cacheDir`. */
export function resolveReferencePhotosDir(
  configured: string | undefined,
  cacheDir: string = defaultReferencePhotosCacheDir({}),
): ReferencePhotosDir {
  return configured ? { path: resolve(configured), origin: "configured" } : { path: cacheDir, origin: "cache" };
}

/** Where to find the photos and, for the cache, how to download missing ones. */
export interface ReferencePhotosSource {
  dir: ReferencePhotosDir;
  download?: DownloadOptions | undefined;
}

const BoxSchema = z.strictObject({
  x: z.number().min(0),
  y: z.number().min(0),
  width: z.number().positive(),
  height: z.number().positive(),
});
export type ReferenceBox = z.infer<typeof BoxSchema>;

const PhotoSchema = z.strictObject({
  file: PlainFileNameSchema,
  sha256: Sha256HexSchema,
  source: z.strictObject({
    repository: z.string().min(1),
    commit: z.string().regex(/^[0-9a-f]{40}$/),
    path: z.string().min(1),
    license: z.string().min(1),
    licenseFile: z.string().min(1),
  }),
  imagenet: z.strictObject({ name: z.string().min(1), accept: z.array(z.int().min(0).max(999)).min(1) }).optional(),
  objects: z.array(z.strictObject({ label: z.string().min(1), box: BoxSchema })),
});
export type ReferencePhoto = z.infer<typeof PhotoSchema>;

const ReferenceSetFileSchema = z.strictObject({ referenceSetVersion: z.literal(1), photos: z.array(PhotoSchema).min(1) });

export interface LoadedPhoto extends ReferencePhoto {
  bytes: Uint8Array;
}

/** A photo that is not in its folder and could not (or may not) be downloaded, or whose bytes are wrong. */
export class ReferencePhotoError extends Error {
  override name = "ReferencePhotoError";
}

const REFERENCE_SET_FILE = join(REFERENCE_SET_DIR, "reference-set.json");
const loading = new Map<string, Promise<LoadedPhoto[]>>();

/** What reference-set.json lists, without the photos' bytes. */
export async function referenceSetEntries(): Promise<ReferencePhoto[]> {
  return ReferenceSetFileSchema.parse(JSON.parse(await readFile(REFERENCE_SET_FILE, "utf8"))).photos;
}

/** A photo as a pinned file: its name, its sha256 and the raw URL of its source at the pinned commit. */
export function photoPin(photo: ReferencePhoto): PinnedFile {
  const { repository, commit, path } = photo.source;
  return { file: photo.file, sha256: photo.sha256, url: `https://raw.githubusercontent.com/${repository}/${commit}/${path}` };
}

/** Every reference photo with its bytes, verified by sha256; read once per folder and process. */
export function referencePhotos(source: ReferencePhotosSource): Promise<LoadedPhoto[]> {
  const key = source.dir.path;
  let photos = loading.get(key);
  if (photos === undefined) {
    photos = readPhotos(source);
    loading.set(key, photos);
    photos.catch(() => loading.delete(key)); // a fixed folder is read again
  }
  return photos;
}

async function readPhotos(source: ReferencePhotosSource): Promise<LoadedPhoto[]> {
  const entries = await referenceSetEntries();
  // One at a time: a missing photo is downloaded, and a cache is filled without races between photos.
  const photos: LoadedPhoto[] = [];
  for (const photo of entries) photos.push({ ...photo, bytes: await photoBytes(photo, source) });
  return photos;
}

async function photoBytes(photo: ReferencePhoto, { dir, download = {} }: ReferencePhotosSource): Promise<Uint8Array> {
  const path = join(dir.path, photo.file);
  if (!(await exists(path))) await fetchPhoto(photo, dir, download);
  const bytes = await readFile(path);
  const actual = sha256Hex(bytes);
  if (actual !== photo.sha256) {
    throw new ReferencePhotoError(
      `the reference photo ${path} has sha256 ${actual}, but ${REFERENCE_SET_FILE} pins ${photo.sha256}: ` +
        `replace it with ${photoPin(photo).url}`,
    );
  }
  return bytes;
}

async function fetchPhoto(photo: ReferencePhoto, dir: ReferencePhotosDir, download: DownloadOptions): Promise<void> {
  const pin = photoPin(photo);
  if (dir.origin !== "cache") {
    throw new ReferencePhotoError(
      `the self-test needs the reference photo ${photo.file}, which is not in ${dir.path} (${REFERENCE_PHOTOS_DIR_ENV}). ` +
        `Put it there (it is published at ${pin.url}, sha256 ${photo.sha256}), or unset ${REFERENCE_PHOTOS_DIR_ENV} ` +
        "to have it downloaded into the cache.",
    );
  }
  await downloadPinnedFile(pin, dir.path, download).catch((error: Error) => {
    if (error instanceof ModelIntegrityError) throw new ReferencePhotoError(error.message, { cause: error });
    throw new ReferencePhotoError(
      `the self-test needs the reference photo ${photo.file} from ${sourceUrl(pin, download.mirror)}, and downloading it failed ` +
        `(${error.message}). Offline, set ${REFERENCE_PHOTOS_DIR_ENV} to a folder that holds the photos ` +
        "(the ../shared/images folder of the test data has them all).",
      { cause: error },
    );
  });
}

/** Makes sure every photo is in `source`'s folder (downloading into the cache); returns their paths. */
export async function ensureReferencePhotos(source: ReferencePhotosSource): Promise<string[]> {
  const photos = await referencePhotos(source);
  return photos.map((photo) => join(source.dir.path, photo.file));
}

/** The photos a set is made of: those with an ImageNet class, or those with objects. */
export function photosOf(photos: readonly LoadedPhoto[], set: ReferenceSet): LoadedPhoto[] {
  return photos.filter((photo) => (set === "imagenet-photos-v1" ? photo.imagenet !== undefined : photo.objects.length > 0));
}

/** How many items a set has: photos for a classifier, objects for a detector. */
export function itemCount(photos: readonly LoadedPhoto[], set: ReferenceSet): number {
  const members = photosOf(photos, set);
  return set === "imagenet-photos-v1" ? members.length : members.reduce((count, photo) => count + photo.objects.length, 0);
}
