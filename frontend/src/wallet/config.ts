/**
 * The wagmi configuration, built from the deployment record at start-up: its one chain,
 * an HTTP transport to its RPC endpoint, and the injected wallets the browser announces
 * through EIP-6963 (wagmi's multi-injected-provider discovery). A generic `injected`
 * connector covers the odd wallet that only sets `window.ethereum`.
 */
import { type Chain, defineChain } from "viem";
import { type Config, createConfig, http } from "wagmi";
import { injected } from "wagmi/connectors";
import type { Deployment } from "../deployment.ts";

export function chainFromDeployment(deployment: Deployment): Chain {
  const { chain } = deployment;
  return defineChain({
    id: chain.id,
    name: chain.name,
    nativeCurrency: chain.nativeCurrency,
    rpcUrls: { default: { http: [chain.rpcUrl] } },
    ...(chain.blockExplorerUrl === undefined ? {} : { blockExplorers: { default: { name: "Explorer", url: chain.blockExplorerUrl } } }),
    ...(chain.id === 31337 ? { testnet: true } : {}),
  });
}

export function createWagmiConfig(deployment: Deployment): Config {
  const chain = chainFromDeployment(deployment);
  return createConfig({
    chains: [chain],
    // Calls made in the same tick go as one JSON-RPC batch: a page's start-up asks ~20
    // things at once, and each request costs a round trip and main-thread time of its own.
    // 20 per batch: some public endpoints refuse larger batches.
    transports: { [chain.id]: http(deployment.chain.rpcUrl, { batch: { batchSize: 20 } }) },
    connectors: [injected({ shimDisconnect: true })],
    multiInjectedProviderDiscovery: true,
    // A local chain mines a block per transaction: poll often so status changes show at once.
    pollingInterval: 1_000,
  });
}

/** MetaMask's EIP-6963 reverse-DNS id: listed first when present. */
export const METAMASK_RDNS = "io.metamask";
