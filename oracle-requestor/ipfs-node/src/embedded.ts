/**
 * Starts the embedded IPFS node in this process: the data directory, the Helia node,
 * the Kubo RPC API and the path gateway. `npm run ipfs` (main.ts) is a thin shell
 * around this; tests and the one-command stack call it directly.
 */
import { createServer } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { unixfs } from "@helia/unixfs";
import { DEFAULT_OPTIONS } from "./config.ts";
import type { EmbeddedIpfsOptions } from "./config.ts";
import { OriginPolicy } from "./cors.ts";
import { createGatewayListener } from "./gateway.ts";
import { startHeliaNode, stopHeliaNode } from "./helia-node.ts";
import type { HeliaNode } from "./helia-node.ts";
import { PinService } from "./pin-service.ts";
import { loadOrCreateIdentity, lockRepo, repoPaths } from "./repo.ts";
import { createRpcListener } from "./rpc/router.ts";

export interface EmbeddedIpfs {
  /** Base URL of the RPC API, e.g. http://127.0.0.1:5001 (kubo-rpc-client adds /api/v0). */
  apiUrl: string;
  /** Base URL of the gateway, e.g. http://127.0.0.1:8080 (content under /ipfs/<cid>). */
  gatewayUrl: string;
  peerId: string;
  options: EmbeddedIpfsOptions;
  node: HeliaNode;
  /** Stops accepting requests, finishes the running ones (briefly), closes the stores, frees the data directory. */
  stop(): Promise<void>;
}

/** How long stop() lets running requests finish before cutting their connections. */
const SHUTDOWN_GRACE_MS = 2_000;

export async function startEmbeddedIpfs(overrides: Partial<EmbeddedIpfsOptions> = {}): Promise<EmbeddedIpfs> {
  const options: EmbeddedIpfsOptions = { ...DEFAULT_OPTIONS, ...overrides };
  const paths = repoPaths(options.dataDir);
  const unlock = await lockRepo(paths);
  const cleanups: Array<() => Promise<void>> = [unlock];
  const cleanUp = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  };

  try {
    const privateKey = await loadOrCreateIdentity(paths);
    const node = await startHeliaNode({
      paths,
      privateKey,
      readTimeoutMs: options.readTimeoutMs,
      networking: options.networking,
    });
    cleanups.push(() => stopHeliaNode(node));

    const fs = unixfs(node.helia);
    const rpcServer = createServer(
      createRpcListener({ node, fs, pins: new PinService(node.helia), options }, new OriginPolicy(options.corsOrigins)),
    );
    const gatewayServer = createServer(createGatewayListener({ node, fs }));
    const apiAddress = await listen(rpcServer, options.host, options.apiPort, "RPC API");
    cleanups.push(() => close(rpcServer));
    const gatewayAddress = await listen(gatewayServer, options.host, options.gatewayPort, "gateway");
    cleanups.push(() => close(gatewayServer));

    return {
      apiUrl: urlOf(apiAddress),
      gatewayUrl: urlOf(gatewayAddress),
      peerId: node.peerId,
      options,
      node,
      stop: cleanUp,
    };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}

async function listen(server: Server, host: string, port: number, what: string): Promise<AddressInfo> {
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      reject(
        error.code === "EADDRINUSE"
          ? new Error(`the ${what} port ${host}:${port} is in use (another IPFS node?); choose another port`)
          : error,
      );
    };
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve();
    });
  });
  return server.address() as AddressInfo;
}

async function close(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
  await closed;
  clearTimeout(timer);
}

function urlOf(address: AddressInfo): string {
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}
