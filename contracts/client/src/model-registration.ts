/**
 * Registering models in the escrow: the one encoding of a manifest and its terms into
 * the registry's `ModelConfig`, and an idempotent registration of a set of manifests —
 * a model whose name is registered already in the same fee currency is updated only if
 * its manifest or terms changed, reactivated if it was deactivated, and given the
 * context's operator if that account does not operate it yet. A model is a manifest sold
 * in one currency (fixed at registration): the same manifest in another currency is
 * registered as another model of the same name (`npm start` sells one in tUSDC too).
 * `npm start`, the tests, the deploy script and `argus models add` all go through here.
 *
 * The manifest's canonical bytes are addressed as a raw IPFS block (CIDv1, raw,
 * sha2-256), the same convention as results, so the registry's `manifestCid` can be
 * checked by hashing; `pinManifest` puts them on IPFS.
 */
import {
  type Account,
  type Address,
  type Chain,
  type Hex,
  parseEventLogs,
  type PublicClient,
  toHex,
  type Transport,
  type WalletClient,
  zeroAddress,
} from "viem";
import { resultCidForBytes } from "@argus/protocol/cid";
import { manifestBytes, type ModelManifest } from "@argus/protocol/manifest";
import { predictionEscrowAbi } from "./abi.generated.ts";
import { listModels, type ModelInfo } from "./escrow-reads.ts";

export interface ModelTerms {
  /** ERC-20 the fee is paid in; the zero address for the native currency. */
  feeToken: Address;
  fee: bigint;
  callbackGasPrice: bigint;
  responseWindowSeconds: number;
  /** gvmkit-build image hash (sha3-224, 28 bytes), left-aligned in 32 bytes; zero when not published. */
  providerImageHash: Hex;
}

export const DEFAULT_MODEL_TERMS: ModelTerms = {
  feeToken: zeroAddress,
  fee: 10n ** 15n, // 0.001 ETH
  callbackGasPrice: 10n ** 9n, // 1 gwei per unit of callback gas
  responseWindowSeconds: 3600,
  providerImageHash: `0x${"00".repeat(32)}`,
};

/** The registry's task codes. */
export const TASK_CODES = { classification: 0, detection: 1 } as const;

/** A gvmkit-build image hash (up to 32 bytes of hex, 0x optional) as the registry's left-aligned bytes32. */
export function providerImageHashWord(hex: string): Hex {
  const digits = hex.replace(/^0x/, "").toLowerCase();
  if (!/^[0-9a-f]{1,64}$/.test(digits)) throw new RangeError("a provider image hash is at most 32 bytes of hex");
  return `0x${digits.padEnd(64, "0")}`;
}

/** The `ModelConfig` the escrow's registerModel / updateModel take. */
export function modelConfig(manifest: ModelManifest, terms: ModelTerms, manifestCid: Uint8Array) {
  return {
    name: manifest.id,
    task: TASK_CODES[manifest.task],
    feeToken: terms.feeToken,
    fee: terms.fee,
    callbackGasPrice: terms.callbackGasPrice,
    responseWindow: terms.responseWindowSeconds,
    weightsSha256: `0x${manifest.weights.sha256}` as Hex,
    providerImageHash: terms.providerImageHash,
    manifestCid: toHex(manifestCid),
  };
}
export type ModelConfig = ReturnType<typeof modelConfig>;

/** Whether registering `config` would change the registered `model`. */
export function configChanges(model: ModelInfo, config: ModelConfig, manifestCidText: string): boolean {
  return (
    model.manifestCid !== manifestCidText ||
    model.weightsSha256.toLowerCase() !== config.weightsSha256.toLowerCase() ||
    model.providerImageHash.toLowerCase() !== config.providerImageHash.toLowerCase() ||
    model.feeToken.toLowerCase() !== config.feeToken.toLowerCase() ||
    model.fee !== config.fee ||
    model.callbackGasPrice !== config.callbackGasPrice ||
    model.responseWindow !== config.responseWindow
  );
}

export interface RegisteredModel {
  modelId: number;
  name: string;
  manifestCid: string;
  action: "registered" | "updated" | "unchanged";
}

/** A public client, a wallet with the model admin's account, the escrow, and who runs the models. */
export interface RegistrationContext {
  client: PublicClient;
  wallet: WalletClient<Transport, Chain | undefined, Account>;
  escrow: Address;
  /** The account that settles the registered models' requests and is paid for them (the oracle's). */
  operator: Address;
}

/** Registers (or updates, or reactivates) each manifest; one transaction at a time, each waited for. */
export async function registerManifests(
  ctx: RegistrationContext,
  manifests: readonly ModelManifest[],
  terms: ModelTerms = DEFAULT_MODEL_TERMS,
  pinManifest: (bytes: Uint8Array) => Promise<void> = async () => {},
): Promise<RegisteredModel[]> {
  const existing = new Map((await listModels(ctx)).map((model) => [registrationKey(model.name, model.feeToken), model]));
  const registered: RegisteredModel[] = [];
  for (const manifest of manifests) {
    const bytes = manifestBytes(manifest);
    await pinManifest(bytes);
    const cid = await resultCidForBytes(bytes);
    const config = modelConfig(manifest, terms, cid.bytes);
    const current = existing.get(registrationKey(manifest.id, terms.feeToken));
    if (current === undefined) {
      const receipt = await send(ctx, "registerModel", [config, ctx.operator]);
      const modelId = parseEventLogs({ abi: predictionEscrowAbi, logs: receipt.logs, eventName: "ModelRegistered" })[0]?.args.modelId;
      if (modelId === undefined) throw new Error(`registering ${manifest.id} emitted no ModelRegistered`);
      registered.push({ modelId: Number(modelId), name: manifest.id, manifestCid: cid.toString(), action: "registered" });
      continue;
    }
    const changed = configChanges(current, config, cid.toString());
    if (changed) await send(ctx, "updateModel", [current.id, config]);
    if (!current.active) await send(ctx, "setModelActive", [current.id, true]);
    const operated = await isModelOperator(ctx, current.id, ctx.operator);
    if (!operated) await send(ctx, "setModelOperator", [current.id, ctx.operator, true]);
    registered.push({
      modelId: current.id,
      name: manifest.id,
      manifestCid: cid.toString(),
      action: changed || !current.active || !operated ? "updated" : "unchanged",
    });
  }
  return registered;
}

/** What makes a registration the same model: its manifest id and its fee currency. */
function registrationKey(name: string, feeToken: Address): string {
  return `${name} ${feeToken.toLowerCase()}`;
}

/** Whether `account` settles model `modelId`'s requests. */
export async function isModelOperator(
  ctx: Pick<RegistrationContext, "client" | "escrow">,
  modelId: number,
  account: Address,
): Promise<boolean> {
  return ctx.client.readContract({
    address: ctx.escrow,
    abi: predictionEscrowAbi,
    functionName: "isModelOperator",
    args: [modelId, account],
  });
}

async function send(
  ctx: RegistrationContext,
  functionName: "registerModel" | "updateModel" | "setModelActive" | "setModelOperator",
  args: readonly unknown[],
) {
  const hash = await ctx.wallet.writeContract({
    address: ctx.escrow,
    abi: predictionEscrowAbi,
    functionName,
    args,
    chain: ctx.wallet.chain,
  } as never);
  const receipt = await ctx.client.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success") throw new Error(`${functionName} (${hash}) reverted`);
  return receipt;
}
