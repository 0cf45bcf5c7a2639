/**
 * What every command works against, from the deployment record (ARGUS_DEPLOYMENT_FILE,
 * default `.argus/deployment.json`, or `--deployment FILE`): the chain, the escrow, the
 * IPFS endpoint and the oracle's status server; and, for commands that send
 * transactions, the user's key from ARGUS_PRIVATE_KEY or ARGUS_KEYSTORE +
 * ARGUS_KEYSTORE_PASSWORD. ARGUS_RPC_URL, ARGUS_IPFS_API and ARGUS_ORACLE_STATUS_URL
 * override the record's endpoints.
 */
import { resolve } from "node:path";
import { createInterface } from "node:readline";
import {
  type Address,
  type Chain,
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
  type LocalAccount,
  type PublicClient,
  type Transport,
  type WalletClient,
} from "viem";
import { DEFAULT_LOG_RANGE_BLOCKS, type Deployment } from "@argus/escrow/deployment-record";
import { readDeploymentFile } from "@argus/escrow/deployment-file";
import { createIpfsClient, type KuboRPCClient } from "@argus/ipfs-node/client";
import { type KeyVariables, loadAccount } from "@argus/escrow/signing-key";
import type { CliSettings } from "./config.ts";
import { firstLine } from "./output.ts";

export const USER_KEY_VARIABLES: KeyVariables = {
  privateKey: "ARGUS_PRIVATE_KEY",
  keystoreFile: "ARGUS_KEYSTORE",
  keystorePassword: "ARGUS_KEYSTORE_PASSWORD",
};

export type UserWallet = WalletClient<Transport, Chain, LocalAccount>;

export interface CliContext {
  deploymentFile: string;
  deployment: Deployment;
  chain: Chain;
  client: PublicClient;
  escrow: Address;
  /** Where event queries start: the escrow's deployment block. */
  deployBlock: bigint;
  /** Most blocks per eth_getLogs call: ARGUS_LOG_RANGE_BLOCKS, else the record's, else the default the oracle uses too. */
  logRangeBlocks: bigint;
  ipfsApiUrl: string;
  ipfs(): KuboRPCClient;
  oracleStatusUrl: string | undefined;
  /** The user's account; throws a SigningKeyError naming the variables when none is configured. */
  account(): Promise<LocalAccount>;
  wallet(): Promise<UserWallet>;
}

export async function openContext(options: { deployment?: string | undefined }, settings: CliSettings): Promise<CliContext> {
  const deploymentFile = options.deployment ? resolve(options.deployment) : settings.deploymentFile;
  const deployment = await readDeploymentFile(deploymentFile);
  const rpcUrl = settings.rpcUrl ?? deployment.chain.rpcUrl;
  const chain = defineChain({
    id: deployment.chain.id,
    name: deployment.chain.name,
    nativeCurrency: deployment.chain.nativeCurrency,
    rpcUrls: { default: { http: [rpcUrl] } },
  });
  const transport = http(rpcUrl, { retryCount: 1, timeout: 30_000 });
  const client = createPublicClient({ chain, transport }) as PublicClient;
  const served = await client.getChainId().catch((error: Error) => {
    throw new Error(`cannot reach the chain at ${rpcUrl} (${firstLine(error)}): is the stack running (\`npm start\`)?`);
  });
  if (served !== deployment.chain.id) {
    throw new Error(
      `${deploymentFile} is for chain ${deployment.chain.id}, but ${rpcUrl} serves chain ${served}: the record is stale (restart the stack) or ARGUS_RPC_URL points elsewhere`,
    );
  }
  const ipfsApiUrl = settings.ipfsApi ?? deployment.ipfs.apiUrl;
  let ipfs: KuboRPCClient | undefined;
  let account: Promise<LocalAccount> | undefined;
  const loadUserAccount = () =>
    (account ??= (async () => {
      const source = {
        privateKey: settings.privateKey || undefined,
        keystoreFile: settings.keystoreFile || undefined,
        keystorePassword: settings.keystorePassword,
      };
      // A person at a terminal is asked for the keystore's password rather than told to export it.
      if (
        !source.privateKey &&
        source.keystoreFile &&
        source.keystorePassword === undefined &&
        process.stdin.isTTY &&
        process.stderr.isTTY
      ) {
        source.keystorePassword = await askHidden(`password for ${source.keystoreFile}: `);
      }
      return loadAccount(source, USER_KEY_VARIABLES, "key to sign with");
    })());
  return {
    deploymentFile,
    deployment,
    chain,
    client,
    escrow: deployment.contracts.predictionEscrow.address,
    deployBlock: BigInt(deployment.contracts.predictionEscrow.deployBlock),
    logRangeBlocks: BigInt(settings.logRangeBlocks ?? deployment.chain.logRangeBlocks ?? DEFAULT_LOG_RANGE_BLOCKS),
    ipfsApiUrl,
    ipfs: () => (ipfs ??= createIpfsClient(ipfsApiUrl, { authorization: settings.ipfsApiAuthorization })),
    oracleStatusUrl: settings.oracleStatusUrl ?? deployment.oracle?.statusUrl,
    account: loadUserAccount,
    async wallet() {
      const signer = await loadUserAccount();
      return createWalletClient({ account: signer, chain, transport });
    },
  };
}

/** Reads a line from the terminal without echoing it. */
function askHidden(question: string): Promise<string> {
  const terminal = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  const echo = terminal as unknown as { _writeToOutput(text: string): void };
  let asked = false;
  echo._writeToOutput = (text: string) => {
    if (!asked) process.stderr.write(text);
    asked = true;
  };
  return new Promise((resolve) =>
    terminal.question(question, (answer) => {
      terminal.close();
      process.stderr.write("\n");
      resolve(answer);
    }),
  );
}
