/**
 * A whole local Argus stack for the oracle's integration tests and the web UI's
 * end-to-end flows: a Hardhat node over HTTP, the escrow deployed by Ignition with the
 * three shared models, the embedded IPFS node, and a user-side viem client. The oracle
 * itself is started by each test, so it can be stopped, killed and restarted.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readFile } from "node:fs/promises";
import {
  type Address,
  createPublicClient,
  createWalletClient,
  type Hex,
  http,
  parseEventLogs,
  type PublicClient,
  type WalletClient,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { hardhat } from "viem/chains";
import { network } from "hardhat";
import { BUILTIN_MANIFESTS_DIR, listManifests } from "@argus/provider-image/catalog";
import { imageCidToBytes } from "@argus/protocol/cid";
import { predictionEscrowAbi } from "@argus/escrow/abi";
import type { Deployment } from "@argus/escrow/deployment-record";
import { listModels } from "@argus/escrow/escrow-reads";
import { loadConfig, type OracleConfig } from "@argus/oracle/config";
import { createIpfsClient, type KuboRPCClient } from "@argus/ipfs-node/client";
import { startEmbeddedIpfs, type EmbeddedIpfs } from "@argus/ipfs-node/embedded";
import { requestFromEvent, type RequestTerms, topResultFromCalldata } from "@argus/escrow/request-terms";
import {
  deployArgus,
  type DeployedArgus,
  hardhatAccountKey,
  IGNITION_DEPLOYMENTS_DIR,
  modelAdminContext,
  startChain,
  type LocalChain,
} from "@argus/devchain";
import { DEFAULT_MODEL_TERMS, registerManifests } from "@argus/escrow/model-registration";
import type { TestGLM } from "../../../types/ethers-contracts/index.ts";
import { SHARED_MODELS_DIR } from "../../support/shared.ts";

export interface Stack {
  chain: LocalChain;
  argus: DeployedArgus;
  ipfs: EmbeddedIpfs;
  ipfsClient: KuboRPCClient;
  client: PublicClient;
  workDir: string;
  modelId(name: string): number;
  /** A user-side wallet on Hardhat account `index` (3 and up are users). */
  user(index: number): WalletClient & { account: { address: Address } };
  /** Oracle configuration for this stack; `overrides` win. */
  oracleConfig(overrides?: Partial<Record<keyof OracleConfig, unknown>>): OracleConfig;
  close(): Promise<void>;
}

/** What a test needs to act as the users of a running stack: its chain, escrow, IPFS node and funded accounts. */
export type StackClients = Pick<Stack, "client" | "argus" | "ipfsClient" | "user" | "modelId">;

export interface StackOptions {
  /** Browser origins the IPFS node's API admits (a web UI uploading images); none by default. */
  ipfsCorsOrigins?: string[];
  /** Largest upload the IPFS node takes (default: its own, 2 MiB); raise it to pin oversized images. */
  ipfsMaxUploadBytes?: number;
  /** Deploy tUSDC (ArgusLocal) too, with a model sold in it, and mint it to these holders. */
  testTokenHolders?: readonly Address[];
}

export async function startStack(name: string, options: StackOptions = {}): Promise<Stack> {
  const workDir = await mkdtemp(join(tmpdir(), `argus-${name}-`));
  const chain = await startChain();
  const deploymentId = `test-${name}-${process.pid}`;
  const argus = await deployArgus({
    rpcUrl: chain.rpcUrl,
    deploymentId,
    fresh: true,
    ...(options.testTokenHolders ? { testToken: { holders: options.testTokenHolders } } : {}),
  });
  const ipfs = await startEmbeddedIpfs({
    apiPort: 0,
    gatewayPort: 0,
    dataDir: join(workDir, "ipfs"),
    readTimeoutMs: 2_000,
    ...(options.ipfsCorsOrigins ? { corsOrigins: options.ipfsCorsOrigins } : {}),
    ...(options.ipfsMaxUploadBytes ? { maxUploadBytes: options.ipfsMaxUploadBytes } : {}),
  });
  return {
    chain,
    ipfs,
    workDir,
    ...stackClients(chain.rpcUrl, argus, ipfs.apiUrl),
    oracleConfig(overrides = {}) {
      return loadConfig(
        {},
        {
          rpcUrl: chain.rpcUrl,
          escrowAddress: argus.escrow,
          startBlock: argus.deployBlock,
          privateKey: hardhatAccountKey(1),
          ipfsApi: ipfs.apiUrl,
          confirmations: 0,
          pollIntervalMs: 200,
          flushIntervalMs: 500,
          // Tests settle what they have at once; the production linger (4 s) saves gas in bursts.
          settleLingerMs: 1_000,
          fetchTimeoutMs: 3_000,
          dataDir: join(workDir, "oracle"),
          httpPort: 0,
          modelsDir: SHARED_MODELS_DIR,
          logLevel: process.env.ARGUS_TEST_LOG_LEVEL ?? "warn",
          ...overrides,
        },
      );
    },
    async close() {
      await ipfs.stop();
      await chain.close();
      await rm(join(IGNITION_DEPLOYMENTS_DIR, deploymentId), { recursive: true, force: true });
      await rm(workDir, { recursive: true, force: true });
    },
  };
}

function stackClients(rpcUrl: string, argus: DeployedArgus, ipfsApi: string): StackClients {
  const transport = http(rpcUrl);
  const wallets = new Map<number, WalletClient>();
  return {
    argus,
    ipfsClient: createIpfsClient(ipfsApi),
    client: createPublicClient({ chain: hardhat, transport }) as PublicClient,
    modelId(modelName) {
      const model = argus.models.find((candidate) => candidate.name === modelName);
      if (!model) throw new Error(`no model ${modelName}`);
      return Number(model.modelId);
    },
    user(index) {
      // Deriving a key from the mnemonic takes ~20 ms: once per account is enough.
      if (!wallets.has(index))
        wallets.set(index, createWalletClient({ account: privateKeyToAccount(hardhatAccountKey(index)), chain: hardhat, transport }));
      return wallets.get(index) as never;
    },
  };
}

/** User-side clients for a local stack someone else started (`npm start`), from its deployment record. */
export async function connectStack(record: Deployment): Promise<StackClients> {
  const client = createPublicClient({ chain: hardhat, transport: http(record.chain.rpcUrl) }) as PublicClient;
  const { address: escrow, deployBlock } = record.contracts.predictionEscrow;
  const models = await listModels({ client, escrow });
  return stackClients(
    record.chain.rpcUrl,
    {
      escrow,
      deployBlock,
      chainId: record.chain.id,
      models: models.map((model) => ({ modelId: model.id, name: model.name, manifestCid: model.manifestCid, action: "unchanged" })),
    },
    record.ipfs.apiUrl,
  );
}

export interface TokenPricedModel {
  name: string;
  modelId: number;
  /** The TestGLM contract its fee is paid in. */
  token: Address;
  fee: bigint;
  /** A manifest folder holding the copy (for an engine that should run it). */
  manifestsDir: string;
}

/**
 * Registers a copy of the built-in model `copyOf` as `name`, priced `fee` in a TestGLM
 * deployed for it, and mints `mint` tokens to each of `holders` (e.g. permit payments).
 * `stack.modelId(name)` knows it afterwards.
 */
export async function addTokenPricedModel(
  stack: Stack,
  options: { copyOf: string; name: string; fee: bigint; holders: readonly Address[]; mint: bigint },
): Promise<TokenPricedModel> {
  const manifestsDir = join(stack.workDir, `manifests-${options.name}`);
  await mkdir(manifestsDir, { recursive: true });
  const manifest = JSON.parse(await readFile(join(BUILTIN_MANIFESTS_DIR, `${options.copyOf}.json`), "utf8")) as object;
  await writeFile(join(manifestsDir, `${options.name}.json`), JSON.stringify({ ...manifest, id: options.name }));
  const connection = await network.create({ network: "localhost", override: { url: stack.chain.rpcUrl } });
  try {
    const { ethers } = connection;
    const tokenContract = (await ethers.deployContract("TestGLM")) as unknown as TestGLM;
    const token = (await tokenContract.getAddress()) as Address;
    for (const holder of options.holders) await (await tokenContract.mint(holder, options.mint)).wait();
    // The escrow's admin (account 0) allows the new currency first.
    const escrow = await ethers.getContractAt("PredictionEscrow", stack.argus.escrow);
    await (await escrow.setFeeToken(token, true, 10n ** 13n)).wait();
    const registered = await registerManifests(
      modelAdminContext(stack.chain.rpcUrl, stack.argus.escrow),
      await listManifests([manifestsDir]),
      {
        ...DEFAULT_MODEL_TERMS,
        feeToken: token,
        fee: options.fee,
      },
    );
    stack.argus.models.push(...registered);
    return { name: options.name, modelId: stack.modelId(options.name), token, fee: options.fee, manifestsDir };
  } finally {
    await connection.close();
  }
}

/** Pins `bytes` the way the web UI does (CIDv1, raw leaves) and returns the CID string. */
export async function pinImage(stack: StackClients, bytes: Uint8Array): Promise<string> {
  const { cid } = await stack.ipfsClient.add(bytes, { cidVersion: 1, rawLeaves: true, pin: true });
  return cid.toString();
}

export async function pinImageFile(stack: StackClients, path: string): Promise<string> {
  return pinImage(stack, await readFile(path));
}

/** Pays for a prediction as `user` and returns the request's terms. */
export async function requestPrediction(
  stack: StackClients,
  user: ReturnType<Stack["user"]>,
  modelId: number,
  imageCid: Hex | string,
): Promise<RequestTerms & { imageCid: string }> {
  const cidBytes =
    typeof imageCid === "string" && !imageCid.startsWith("0x")
      ? (`0x${Buffer.from(imageCidToBytes(imageCid)).toString("hex")}` as Hex)
      : (imageCid as Hex);
  const [, fee] = await stack.client.readContract({
    address: stack.argus.escrow,
    abi: predictionEscrowAbi,
    functionName: "quote",
    args: [modelId, 0],
  });
  const hash = await user.writeContract({
    address: stack.argus.escrow,
    abi: predictionEscrowAbi,
    functionName: "requestPrediction",
    args: [modelId, cidBytes, fee, 2 ** 40 - 1],
    value: fee,
    chain: hardhat,
    account: user.account,
  } as never);
  const receipt = await stack.client.waitForTransactionReceipt({ hash });
  const [event] = parseEventLogs({ abi: predictionEscrowAbi, logs: receipt.logs, eventName: "PredictionRequested" });
  if (!event) throw new Error("no PredictionRequested event");
  // The CID as the caller gave it (hex stays hex), for tests that pay for invalid CIDs.
  return { ...requestFromEvent(event.args), imageCid: String(imageCid) };
}

export type Settlement =
  | { kind: "fulfilled"; resultDigest: Hex; topClass: number; topScore: number; blockNumber: bigint }
  | { kind: "rejected"; reason: number; blockNumber: bigint }
  | { kind: "expired"; blockNumber: bigint };

/** Every settlement event of the escrow, by request id; throws if a request was settled twice. */
export async function settlements(stack: StackClients): Promise<Map<bigint, Settlement>> {
  const logs = await stack.client.getLogs({ address: stack.argus.escrow, fromBlock: BigInt(stack.argus.deployBlock), toBlock: "latest" });
  const found = new Map<bigint, Settlement>();
  const inputs = new Map<Hex, Promise<Hex>>();
  const inputOf = (hash: Hex) => {
    if (!inputs.has(hash))
      inputs.set(
        hash,
        stack.client.getTransaction({ hash }).then((tx) => tx.input),
      );
    return inputs.get(hash)!;
  };
  for (const event of parseEventLogs({ abi: predictionEscrowAbi, logs })) {
    let settlement: Settlement | undefined;
    if (event.eventName === "PredictionFulfilled") {
      const top = topResultFromCalldata(await inputOf(event.transactionHash), event.args.requestId);
      if (!top) throw new Error(`the fulfilment of ${event.args.requestId} is not in its transaction's fulfillBatch input`);
      settlement = { kind: "fulfilled", resultDigest: event.args.resultDigest, ...top, blockNumber: event.blockNumber };
    } else if (event.eventName === "PredictionRejected") {
      settlement = { kind: "rejected", reason: event.args.reason, blockNumber: event.blockNumber };
    } else if (event.eventName === "PredictionExpired") {
      settlement = { kind: "expired", blockNumber: event.blockNumber };
    }
    if (!settlement) continue;
    const id = (event.args as { requestId: bigint }).requestId;
    if (found.has(id)) throw new Error(`request ${id} was settled twice`);
    found.set(id, settlement);
  }
  return found;
}

/** Waits until every id is settled on-chain (or the time runs out) and returns the settlements. */
export async function waitForSettlements(stack: StackClients, ids: readonly bigint[], timeoutMs: number): Promise<Map<bigint, Settlement>> {
  const started = Date.now();
  for (;;) {
    const all = await settlements(stack);
    if (ids.every((id) => all.has(id))) return all;
    if (Date.now() - started > timeoutMs) {
      const missing = ids.filter((id) => !all.has(id));
      throw new Error(`${missing.length} of ${ids.length} requests not settled after ${timeoutMs} ms (e.g. ${missing[0]})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
