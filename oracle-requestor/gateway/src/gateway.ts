/**
 * Starting the gateway: resolve the escrow from the configuration or the deployment
 * record, connect to the chain and IPFS, serve the app. For main.ts, `npm start` and tests.
 */
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { getConnInfo } from "@hono/node-server/conninfo";
import { getAddress, type Hex } from "viem";
import { readDeploymentFile } from "@argus/escrow/deployment-file";
import { createIpfsClient } from "@argus/ipfs-node/client";
import { createGatewayApp } from "./app.ts";
import { connectChain } from "./chain.ts";
import { clientAddressOf } from "./client-address.ts";
import { ConfigError, type GatewayConfig } from "./config.ts";

export interface RunningGateway {
  url: string;
  relayer: Hex;
  close(): Promise<void>;
}

export async function startGateway(
  config: GatewayConfig,
  log: (event: Record<string, unknown>) => void = () => {},
): Promise<RunningGateway> {
  if (!config.relayerPrivateKey)
    throw new ConfigError("the gateway needs a relayer key (ARGUS_GATEWAY_RELAYER_KEY): it pays the gas of every request it relays");
  const record = await readDeploymentFile(config.deploymentFile).catch((error: Error) => {
    if (config.escrowAddress) return undefined;
    throw new ConfigError(`no escrow address (ARGUS_ESCROW_ADDRESS) and no deployment record: ${error.message}`);
  });
  const escrow = getAddress(config.escrowAddress ?? record!.contracts.predictionEscrow.address);
  const deployBlock =
    record && escrow === getAddress(record.contracts.predictionEscrow.address) ? BigInt(record.contracts.predictionEscrow.deployBlock) : 0n;
  const probe = connectChain({
    rpcUrl: config.rpcUrl,
    escrow,
    chainId: 1,
    deployBlock,
    logRangeBlocks: config.logRangeBlocks,
    relayerPrivateKey: config.relayerPrivateKey as Hex,
  });
  const chainId = await probe.client.getChainId();
  const chain = connectChain({
    rpcUrl: config.rpcUrl,
    escrow,
    chainId,
    deployBlock,
    logRangeBlocks: config.logRangeBlocks,
    relayerPrivateKey: config.relayerPrivateKey as Hex,
  });
  const ipfs = createIpfsClient(config.ipfsApi, { authorization: config.ipfsApiAuthorization });
  const app = createGatewayApp({
    config,
    chain,
    ipfs,
    log,
    clientAddress: (c) => clientAddressOf(getConnInfo(c).remote.address, c.req.header("x-forwarded-for"), config.trustedProxyHops),
  });
  const server = serve({ fetch: app.fetch, hostname: config.host, port: config.port });
  // Longer than clients' idle keep-alive (undici: 4 s), so the server never closes a socket a
  // client is starting a request on (an EPIPE on the client's side, under load).
  if ("keepAliveTimeout" in server) {
    server.keepAliveTimeout = 65_000;
    server.headersTimeout = 66_000;
  }
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${port}`,
    relayer: chain.relayer,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
