/**
 * The provider image a chunk orders: its model's registry image hash, else the
 * configured hash, else the configured tag. Chunks that order the same image share a pool.
 */
import type { MarketOrderSpec } from "@golem-sdk/golem-js";
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

type OrderSettings = Pick<
  GolemExecutorConfig,
  "subnetTag" | "minCpuThreads" | "minMemGib" | "minStorageGib" | "rentHours" | "maxStartPriceGlm" | "maxCpuPerHourGlm" | "maxEnvPerHourGlm"
>;

/**
 * What the executor asks the market for an image: a VM of at least the configured size,
 * for `rentHours`, within the price limits. The rental pools publish it and the start-up
 * preflight scans the market with it, so the preflight finds what a chunk would.
 */
export function marketOrderFor(image: ImageOrder, settings: OrderSettings): Omit<MarketOrderSpec, "payment"> {
  return {
    demand: {
      subnetTag: settings.subnetTag,
      workload: {
        ...image.workload,
        runtime: { name: "vm" },
        minCpuThreads: settings.minCpuThreads,
        minMemGib: settings.minMemGib,
        minStorageGib: settings.minStorageGib,
      },
    },
    market: {
      rentHours: settings.rentHours,
      pricing: {
        model: "linear",
        maxStartPrice: settings.maxStartPriceGlm,
        maxCpuPerHourPrice: settings.maxCpuPerHourGlm,
        maxEnvPerHourPrice: settings.maxEnvPerHourGlm,
      },
    },
  };
}
