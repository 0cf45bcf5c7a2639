import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { StrictMode, useEffect, useMemo, useState } from "react";
import { createRoot } from "react-dom/client";
import { WagmiProvider } from "wagmi";
import { App } from "./App.tsx";
import { type Deployment, loadDeployment } from "./deployment.ts";
import { DeploymentContext } from "./hooks.ts";
import { createWagmiConfig } from "./wallet/config.ts";
import "./styles.css";

const queryClient = new QueryClient({
  defaultOptions: { queries: { retry: 1, refetchOnWindowFocus: false } },
});

function Boot() {
  const [state, setState] = useState<{ deployment?: Deployment; error?: Error }>({});
  useEffect(() => {
    // Beside index.html whatever the page's path (a request page is /r/<id>).
    loadDeployment(`${import.meta.env.BASE_URL}deployment.json`).then(
      (deployment) => setState({ deployment }),
      (error: Error) => setState({ error }),
    );
  }, []);
  const config = useMemo(() => (state.deployment ? createWagmiConfig(state.deployment) : undefined), [state.deployment]);
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
    return (
      <p className="boot muted" aria-busy="true">
        Loading the deployment record…
      </p>
    );
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
