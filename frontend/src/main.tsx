import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { StrictMode, useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import { type Config, WagmiProvider } from "wagmi";
import { App } from "./App.tsx";
import { type Deployment, loadDeployment } from "./deployment.ts";
import { DeploymentContext } from "./hooks.ts";
import { createWagmiConfig } from "./wallet/config.ts";
import "./styles.css";

const queryClient = new QueryClient({
  defaultOptions: { queries: { retry: 1, refetchOnWindowFocus: false } },
});

/**
 * The deployment record and the wagmi config built from it, made once per page load, before
 * React renders. Not in an effect: React's StrictMode (development builds) runs effects
 * twice, which fetched the record twice and built a second config while the first was
 * reconnecting the wallet; wagmi's `reconnect` lets one run at a time per page, so the
 * second config's was dropped and the wallet showed as disconnected after some dev-server
 * reloads (a race with the wallet's `eth_accounts` answer). One load also starts the fetch
 * as early as possible.
 */
// Beside index.html whatever the page's path (a request page is /r/<id>).
const boot: Promise<{ deployment: Deployment; config: Config }> = loadDeployment(`${import.meta.env.BASE_URL}deployment.json`).then(
  (deployment) => ({ deployment, config: createWagmiConfig(deployment) }),
);

/** How long the record may take before the page says it is waiting for it (a placeholder shown at once only moved the page when replaced). */
const SLOW_BOOT_MS = 1_000;

function Boot() {
  const [state, setState] = useState<{ deployment?: Deployment; config?: Config; error?: Error }>({});
  const [slow, setSlow] = useState(false);
  useEffect(() => {
    const timer = setTimeout(() => setSlow(true), SLOW_BOOT_MS);
    // Once booted, Boot must not render again: wagmi's provider starts a reconnect on every render.
    const settle = (next: typeof state) => {
      clearTimeout(timer);
      setState(next);
    };
    boot.then(settle, (error: Error) => settle({ error }));
    return () => clearTimeout(timer);
  }, []);
  const { config } = state;
  if (state.error) {
    return (
      <main id="main" className="boot">
        <div className="notice notice-error" role="alert">
          <p className="notice-title">No deployment to talk to</p>
          <p>{state.error.message}</p>
          <p>
            Start the local stack, or after <code>npm run deploy:local</code> run <code>npm run deployment:local -w @argus/frontend</code>,
            then reload.
          </p>
          <button type="button" onClick={() => location.reload()}>
            Reload
          </button>
        </div>
      </main>
    );
  }
  if (!state.deployment || !config)
    return slow ? (
      <p className="boot muted" aria-busy="true">
        Loading the deployment record…
      </p>
    ) : null;
  return (
    <DeploymentContext.Provider value={state.deployment}>
      <WagmiProvider config={config}>
        <QueryClientProvider client={queryClient}>
          <App />
        </QueryClientProvider>
      </WagmiProvider>
    </DeploymentContext.Provider>
  );
}

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <Boot />
  </StrictMode>,
);
