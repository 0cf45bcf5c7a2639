/** The chain the oracle serves: its RPC client, the escrow it watches and the account it settles with. */
import type { Logger } from "pino";
import { type Address, createPublicClient, http, type PublicClient } from "viem";
import { predictionEscrowAbi } from "@argus/escrow/abi";
import { readDeploymentFile } from "@argus/escrow/deployment-file";
import type { OracleConfig } from "../config.ts";
import { loadOracleAccount } from "../oracle-key.ts";

export interface ChainAccess {
  client: PublicClient;
  escrow: Address;
  /** Where intake starts reading when the configuration names no block. */
  startBlock: bigint;
  chainId: number;
  account: Awaited<ReturnType<typeof loadOracleAccount>>;
}

/**
 * Finds the escrow and loads the key. An account that operates no registered model is
 * only warned about (the model admin may name it later): the escrow skips every
 * settlement it sends for a model it does not operate.
 */
export async function connectToChain(config: OracleConfig, log: Logger): Promise<ChainAccess> {
  const client = createPublicClient({ transport: http(config.rpcUrl, { retryCount: 2, timeout: 20_000 }) }) as PublicClient;
  const { escrow, startBlock } = await locateEscrow(config, client);
  const chainId = await client.getChainId();
  const account = await loadOracleAccount(config);
  const operated = await operatedModels(client, escrow, account.address);
  if (operated.length === 0)
    log.warn({ oracle: account.address }, "this account operates no registered model: the escrow skips its settlements until it does");
  else log.info({ oracle: account.address, models: operated }, "operating models");
  return { client, escrow, startBlock, chainId, account };
}

/** The ids of the registered models `account` operates. */
async function operatedModels(client: PublicClient, escrow: Address, account: Address): Promise<number[]> {
  const count = await client.readContract({ address: escrow, abi: predictionEscrowAbi, functionName: "modelCount" });
  const ids = Array.from({ length: count }, (_, index) => index + 1);
  const flags = await Promise.all(
    ids.map((id) =>
      client.readContract({ address: escrow, abi: predictionEscrowAbi, functionName: "isModelOperator", args: [id, account] }),
    ),
  );
  return ids.filter((_, index) => flags[index]);
}

/**
 * The escrow address and first block: from the configuration, else the deployment record
 * (which must describe the chain the RPC endpoint serves: a stale record of an earlier
 * local chain is refused rather than followed).
 */
export async function locateEscrow(config: OracleConfig, client: PublicClient): Promise<{ escrow: Address; startBlock: bigint }> {
  if (config.escrowAddress) return { escrow: config.escrowAddress as Address, startBlock: 0n };
  const record = await readDeploymentFile(config.deploymentFile).catch((error: Error) => {
    throw new Error(`ARGUS_ESCROW_ADDRESS is not set, and ${error.message}`);
  });
  const chainId = await client.getChainId();
  if (record.chain.id !== chainId) {
    throw new Error(
      `${config.deploymentFile} describes chain ${record.chain.id}, but ${config.rpcUrl} serves chain ${chainId}: set ARGUS_RPC_URL or ARGUS_DEPLOYMENT_FILE`,
    );
  }
  const { address, deployBlock } = record.contracts.predictionEscrow;
  return { escrow: address, startBlock: BigInt(deployBlock) };
}
