/**
 * Distinct real photos for load and chaos runs, made at run time from the shared
 * labelled photos (never copied into the repository): each variant is a shared photo
 * cropped, resized and re-encoded differently, so every variant has its own CID and the
 * oracle's result cache cannot answer it. Also a small seeded PRNG for chaos schedules.
 */
import { readFile } from "node:fs/promises";
import sharp from "sharp";
import { sharedImage } from "../../support/shared.ts";

export const SHARED_PHOTOS = [
  "wml_cat.jpg",
  "wml_kitten.jpg",
  "mlg_kitten.jpg",
  "ortx_cat_224x224.jpg",
  "ortx_pineapple.png",
  "glow_cat_285.png",
  "glow_dog_207.png",
  "wonnx_bald_eagle.jpeg",
  "dlb_ILSVRC2012_val_00000023.JPEG",
  "detect_bus.jpg",
] as const;

/** `count` distinct JPEG/PNG/WebP variants of the shared photos, deterministic for a given count. */
export async function photoVariants(count: number): Promise<Uint8Array[]> {
  const originals = await Promise.all(SHARED_PHOTOS.map(async (name) => readFile(sharedImage(name))));
  const variants: Uint8Array[] = [];
  for (let index = 0; index < count; index++) {
    const source = originals[index % originals.length]!;
    const round = Math.floor(index / originals.length);
    const { width = 224, height = 224 } = await sharp(source).metadata();
    // Crop a little off one corner (which one and how much depend on the round), then resize.
    const trim = Math.min(0.15, 0.01 * (1 + (round % 15)));
    const left = round % 2 === 0 ? 0 : Math.floor(width * trim);
    const top = round % 4 < 2 ? 0 : Math.floor(height * trim);
    const cropWidth = Math.max(32, Math.floor(width * (1 - trim)));
    const cropHeight = Math.max(32, Math.floor(height * (1 - trim)));
    const image = sharp(source)
      .extract({ left, top, width: Math.min(cropWidth, width - left), height: Math.min(cropHeight, height - top) })
      .resize({ width: 224 + ((round * 37) % 300) });
    const encoded =
      round % 3 === 0
        ? image.jpeg({ quality: 70 + (round % 25) })
        : round % 3 === 1
          ? image.png({ compressionLevel: 6 })
          : image.webp({ quality: 75 + (round % 20) });
    variants.push(new Uint8Array(await encoded.toBuffer()));
  }
  return variants;
}

/** mulberry32: a tiny seeded PRNG, so a chaos run can be replayed from its printed seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed from ARGUS_CHAOS_SEED, else a fresh one; printed so a failing run can be replayed. */
export function chaosSeed(label: string): number {
  const seed = process.env.ARGUS_CHAOS_SEED ? Number(process.env.ARGUS_CHAOS_SEED) : Math.floor(Math.random() * 2 ** 31);
  console.log(`      ${label}: seed ${seed} (replay with ARGUS_CHAOS_SEED=${seed})`);
  return seed;
}
