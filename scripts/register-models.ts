/**
 * Registers the models of a manifest folder in a deployed escrow.
 *
 *   npx hardhat run --network localhost scripts/register-models.ts
 *
 * Environment:
 *   ARGUS_ESCROW_ADDRESS       the escrow (default: this chain's Ignition deployment)
 *   ARGUS_MANIFESTS_DIR        manifest folder(s), path-list (default: provider-image/manifests)
 *   ARGUS_MODEL_FEE_WEI        fee per prediction (default 1e15 = 0.001 ETH)
 *   ARGUS_FEE_TOKEN            ERC-20 fee token address (default: native currency)
 *   ARGUS_CALLBACK_GAS_PRICE   fee units per unit of callback gas (default 1 gwei)
 *   ARGUS_RESPONSE_WINDOW_S    seconds the oracle has to answer (default 3600)
 *   ARGUS_PROVIDER_IMAGE_HASH  the Golem image's gvmkit-build hash, hex (default: none yet)
 *   ARGUS_IPFS_API             if set, each manifest is pinned there as a raw block
 */
import { readFile } from "node:fs/promises";
import { delimiter, join } from "node:path";
import { network } from "hardhat";
import { create as createKuboClient } from "kubo-rpc-client";
import { BUILTIN_MANIFESTS_DIR } from "@argus/provider-image/catalog";
import { DEFAULT_MODEL_TERMS, registerModels, type ModelTerms } from "./lib/register-models.ts";
import type { PredictionEscrow } from "../types/ethers-contracts/index.ts";

const env = process.env;
const connection = await network.create();
const { ethers } = connection;
const { chainId } = await ethers.provider.getNetwork();

async function escrowAddress(): Promise<string> {
  if (env.ARGUS_ESCROW_ADDRESS) return env.ARGUS_ESCROW_ADDRESS;
  const record = join(import.meta.dirname, "ignition/deployments", `chain-${chainId}`, "deployed_addresses.json");
  const addresses = JSON.parse(await readFile(record, "utf8").catch(() => {
    throw new Error(`no escrow address: set ARGUS_ESCROW_ADDRESS or deploy with Ignition first (${record} is missing)`);
  })) as Record<string, string>;
  const address = addresses["Argus#PredictionEscrow"];
  if (!address) throw new Error(`${record} has no Argus#PredictionEscrow`);
  return address;
}

function imageHash(hex: string | undefined): string {
  if (!hex) return DEFAULT_MODEL_TERMS.providerImageHash;
  const digits = hex.replace(/^0x/, "").toLowerCase();
  if (!/^[0-9a-f]{1,64}$/.test(digits)) throw new Error("ARGUS_PROVIDER_IMAGE_HASH must be at most 32 bytes of hex");
  return "0x" + digits.padEnd(64, "0");
}

const terms: ModelTerms = {
  feeToken: env.ARGUS_FEE_TOKEN ?? DEFAULT_MODEL_TERMS.feeToken,
  fee: env.ARGUS_MODEL_FEE_WEI ? BigInt(env.ARGUS_MODEL_FEE_WEI) : DEFAULT_MODEL_TERMS.fee,
  callbackGasPrice: env.ARGUS_CALLBACK_GAS_PRICE ? BigInt(env.ARGUS_CALLBACK_GAS_PRICE) : DEFAULT_MODEL_TERMS.callbackGasPrice,
  responseWindowSeconds: env.ARGUS_RESPONSE_WINDOW_S ? Number(env.ARGUS_RESPONSE_WINDOW_S) : DEFAULT_MODEL_TERMS.responseWindowSeconds,
  providerImageHash: imageHash(env.ARGUS_PROVIDER_IMAGE_HASH),
};
const dirs = env.ARGUS_MANIFESTS_DIR ? env.ARGUS_MANIFESTS_DIR.split(delimiter) : [BUILTIN_MANIFESTS_DIR];
const ipfs = env.ARGUS_IPFS_API ? createKuboClient({ url: env.ARGUS_IPFS_API }) : undefined;

const escrow = (await ethers.getContractAt("PredictionEscrow", await escrowAddress())) as unknown as PredictionEscrow;
const models = await registerModels(escrow, dirs, terms, async (bytes) => {
  await ipfs?.block.put(bytes, { format: "raw", mhtype: "sha2-256", pin: true });
});
for (const model of models) {
  console.log(`${model.action.padEnd(10)} model ${model.modelId} ${model.name} manifest ${model.manifestCid}`);
}
