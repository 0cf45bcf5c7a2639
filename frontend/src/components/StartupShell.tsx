/**
 * What a first visit sees before any JavaScript runs: the skip link, the header's brand and
 * the value statement with how it works. The build renders `StartupShell` into index.html
 * (scripts/prerender-shell.ts) so the page paints at once; the client shows the same markup
 * while the deployment record and the wallet code load, then the app replaces it. `PageTop`
 * and `Intro` are the app's own header and start-page intro: one definition of the copy.
 */
import { onLinkClick } from "../lib/route.ts";

/** The skip link and the header with the brand; the app adds the network badge, activity and wallet. */
export function PageTop({ children }: { children?: React.ReactNode }) {
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Brand />
        {children}
      </header>
    </>
  );
}

function Brand() {
  return (
    <a className="brand" href="/" onClick={(event) => onLinkClick(event, "/")}>
      <span className="logo" aria-hidden="true">
        ◉
      </span>
      <span>
        <strong>Argus</strong> <span className="muted">verifiable image inference</span>
      </span>
    </a>
  );
}

export function Intro() {
  return (
    <section className="intro" aria-labelledby="intro-title">
      <h1 id="intro-title">Ask a neural network about your image, and check its answer</h1>
      <p className="lead">Pay a small fee on-chain; the answer comes back in seconds with proof that it is the one recorded.</p>
      <ol className="how">
        <li>
          <strong>Choose a model and an image.</strong> The image is pinned to <abbr title="the InterPlanetary File System">IPFS</abbr>, a
          public network that names files by their content.
        </li>
        <li>
          <strong>Pay the escrow.</strong> Your wallet sends the fee to a contract that holds it until an answer is posted, and refunds it
          if none comes in time.
        </li>
        <li>
          <strong>Get a verified answer.</strong> The oracle runs the model and records the result's hash on-chain; your browser checks the
          result against it. That is what <em>Verified</em> means.
        </li>
      </ol>
    </section>
  );
}

/**
 * The page before the app is ready. On a request's page (`/r/<id>`) the intro is hidden by
 * CSS (`html.deep-link main[data-startup] .intro`; the class is set by a line of script in
 * index.html's head) so a deep link does not flash the start page.
 */
export function StartupShell({ children }: { children?: React.ReactNode }) {
  return (
    <>
      <PageTop />
      <main id="main" tabIndex={-1} data-startup="">
        <Intro />
        {children}
      </main>
    </>
  );
}
