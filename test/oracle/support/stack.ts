/**
 * A whole local Argus stack for the oracle's integration tests: a Hardhat node over
 * HTTP, the escrow deployed by Ignition with the three shared models, the embedded IPFS
 * node, and a user-side viem client. The oracle itself is started by each test, so it
 * can be stopped, killed and restarted.
 */
import { mkdtemp, rm } from "node:fs/promises";
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
import { imageCidToBytes } from "@argus/provider-image/protocol/cid";
import { predictionEscrowAbi } from "@argus/oracle-requestor/chain/abi.generated";
import { loadConfig, type OracleConfig } from "@argus/oracle-requestor/config";
import { createIpfsClient, type KuboRPCClient } from "@argus/oracle-requestor/ipfs/client";
import { startEmbeddedIpfs, type EmbeddedIpfs } from "@argus/oracle-requestor/ipfs/embedded";
import type { RequestTerms } from "@argus/oracle-requestor/chain/request-terms";
import { deployArgus, type DeployedArgus, hardhatAccountKey, IGNITION_DEPLOYMENTS_DIR, startChain, type LocalChain } from "../../../scripts/lib/local-stack.ts";
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

export async function startStack(name: string): Promise<Stack> {
  const workDir = await mkdtemp(join(tmpdir(), `argus-${name}-`));
  const chain = await startChain();
  const deploymentId = `test-${name}-${process.pid}`;
  const argus = await deployArgus({ rpcUrl: chain.rpcUrl, deploymentId, fresh: true });
  const ipfs = await startEmbeddedIpfs({ apiPort: 0, gatewayPort: 0, dataDir: join(workDir, "ipfs"), readTimeoutMs: 2_000 });
  const transport = http(chain.rpcUrl);
  const client = createPublicClient({ chain: hardhat, transport }) as PublicClient;
  return {
    chain,
    argus,
    ipfs,
    ipfsClient: createIpfsClient(ipfs.apiUrl),
    client,
    workDir,
    modelId(modelName) {
      const model = argus.models.find((candidate) => candidate.name === modelName);
      if (!model) throw new Error(`no model ${modelName}`);
      return Number(model.modelId);
    },
    user(index) {
      return createWalletClient({ account: privateKeyToAccount(hardhatAccountKey(index)), chain: hardhat, transport }) as never;
    },
    oracleConfig(overrides = {}) {
      return loadConfig({}, {
        rpcUrl: chain.rpcUrl,
        escrowAddress: argus.escrow,
        startBlock: argus.deployBlock,
        privateKey: hardhatAccountKey(1),
        ipfsApi: ipfs.apiUrl,
        confirmations: 0,
        pollIntervalMs: 200,
        flushIntervalMs: 500,
        fetchTimeoutMs: 3_000,
        dataDir: join(workDir, "oracle"),
        httpPort: 0,
        modelsDir: SHARED_MODELS_DIR,
        logLevel: process.env.ARGUS_TEST_LOG_LEVEL ?? "warn",
        ...overrides,
      });
    },
    async close() {
      await ipfs.stop();
      await chain.close();
      await rm(join(IGNITION_DEPLOYMENTS_DIR, deploymentId), { recursive: true, force: true });
      await rm(workDir, { recursive: true, force: true });
    },
  };
}

/** Pins `bytes` the way the web UI does (CIDv1, raw leaves) and returns the CID string. */
export async function pinImage(stack: Stack, bytes: Uint8Array): Promise<string> {
  const { cid } = await stack.ipfsClient.add(bytes, { cidVersion: 1, rawLeaves: true, pin: true });
  return cid.toString();
}

export async function pinImageFile(stack: Stack, path: string): Promise<string> {
  return pinImage(stack, await readFile(path));
}

/** Pays for a prediction as `user` and returns the request's terms. */
export async function requestPrediction(stack: Stack, user: ReturnType<Stack["user"]>, modelId: number, imageCid: Hex | string): Promise<RequestTerms & { imageCid: string }> {
  const cidBytes = typeof imageCid === "string" && !imageCid.startsWith("0x") ? (`0x${Buffer.from(imageCidToBytes(imageCid)).toString("hex")}` as Hex) : (imageCid as Hex);
  const [, fee] = await stack.client.readContract({ address: stack.argus.escrow, abi: predictionEscrowAbi, functionName: "quote", args: [modelId, 0] });
  const hash = await user.writeContract({
    address: stack.argus.escrow,
    abi: predictionEscrowAbi,
    functionName: "requestPrediction",
    args: [modelId, cidBytes],
    value: fee,
    chain: hardhat,
    account: user.account,
  } as never);
  const receipt = await stack.client.waitForTransactionReceipt({ hash });
  const [event] = parseEventLogs({ abi: predictionEscrowAbi, logs: receipt.logs, eventName: "PredictionRequested" });
  if (!event) throw new Error("no PredictionRequested event");
  const { requestId, requester, fee: paid, deadline, callbackGasLimit } = event.args;
  return { requestId, requester, modelId, fee: paid, deadline: BigInt(deadline), callbackGasLimit, imageCid: String(imageCid) };
}

export type Settlement =
  | { kind: "fulfilled"; resultDigest: Hex; topClass: number; topScore: number; blockNumber: bigint }
  | { kind: "rejected"; reason: number; blockNumber: bigint }
  | { kind: "expired"; blockNumber: bigint };

/** Every settlement event of the escrow, by request id; throws if a request was settled twice. */
export async function settlements(stack: Stack): Promise<Map<bigint, Settlement>> {
  const logs = await stack.client.getLogs({ address: stack.argus.escrow, fromBlock: BigInt(stack.argus.deployBlock), toBlock: "latest" });
  const found = new Map<bigint, Settlement>();
  for (const event of parseEventLogs({ abi: predictionEscrowAbi, logs })) {
    let settlement: Settlement | undefined;
    if (event.eventName === "PredictionFulfilled") {
      settlement = { kind: "fulfilled", resultDigest: event.args.resultDigest, topClass: event.args.topClass, topScore: event.args.topScore, blockNumber: event.blockNumber };
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
export async function waitForSettlements(stack: Stack, ids: readonly bigint[], timeoutMs: number): Promise<Map<bigint, Settlement>> {
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
