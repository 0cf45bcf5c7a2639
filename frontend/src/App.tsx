import { useCallback, useState } from "react";
import type { ModelInfo, RequestRecord } from "@argus/escrow/escrow-reads";
import { Activity } from "./components/Activity.tsx";
import { LiveRegion } from "./components/LiveRegion.tsx";
import { PageTop } from "./components/StartupShell.tsx";
import { NetworkGuard, WalletButton } from "./components/WalletBar.tsx";
import { useDeployment, useWallet } from "./hooks.ts";
import { requestIdHex } from "./lib/format.ts";
import { pendingStore } from "./lib/pending.ts";
import { navigate, onLinkClick, parseRoute, requestPath, usePath } from "./lib/route.ts";
import { HomePage } from "./pages/HomePage.tsx";
import { RequestPage } from "./pages/RequestPage.tsx";

const HOME_TITLE = "Argus · verifiable image inference";

export function App() {
  const deployment = useDeployment();
  const { account, wrongNetwork } = useWallet();
  const route = parseRoute(usePath());
  // Local previews of images this tab pinned, by CID: the request page shows them without a gateway round trip.
  const [previews, setPreviews] = useState<ReadonlyMap<string, string>>(new Map());
  const onPinned = useCallback((cid: string, url: string) => setPreviews((current) => new Map(current).set(cid, url)), []);
  const onRequested = useCallback(
    (record: RequestRecord, model: ModelInfo) => {
      if (account) {
        pendingStore.add(deployment.chain.id, account, {
          requestId: requestIdHex(record.terms.requestId),
          modelName: model.name,
          paidAt: Date.now(),
        });
      }
      navigate(requestPath(record.terms.requestId));
    },
    [account, deployment.chain.id],
  );
  if (route.page !== "request" && typeof document !== "undefined") document.title = HOME_TITLE;

  return (
    <>
      <PageTop>
        <span className={`chain-badge${wrongNetwork ? " chain-wrong" : ""}`} title={deployment.chain.rpcUrl}>
          {deployment.chain.name}
          {wrongNetwork && <span className="visually-hidden"> (your wallet is on another network)</span>}
        </span>
        <Activity />
        <WalletButton />
      </PageTop>
      <NetworkGuard />
      <main id="main" tabIndex={-1}>
        {route.page === "home" && <HomePage previews={previews} onPinned={onPinned} onRequested={onRequested} />}
        {route.page === "request" && <RequestPage key={route.requestId.toString()} requestId={route.requestId} previews={previews} />}
        {route.page === "not-found" && (
          <section className="card">
            <h1>Nothing here</h1>
            <p>
              There is no page at <code>{route.path}</code>.{" "}
              <a href="/" onClick={(event) => onLinkClick(event, "/")}>
                Start a request
              </a>
              .
            </p>
          </section>
        )}
      </main>
      <footer className="muted">
        Escrow <code>{deployment.contracts.predictionEscrow.address}</code> on chain {deployment.chain.id} · IPFS{" "}
        <code>{deployment.ipfs.apiUrl}</code>
      </footer>
      <LiveRegion />
    </>
  );
}
