/**
 * The pieces of a local Argus stack that tests, benchmarks and `npm start` share: a
 * Hardhat (EDR) JSON-RPC node, and the escrow deployed to it through the Ignition
 * module with the manifest folder's models registered — and, on request, tUSDC (a local
 * EIP-3009 stablecoin) with one model sold in it, for payers without ETH.
 */
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { HDNodeWallet } from "ethers";
import { network } from "hardhat";
// The plugins hardhat.config.ts loads; these imports give `connection.ethers` and `.ignition` their types.
import type {} from "@nomicfoundation/hardhat-ethers";
import type {} from "@nomicfoundation/hardhat-ignition-ethers";
import { type Address, createPublicClient, createWalletClient, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { hardhat } from "viem/chains";
import {
  DEFAULT_MODEL_TERMS,
  type ModelTerms,
  type RegisteredModel,
  type RegistrationContext,
  registerManifests,
} from "@argus/escrow/model-registration";
import { BUILTIN_MANIFESTS_DIR, listManifests } from "@argus/provider-image/catalog";
import ArgusModule from "../ignition/modules/Argus.ts";
import ArgusLocalModule from "../ignition/modules/ArgusLocal.ts";

/** Hardhat's well-known development mnemonic: its accounts are funded on every local node. */
export const HARDHAT_MNEMONIC = "test test test test test test test test test test test junk";
export const IGNITION_DEPLOYMENTS_DIR = join(import.meta.dirname, "../ignition/deployments");

/** Private key of the Hardhat development account `index` (0: admin, 1: oracle by convention). */
export function hardhatAccountKey(index: number): `0x${string}` {
  return HDNodeWallet.fromPhrase(HARDHAT_MNEMONIC, undefined, `m/44'/60'/0'/0/${index}`).privateKey as `0x${string}`;
}

export function hardhatAccountAddress(index: number): `0x${string}` {
  return HDNodeWallet.fromPhrase(HARDHAT_MNEMONIC, undefined, `m/44'/60'/0'/0/${index}`).address as `0x${string}`;
}

export interface LocalChain {
  rpcUrl: string;
  close(): Promise<void>;
}

/** A JSON-RPC node on `host:port` (port 0: any free port), automining, chain id 31337. */
export async function startChain(options: { host?: string; port?: number } = {}): Promise<LocalChain> {
  const host = options.host ?? "127.0.0.1";
  const server = await network.createServer("default", host, options.port ?? 0);
  const { port } = await server.listen();
  return { rpcUrl: `http://${host}:${port}`, close: () => server.close() };
}

export interface DeployedArgus {
  escrow: `0x${string}`;
  deployBlock: number;
  chainId: number;
  /** Every model registered, the one sold in tUSDC (if any) last. */
  models: RegisteredModel[];
  /** With `testToken`: tUSDC and the model sold in it. */
  testToken?: DeployedTestToken;
}

/** tUSDC as `deployArgus` deployed it: the token, and the model priced in it (if a manifest allowed one). */
export interface DeployedTestToken {
  address: Address;
  symbol: string;
  decimals: number;
  model: RegisteredModel | undefined;
}

/**
 * What the model sold in tUSDC costs: 0.01 tUSDC a prediction, 1 micro-tUSDC a unit of
 * callback gas (100,000 gas: 0.1 tUSDC). Its other terms are the native models'.
 */
export const TEST_TOKEN_MODEL_TERMS = { fee: 10_000n, callbackGasPrice: 1n } as const;

/** What each holder named in `testToken.holders` is minted: 1,000 tUSDC (6 decimals). */
export const TEST_TOKEN_GRANT = 1_000n * 10n ** 6n;

/**
 * Deploys the escrow with the Ignition module to the node at `rpcUrl` (admin and model
 * admin: account 0) and registers every manifest in `manifestsDirs`, operated by
 * `oracle` (default: account 1).
 * `deploymentId` names Ignition's journal; `fresh` deletes an old journal of that name
 * first (a restarted node has none of what it recorded).
 * With `testToken`, deploys the ArgusLocal module instead, which adds tUSDC (EIP-3009,
 * 6 decimals) as a fee currency; mints TEST_TOKEN_GRANT to each of `testToken.holders`;
 * and registers one manifest a second time, sold in tUSDC at TEST_TOKEN_MODEL_TERMS:
 * `testToken.model`, else the first classifier, else the first manifest. (The same
 * manifest, so the same name: the oracle runs it as it runs the native one.)
 */
export async function deployArgus(options: {
  rpcUrl: string;
  deploymentId: string;
  fresh?: boolean;
  oracle?: string;
  treasury?: string;
  protocolFeeBps?: number;
  manifestsDirs?: string[];
  terms?: Partial<ModelTerms>;
  testToken?: { holders?: readonly Address[]; model?: string };
}): Promise<DeployedArgus> {
  if (options.fresh) await rm(join(IGNITION_DEPLOYMENTS_DIR, options.deploymentId), { recursive: true, force: true });
  const connection = await network.create({ network: "localhost", override: { url: options.rpcUrl } });
  try {
    const { ethers, ignition } = connection;
    const deployBlock = await ethers.provider.getBlockNumber();
    const { chainId } = await ethers.provider.getNetwork();
    const deployment = {
      deploymentId: options.deploymentId,
      displayUi: false,
      parameters: {
        Argus: {
          treasury: options.treasury ?? hardhatAccountAddress(2),
          protocolFeeBps: options.protocolFeeBps ?? 500,
        },
      },
    };
    const { escrow, usdc } = options.testToken
      ? await ignition.deploy(ArgusLocalModule, deployment)
      : { ...(await ignition.deploy(ArgusModule, deployment)), usdc: undefined };
    const address = (await escrow.getAddress()) as Address;
    const manifests = await listManifests(options.manifestsDirs ?? [BUILTIN_MANIFESTS_DIR]);
    const context = modelAdminContext(options.rpcUrl, address, options.oracle as Address | undefined);
    const terms: ModelTerms = { ...DEFAULT_MODEL_TERMS, ...options.terms };
    const models = await registerManifests(context, manifests, terms);
    if (!options.testToken || !usdc) return { escrow: address, deployBlock, chainId: Number(chainId), models };

    const token = (await usdc.getAddress()) as Address;
    for (const holder of options.testToken.holders ?? []) await (await usdc.getFunction("mint")(holder, TEST_TOKEN_GRANT)).wait();
    const wanted = options.testToken.model;
    const manifest =
      wanted !== undefined
        ? manifests.find((candidate) => candidate.id === wanted)
        : (manifests.find((candidate) => candidate.task === "classification") ?? manifests[0]);
    if (wanted !== undefined && manifest === undefined) throw new Error(`no manifest ${wanted} to sell in tUSDC`);
    const [model] = manifest ? await registerManifests(context, [manifest], { ...terms, ...TEST_TOKEN_MODEL_TERMS, feeToken: token }) : [];
    if (model) models.push(model);
    return {
      escrow: address,
      deployBlock,
      chainId: Number(chainId),
      models,
      testToken: {
        address: token,
        symbol: await usdc.getFunction("symbol")(),
        decimals: Number(await usdc.getFunction("decimals")()),
        model,
      },
    };
  } finally {
    await connection.close();
  }
}

/**
 * Clients for registering models on the local node as its model admin (account 0), the
 * models operated by `operator` (default: account 1, the local oracle).
 */
export function modelAdminContext(rpcUrl: string, escrow: Address, operator: Address = hardhatAccountAddress(1)): RegistrationContext {
  const transport = http(rpcUrl);
  return {
    client: createPublicClient({ chain: hardhat, transport }),
    wallet: createWalletClient({ chain: hardhat, transport, account: privateKeyToAccount(hardhatAccountKey(0)) }),
    escrow,
    operator,
  };
}
