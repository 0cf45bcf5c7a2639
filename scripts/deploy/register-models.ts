/**
 * Registers the models of a manifest folder in a deployed escrow.
 *
 *   npx hardhat run --network localhost scripts/deploy/register-models.ts
 *
 * Environment:
 *   ARGUS_ESCROW_ADDRESS       the escrow (default: this chain's Ignition deployment)
 *   ARGUS_MODEL_OPERATOR       the oracle account that settles the models' requests
 *                              (default: the network's second account, the local oracle)
 *   ARGUS_MANIFESTS_DIR        manifest folder(s), path-list (default: provider-image/manifests)
 *   ARGUS_MODEL_FEE_WEI        fee per prediction (default 1e15 = 0.001 ETH)
 *   ARGUS_FEE_TOKEN            ERC-20 fee token address (default: native currency)
 *   ARGUS_CALLBACK_GAS_PRICE   fee units per unit of callback gas (default 1 gwei)
 *   ARGUS_RESPONSE_WINDOW_S    seconds the oracle has to answer (default 3600)
 *   ARGUS_PROVIDER_IMAGE_HASH  the Golem image's gvmkit-build hash, hex (default: none yet)
 *   ARGUS_IPFS_API             if set, each manifest is pinned there as a raw block
 *   ARGUS_MODELS_DIR           the model files, for the self-test every model passes before it is
 *                              registered (default: the download cache, filled from the manifests' URLs)
 */
import { readFile } from "node:fs/promises";
import { delimiter, join } from "node:path";
import { network } from "hardhat";
import { create as createKuboClient } from "kubo-rpc-client";
import { type Address, createPublicClient, createWalletClient, custom, defineChain, type Hex } from "viem";
import { IGNITION_DEPLOYMENTS_DIR } from "@argus/devchain";
import { DEFAULT_MODEL_TERMS, type ModelTerms, providerImageHashWord, registerManifests } from "@argus/escrow/model-registration";
import { BUILTIN_MANIFESTS_DIR, listManifests } from "@argus/provider-image/catalog";
import { checkModel } from "@argus/provider-image/check-model";
import { engineOptions, loadProviderConfig } from "@argus/provider-image/config";
import { SelfTestFailedError } from "@argus/provider-image/self-test";

const env = process.env;
const connection = await network.create();
const transport = custom(connection.provider);
const client = createPublicClient({ transport });
const chainId = await client.getChainId();
const chain = defineChain({
  id: chainId,
  name: `chain ${chainId}`,
  nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
  rpcUrls: { default: { http: [] } },
});
const [admin, secondAccount] = await createWalletClient({ transport }).getAddresses();
if (admin === undefined) throw new Error("the network has no account to sign with: configure one in hardhat.config.ts");
const operator = (env.ARGUS_MODEL_OPERATOR ?? secondAccount) as Address | undefined;
if (operator === undefined) throw new Error("set ARGUS_MODEL_OPERATOR: the oracle account that will settle the models' requests");

async function escrowAddress(): Promise<Address> {
  if (env.ARGUS_ESCROW_ADDRESS) return env.ARGUS_ESCROW_ADDRESS as Address;
  const record = join(IGNITION_DEPLOYMENTS_DIR, `chain-${chainId}`, "deployed_addresses.json");
  const addresses = JSON.parse(
    await readFile(record, "utf8").catch(() => {
      throw new Error(`no escrow address: set ARGUS_ESCROW_ADDRESS or deploy with Ignition first (${record} is missing)`);
    }),
  ) as Record<string, Address>;
  const address = addresses["Argus#PredictionEscrow"];
  if (!address) throw new Error(`${record} has no Argus#PredictionEscrow`);
  return address;
}

const terms: ModelTerms = {
  feeToken: (env.ARGUS_FEE_TOKEN ?? DEFAULT_MODEL_TERMS.feeToken) as Address,
  fee: env.ARGUS_MODEL_FEE_WEI ? BigInt(env.ARGUS_MODEL_FEE_WEI) : DEFAULT_MODEL_TERMS.fee,
  callbackGasPrice: env.ARGUS_CALLBACK_GAS_PRICE ? BigInt(env.ARGUS_CALLBACK_GAS_PRICE) : DEFAULT_MODEL_TERMS.callbackGasPrice,
  responseWindowSeconds: env.ARGUS_RESPONSE_WINDOW_S ? Number(env.ARGUS_RESPONSE_WINDOW_S) : DEFAULT_MODEL_TERMS.responseWindowSeconds,
  providerImageHash: env.ARGUS_PROVIDER_IMAGE_HASH
    ? providerImageHashWord(env.ARGUS_PROVIDER_IMAGE_HASH)
    : (DEFAULT_MODEL_TERMS.providerImageHash as Hex),
};
const dirs = env.ARGUS_MANIFESTS_DIR ? env.ARGUS_MANIFESTS_DIR.split(delimiter) : [BUILTIN_MANIFESTS_DIR];
const ipfs = env.ARGUS_IPFS_API ? createKuboClient({ url: env.ARGUS_IPFS_API }) : undefined;

// No model is registered before it passes its self-test on the reference photos.
const manifests = await listManifests(dirs);
const { modelsDir, download } = engineOptions(loadProviderConfig(env));
for (const manifest of manifests) {
  const report = await checkModel(manifest, { modelsDir, download });
  if (!report.passed) throw new SelfTestFailedError(report);
  console.log(`self-test  ${manifest.id} ${report.correct}/${report.total} (requires ${report.minimumCorrect})`);
}

const wallet = createWalletClient({ chain, transport, account: admin });
const models = await registerManifests({ client, wallet, escrow: await escrowAddress(), operator }, manifests, terms, async (bytes) => {
  await ipfs?.block.put(bytes, { format: "raw", mhtype: "sha2-256", pin: true });
});
for (const model of models) {
  console.log(`${model.action.padEnd(10)} model ${model.modelId} ${model.name} manifest ${model.manifestCid}`);
}
await connection.close();
