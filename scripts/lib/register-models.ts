/**
 * Registers the models of a manifest folder in the escrow, idempotently: a model whose
 * name is already registered is updated only if its manifest or terms changed, and
 * reactivated if it was deactivated. The manifest's canonical bytes are addressed as a
 * raw IPFS block (CIDv1, raw, sha2-256), the same convention as results, so the
 * registry's `manifestCid` can be checked by hashing; `pinManifest` puts them on IPFS.
 */
import { listManifests } from "@argus/provider-image/catalog";
import { manifestBytes, type ModelManifest } from "@argus/provider-image/protocol/manifest";
import { resultCidForBytes } from "@argus/provider-image/protocol/cid";
import type { PredictionEscrow } from "../../types/ethers-contracts/index.ts";

export interface ModelTerms {
  /** ERC-20 the fee is paid in; the zero address for the native currency. */
  feeToken: string;
  fee: bigint;
  callbackGasPrice: bigint;
  responseWindowSeconds: number;
  /** gvmkit-build image hash (sha3-224, 28 bytes), left-aligned in 32 bytes; zero when not published. */
  providerImageHash: string;
}

export const DEFAULT_MODEL_TERMS: ModelTerms = {
  feeToken: "0x0000000000000000000000000000000000000000",
  fee: 10n ** 15n, // 0.001 ETH
  callbackGasPrice: 10n ** 9n, // 1 gwei per unit of callback gas
  responseWindowSeconds: 3600,
  providerImageHash: "0x" + "00".repeat(32),
};

export interface RegisteredModel {
  modelId: bigint;
  name: string;
  manifestCid: string;
  action: "registered" | "updated" | "unchanged";
}

const TASK_CODES = { classification: 0, detection: 1 } as const;

/** Registers (or updates) every manifest found in `manifestDirs`. */
export async function registerModels(
  escrow: PredictionEscrow,
  manifestDirs: readonly string[],
  terms: ModelTerms = DEFAULT_MODEL_TERMS,
  pinManifest: (bytes: Uint8Array) => Promise<void> = async () => {},
): Promise<RegisteredModel[]> {
  const manifests = await listManifests(manifestDirs);
  if (manifests.length === 0) throw new Error(`no model manifests in ${manifestDirs.join(", ")}`);

  const existing = new Map<string, Awaited<ReturnType<PredictionEscrow["getModel"]>>>();
  for (let id = 1n; id <= (await escrow.modelCount()); id++) {
    const model = await escrow.getModel(id);
    existing.set(model.name, model);
  }

  const registered: RegisteredModel[] = [];
  for (const manifest of manifests) {
    const bytes = manifestBytes(manifest);
    await pinManifest(bytes);
    const cid = await resultCidForBytes(bytes);
    const config = modelConfig(manifest, terms, "0x" + Buffer.from(cid.bytes).toString("hex"));
    const current = existing.get(manifest.id);
    if (current === undefined) {
      const receipt = await (await escrow.registerModel(config)).wait();
      const event = receipt?.logs.map((log) => escrow.interface.parseLog(log)).find((log) => log?.name === "ModelRegistered");
      registered.push({ modelId: event!.args.modelId as bigint, name: manifest.id, manifestCid: cid.toString(), action: "registered" });
      continue;
    }
    const changed =
      current.manifestCid !== config.manifestCid ||
      current.weightsSha256 !== config.weightsSha256 ||
      current.providerImageHash !== config.providerImageHash ||
      current.fee !== config.fee ||
      current.callbackGasPrice !== config.callbackGasPrice ||
      current.responseWindow !== BigInt(config.responseWindow);
    if (changed) await (await escrow.updateModel(current.id, config)).wait();
    if (!current.active) await (await escrow.setModelActive(current.id, true)).wait();
    registered.push({
      modelId: current.id,
      name: manifest.id,
      manifestCid: cid.toString(),
      action: changed || !current.active ? "updated" : "unchanged",
    });
  }
  return registered;
}

function modelConfig(manifest: ModelManifest, terms: ModelTerms, manifestCid: string) {
  return {
    name: manifest.id,
    task: TASK_CODES[manifest.task],
    feeToken: terms.feeToken,
    fee: terms.fee,
    callbackGasPrice: terms.callbackGasPrice,
    responseWindow: terms.responseWindowSeconds,
    weightsSha256: "0x" + manifest.weights.sha256,
    providerImageHash: terms.providerImageHash,
    manifestCid,
  };
}
