/**
 * The escrow's model registry as the oracle needs it: a model's manifest id (its
 * registered name), the weights digest results must report, and the Golem image.
 * Read on demand and kept for a minute, so admin updates are picked up.
 */
import type { Address, PublicClient } from "viem";
import { predictionEscrowAbi } from "./abi.generated.ts";

export interface RegisteredModel {
  id: number;
  name: string;
  task: "classification" | "detection";
  active: boolean;
  /** 64 hex digits, no 0x. */
  weightsSha256: string;
  /** The gvmkit-build image hash (hex, no 0x, trailing zero padding removed), or undefined. */
  providerImageHash: string | undefined;
}

export class ModelRegistryReader {
  private readonly client: PublicClient;
  private readonly escrow: Address;
  private readonly ttlMs: number;
  private readonly cache = new Map<number, { model: RegisteredModel; readAt: number }>();

  constructor(client: PublicClient, escrow: Address, ttlMs = 60_000) {
    this.client = client;
    this.escrow = escrow;
    this.ttlMs = ttlMs;
  }

  async get(modelId: number): Promise<RegisteredModel> {
    const cached = this.cache.get(modelId);
    if (cached && Date.now() - cached.readAt < this.ttlMs) return cached.model;
    const raw = await this.client.readContract({ address: this.escrow, abi: predictionEscrowAbi, functionName: "getModel", args: [modelId] });
    const imageHash = raw.providerImageHash.slice(2).replace(/(00)+$/, "");
    const model: RegisteredModel = {
      id: modelId,
      name: raw.name,
      task: raw.task === 0 ? "classification" : "detection",
      active: raw.active,
      weightsSha256: raw.weightsSha256.slice(2),
      providerImageHash: imageHash === "" ? undefined : imageHash,
    };
    this.cache.set(modelId, { model, readAt: Date.now() });
    return model;
  }
}
