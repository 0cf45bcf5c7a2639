/**
 * The provider image a chunk orders: its model's registry image hash, else the
 * configured hash, else the configured tag. Chunks that order the same image share a pool.
 */
import type { Chunk } from "../executor.ts";
import { ExecutorError } from "../executor.ts";
import type { GolemExecutorConfig } from "./config.ts";
import { golemImageHash, isNoImageHash } from "./image-hash.ts";

export interface ImageOrder {
  /** Names the image's pool. */
  key: string;
  workload: { imageHash?: string; imageUrl?: string; imageTag?: string };
}

type ImageSettings = Pick<GolemExecutorConfig, "imageHash" | "imageTag" | "imageUrl">;

/** Throws an ExecutorError (no attempt made) when the chunk has no usable image. */
export function imageOrder(chunk: Chunk, settings: ImageSettings): ImageOrder {
  let hash: string | undefined;
  if (!isNoImageHash(chunk.providerImageHash)) {
    hash = golemImageHash(chunk.providerImageHash ?? "");
    if (hash === undefined) throw new ExecutorError(`chunk ${chunk.id} names an invalid Golem image hash ${chunk.providerImageHash}`, 0);
  }
  const order = imageOrderOf(hash, settings);
  if (order !== undefined) return order;
  throw new ExecutorError(
    `chunk ${chunk.id} (model ${chunk.batch.modelId}) has no Golem image: the registry gives none and ARGUS_GOLEM_IMAGE_HASH / ARGUS_GOLEM_IMAGE_TAG are not set`,
    0,
  );
}

/** The image ordered for a model's registry hash (56 hex digits, or none): it, else the configured hash, else the tag. */
export function imageOrderOf(registryHash: string | undefined, settings: ImageSettings): ImageOrder | undefined {
  const hash = registryHash ?? settings.imageHash;
  if (hash !== undefined) {
    const imageUrl = settings.imageUrl?.replaceAll("{hash}", hash);
    return { key: `hash:${hash}`, workload: imageUrl ? { imageHash: hash, imageUrl } : { imageHash: hash } };
  }
  if (settings.imageTag) return { key: `tag:${settings.imageTag}`, workload: { imageTag: settings.imageTag } };
  return undefined;
}
