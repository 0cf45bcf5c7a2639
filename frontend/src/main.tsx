/**
 * The entry chunk: React, the start-up shell and a request page's photo. The app, with
 * wagmi, viem and react-query, is a lazy chunk (app-root.tsx) so its download and evaluation
 * come after the first paint instead of before it. On the start page the shell is already
 * in index.html (pre-rendered by the build) and is hydrated; on a request's page the entry
 * shows the title and, as soon as one eth_getLogs has named it, the photo
 * (lib/early-request-image.ts). Either stays on screen until the app is ready.
 */
import { StrictMode, startTransition, useEffect, useState } from "react";
import { config as zodConfig } from "zod";
import { createRoot, hydrateRoot } from "react-dom/client";
import { requestDeploymentRecord } from "@argus/escrow/deployment-request";
import type { Booted } from "./app-root.tsx";
import { BackLink, RequestLoading, RequestTitle } from "./components/RequestHeading.tsx";
import { PageTop, StartupShell } from "./components/StartupShell.tsx";
import { afterImagePainted, lookUpRequestImage } from "./lib/early-request-image.ts";
import { parseRoute } from "./lib/route.ts";
import "./styles.css";

// zod compiles a parser for each object schema the first time it parses (new Function). The UI
// parses each schema a few times, so compiling costs more than it saves (twice the first
// parse's time, measured), and without it a CSP need not allow `unsafe-eval`. Set here, in the
// entry: schemas read the setting when they are built, as the app chunk's modules load.
zodConfig({ jitless: true });

// Started at once, and only once per page load (see bootApp). The record sits beside
// index.html whatever the page's path (a request page is /r/<id>).
const DEPLOYMENT_URL = `${import.meta.env.BASE_URL}deployment.json`;
// Fetched alongside the app chunk rather than after it; the app validates it (loadDeployment).
const deploymentResponse = requestDeploymentRecord(DEPLOYMENT_URL);
deploymentResponse.catch(() => {}); // reported by loadDeployment, which may attach only after the fetch has failed
// A request page's photo, its largest paint, is looked up and shown now rather than once the
// app has loaded; the app chunk waits for it (a bounded wait: afterImagePainted), because its
// download and start-up would take the network and the main thread from the photo.
const route = parseRoute(location.pathname);
const earlyImage = route.page === "request" ? lookUpRequestImage(route.requestId, deploymentResponse) : undefined;
const appModule = (earlyImage ?? Promise.resolve(undefined))
  .then((url) => (url === undefined ? undefined : afterImagePainted(url)))
  .then(() => import("./app-root.tsx"));
const boot = appModule.then(({ bootApp }) => bootApp(DEPLOYMENT_URL, deploymentResponse));

/** How long the record may take before the page says it is waiting for it. */
const SLOW_BOOT_MS = 1_000;

function Boot() {
  const [state, setState] = useState<{ booted?: Booted; AppRoot?: typeof import("./app-root.tsx")["AppRoot"]; error?: Error }>({});
  const [slow, setSlow] = useState(false);
  const [imageUrl, setImageUrl] = useState<string>();
  useEffect(() => {
    void earlyImage?.then(setImageUrl);
  }, []);
  useEffect(() => {
    const timer = setTimeout(() => setSlow(true), SLOW_BOOT_MS);
    // Once booted, Boot must not render again: wagmi's provider starts a reconnect on every render.
    // A transition: React renders the app in slices, yielding to the browser between them,
    // instead of one long task that blocks input while the page is already on screen.
    const settle = (next: typeof state) => {
      clearTimeout(timer);
      startTransition(() => setState(next));
    };
    Promise.all([boot, appModule]).then(
      ([booted, { AppRoot }]) => settle({ booted, AppRoot }),
      (error: Error) => settle({ error }),
    );
    return () => clearTimeout(timer);
  }, []);
  const { booted, AppRoot } = state;
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
  if ((!booted || !AppRoot) && route.page === "request")
    return (
      <>
        <PageTop />
        <main id="main" tabIndex={-1} data-startup="">
          <BackLink />
          <section className="card" aria-labelledby="request-title">
            <RequestTitle requestId={route.requestId} />
            <RequestLoading imageUrl={imageUrl} />
          </section>
        </main>
      </>
    );
  if (!booted || !AppRoot)
    return (
      <StartupShell>
        {slow && (
          <p className="boot muted" aria-busy="true">
            Loading the deployment record…
          </p>
        )}
      </StartupShell>
    );
  return <AppRoot booted={booted} />;
}

const container = document.getElementById("root")!;
const page = (
  <StrictMode>
    <Boot />
  </StrictMode>
);
// The build pre-renders the start page's shell into #root (scripts/prerender-shell.ts). There
// it is hydrated, not rendered again: new nodes would be painted anew, moving the page's
// largest paint from the HTML's first paint to after this script. Elsewhere (a request's
// page, the dev server's empty #root) the shell is not this page's, so it is replaced.
if (route.page === "home" && container.firstElementChild !== null) hydrateRoot(container, page);
else createRoot(container).render(page);
