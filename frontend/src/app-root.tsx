/**
 * The app with its providers, loaded by main.tsx after the first paint: wagmi, viem, the
 * connectors, react-query and the deployment record's schema are most of the start-up
 * JavaScript, and nothing the pre-rendered start page shows needs them.
 */
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { type Config, WagmiProvider } from "wagmi";
import { App } from "./App.tsx";
import { type Deployment, loadDeployment } from "./deployment.ts";
import { DeploymentContext } from "./hooks.ts";
import { createWagmiConfig } from "./wallet/config.ts";

const queryClient = new QueryClient({
  defaultOptions: { queries: { retry: 1, refetchOnWindowFocus: false } },
});

export interface Booted {
  deployment: Deployment;
  config: Config;
}

/**
 * The deployment record and the wagmi config built from it, made once per page load, before
 * React renders the app. Not in an effect: React's StrictMode (development builds) runs effects
 * twice, which fetched the record twice and built a second config while the first was
 * reconnecting the wallet; wagmi's `reconnect` lets one run at a time per page, so the
 * second config's was dropped and the wallet showed as disconnected after some dev-server
 * reloads (a race with the wallet's `eth_accounts` answer). `response` is the record's fetch,
 * started by the entry chunk so it does not wait for this chunk.
 */
export async function bootApp(deploymentUrl: string, response: Promise<Response>): Promise<Booted> {
  const deployment = await loadDeployment(deploymentUrl, response);
  return { deployment, config: createWagmiConfig(deployment) };
}

export function AppRoot({ booted }: { booted: Booted }) {
  return (
    <DeploymentContext.Provider value={booted.deployment}>
      <WagmiProvider config={booted.config}>
        <QueryClientProvider client={queryClient}>
          <App />
        </QueryClientProvider>
      </WagmiProvider>
    </DeploymentContext.Provider>
  );
}
