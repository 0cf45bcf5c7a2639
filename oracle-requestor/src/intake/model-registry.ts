/**
 * The escrow's model registry as the oracle needs it: a model's manifest id (its
 * registered name), the weights digest results must report, and the Golem image.
 * Read through the shared `readModel` on demand and kept for a while, so admin updates
 * are picked up within the TTL without a registry read per chunk.
 */
import type { Address, PublicClient } from "viem";
import type { Chunk } from "../executors/executor.ts";
import { type ModelInfo, readModel } from "@argus/escrow/escrow-reads";

export class ModelRegistryReader {
  private readonly client: PublicClient;
  private readonly escrow: Address;
  private readonly ttlMs: number;
  private readonly cache = new Map<number, { model: ModelInfo; readAt: number }>();

  constructor(client: PublicClient, escrow: Address, ttlMs = 60_000) {
    this.client = client;
    this.escrow = escrow;
    this.ttlMs = ttlMs;
  }

  /** The model as registered at most `ttlMs` ago. */
  async get(modelId: number): Promise<ModelInfo> {
    const cached = this.cache.get(modelId);
    if (cached && Date.now() - cached.readAt < this.ttlMs) return cached.model;
    const model = await readModel({ client: this.client, escrow: this.escrow }, modelId);
    this.cache.set(modelId, { model, readAt: Date.now() });
    return model;
  }
}

/**
 * What an executor is told about the model a chunk runs: the weights digest as results
 * report it (hex, no 0x), and the Golem image hash (no 0x, the registry's trailing zero
 * padding removed), left out where the registry names none.
 */
export function executorModelTerms(
  model: Pick<ModelInfo, "weightsSha256" | "providerImageHash">,
): Pick<Chunk, "weightsSha256" | "providerImageHash"> {
  const digits = model.providerImageHash.slice(2);
  // The registry right-pads gvmkit-build's 28-byte hash to 32 bytes: strip exactly those
  // 4 zero bytes, never zeros that belong to the hash itself.
  const imageHash = /^0*$/.test(digits) ? undefined : digits.replace(/0{8}$/, "");
  return { weightsSha256: model.weightsSha256.slice(2), ...(imageHash === undefined ? {} : { providerImageHash: imageHash }) };
}
