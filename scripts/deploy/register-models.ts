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
 *   ARGUS_PROVIDER_IMAGE       the image build's record (image.json, its folder or the .gvmi beside it);
 *                              default: provider-image/dist when `npm run build:provider-image` has
 *                              written one there. Its hash is registered once the .gvmi checks out.
 *   ARGUS_PROVIDER_IMAGE_HASH  the Golem image's hash by hand, hex, instead (gvmkit-build prints it)
 *   ARGUS_IPFS_API             if set, each manifest and label file is pinned there as a raw block
 *   ARGUS_MODELS_DIR           the model files, for the self-test every model passes before it is
 *                              registered (default: the download cache, filled from the manifests' URLs)
 *
 * Without either image setting and without a build, models are registered with no image
 * (the oracle then needs ARGUS_GOLEM_IMAGE_HASH to run them on Golem).
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { delimiter, join, relative, resolve } from "node:path";
import { network } from "hardhat";
import { create as createKuboClient } from "kubo-rpc-client";
import { type Address, createPublicClient, createWalletClient, custom, defineChain, type Hex } from "viem";
import { IGNITION_DEPLOYMENTS_DIR } from "@argus/devchain";
import { DEFAULT_MODEL_TERMS, type ModelTerms, providerImageHashWord, registerManifests } from "@argus/escrow/model-registration";
import { DEFAULT_IMAGE_OUTPUT_DIR, IMAGE_RECORD_NAME, readImageRecord, verifyImageRecord } from "@argus/provider-image/build-output";
import { BUILTIN_MANIFESTS_DIR, listManifests } from "@argus/provider-image/catalog";
import { checkModel } from "@argus/provider-image/check-model";
import { engineOptions, loadProviderConfig } from "@argus/provider-image/config";
import { SelfTestFailedError } from "@argus/provider-image/self-test";
import { imageBuildSettings, imageInputsKey } from "@argus/provider-image/image-inputs";

const REPO_ROOT = resolve(import.meta.dirname, "../..");

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

/** The registry's image hash: by hand, else from the image build's record (checked against its file), else none. */
async function providerImageHash(): Promise<Hex> {
  const none = DEFAULT_MODEL_TERMS.providerImageHash as Hex;
  if (env.ARGUS_PROVIDER_IMAGE_HASH) {
    if (env.ARGUS_PROVIDER_IMAGE) throw new Error("set ARGUS_PROVIDER_IMAGE or ARGUS_PROVIDER_IMAGE_HASH, not both");
    return providerImageHashWord(env.ARGUS_PROVIDER_IMAGE_HASH);
  }
  const defaultDir = join(REPO_ROOT, DEFAULT_IMAGE_OUTPUT_DIR);
  if (!env.ARGUS_PROVIDER_IMAGE && !existsSync(join(defaultDir, IMAGE_RECORD_NAME))) return none;
  const image = await readImageRecord(resolve(env.ARGUS_PROVIDER_IMAGE ?? defaultDir));
  await verifyImageRecord(image);
  console.log(`provider image ${image.hash} from ${relative(process.cwd(), image.recordPath)}`);
  if (!env.ARGUS_PROVIDER_IMAGE && image.inputsKey !== (await imageInputsKey({ repoRoot: REPO_ROOT, ...imageBuildSettings(env) })))
    console.warn(
      `warning: ${relative(process.cwd(), image.imagePath)} was built from another state of this checkout: \`npm run build:provider-image\` rebuilds it`,
    );
  return providerImageHashWord(image.hash);
}

const terms: ModelTerms = {
  feeToken: (env.ARGUS_FEE_TOKEN ?? DEFAULT_MODEL_TERMS.feeToken) as Address,
  fee: env.ARGUS_MODEL_FEE_WEI ? BigInt(env.ARGUS_MODEL_FEE_WEI) : DEFAULT_MODEL_TERMS.fee,
  callbackGasPrice: env.ARGUS_CALLBACK_GAS_PRICE ? BigInt(env.ARGUS_CALLBACK_GAS_PRICE) : DEFAULT_MODEL_TERMS.callbackGasPrice,
  responseWindowSeconds: env.ARGUS_RESPONSE_WINDOW_S ? Number(env.ARGUS_RESPONSE_WINDOW_S) : DEFAULT_MODEL_TERMS.responseWindowSeconds,
  providerImageHash: await providerImageHash(),
};
const dirs = env.ARGUS_MANIFESTS_DIR ? env.ARGUS_MANIFESTS_DIR.split(delimiter) : [BUILTIN_MANIFESTS_DIR];
const ipfs = env.ARGUS_IPFS_API ? createKuboClient({ url: env.ARGUS_IPFS_API }) : undefined;

// No model is registered before it passes its self-test on the reference photos.
const manifests = await listManifests(dirs);
const { modelsDir, referencePhotosDir, download } = engineOptions(loadProviderConfig(env));
for (const manifest of manifests) {
  const report = await checkModel(manifest, { modelsDir, referencePhotosDir, download });
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
// The web UI reads a model's labels from IPFS by the sha256 its manifest pins.
for (const file of new Set(manifests.map((manifest) => manifest.labels.file))) {
  await ipfs?.block.put(await readFile(join(modelsDir.path, file)), { format: "raw", mhtype: "sha2-256", pin: true });
}
await connection.close();
