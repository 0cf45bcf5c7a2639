/**
 * The bundled reference photos every model is tested on before it goes live
 * (provider-image/reference-set: the photos, `reference-set.json` with what each shows
 * and where it comes from, and the licences they are shipped under).
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
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { PlainFileNameSchema, Sha256HexSchema } from "@argus/protocol/ids";
import type { ReferenceSet } from "@argus/protocol/manifest";
import { sha256Hex } from "./sha256-file.ts";

export const REFERENCE_SET_DIR = fileURLToPath(new URL("../../reference-set", import.meta.url));

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

let loading: Promise<LoadedPhoto[]> | undefined;

/** Every reference photo with its bytes, verified; read once per process. */
export function referencePhotos(): Promise<LoadedPhoto[]> {
  loading ??= readPhotos().catch((error: unknown) => {
    loading = undefined;
    throw error;
  });
  return loading;
}

async function readPhotos(): Promise<LoadedPhoto[]> {
  const path = join(REFERENCE_SET_DIR, "reference-set.json");
  const { photos } = ReferenceSetFileSchema.parse(JSON.parse(await readFile(path, "utf8")));
  return Promise.all(
    photos.map(async (photo) => {
      const bytes = await readFile(join(REFERENCE_SET_DIR, photo.file));
      const actual = sha256Hex(bytes);
      if (actual !== photo.sha256) {
        throw new Error(
          `the reference photo ${photo.file} has sha256 ${actual}, but ${path} pins ${photo.sha256}: the installation is damaged`,
        );
      }
      return { ...photo, bytes };
    }),
  );
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
