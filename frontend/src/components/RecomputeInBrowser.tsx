/**
 * "Recompute in my browser" under a verified classification: the registered model rerun
 * here (recompute/recompute.ts) and its answer compared with the recorded one. Nothing
 * heavy is loaded until the click: the recompute code and its WASM runtimes (libvips,
 * onnxruntime) are dynamic imports. Progress and the verdict go to the live region.
 */
import { CLASSIFICATION_SCORE_TOLERANCE, type ResultDifference } from "@argus/protocol/compare-results";
import { formatBytes } from "@argus/protocol/limits";
import type { ClassificationResult } from "@argus/protocol/result";
import { useRef, useState } from "react";
import { useDeployment } from "../hooks.ts";
import type { Recomputation, RecomputeStep } from "../recompute/recompute.ts";
import { announce } from "./LiveRegion.tsx";

type State =
  | { phase: "idle" }
  | { phase: "running"; step: RecomputeStep }
  | { phase: "done"; outcome: Recomputation }
  | { phase: "failed"; message: string };

export function RecomputeInBrowser({ result }: { result: ClassificationResult }) {
  const deployment = useDeployment();
  const [state, setState] = useState<State>({ phase: "idle" });
  const running = useRef(false);

  const start = async () => {
    if (running.current) return;
    running.current = true;
    const show = (step: RecomputeStep) => {
      setState({ phase: "running", step });
      if (step.step !== "weights" || step.received === 0) announce(describeStep(step));
    };
    try {
      show({ step: "registry" });
      const [{ recomputeInBrowser }, { loadBrowserRuntimes }, { registeredWeightsSha256 }] = await Promise.all([
        import("../recompute/recompute.ts"),
        import("../recompute/load-runtimes.ts"),
        import("../recompute/registered-weights.ts"),
      ]);
      const outcome = await recomputeInBrowser({
        gatewayUrl: deployment.ipfs.gatewayUrl,
        recorded: result,
        // The result's own modelId is checked against the request's model by verifyResult before this view shows.
        registeredWeightsSha256: await registeredWeightsSha256(deployment, result.modelId),
        loadRuntimes: loadBrowserRuntimes,
        onStep: show,
      });
      setState({ phase: "done", outcome });
      announce(outcome.match ? "Recomputed in your browser: matches." : "Recomputed in your browser: mismatch.");
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      setState({ phase: "failed", message });
      announce(`The recompute failed: ${message}`);
    } finally {
      running.current = false;
    }
  };

  return (
    <section className="recompute" aria-label="Recompute in your browser" data-testid="recompute">
      {state.phase !== "done" && (
        <p>
          <button type="button" onClick={() => void start()} disabled={state.phase === "running"}>
            Recompute in my browser
          </button>{" "}
          <span className="muted">
            Runs the model registered on-chain on this image, here, and compares the answers (downloads the model, a few MB).
          </span>
        </p>
      )}
      {state.phase === "running" && (
        <p className="muted" aria-busy="true" data-testid="recompute-progress">
          {describeStep(state.step)}
        </p>
      )}
      {state.phase === "failed" && (
        <p className="notice notice-error" role="alert" data-testid="recompute-failed">
          Could not recompute: {state.message}
        </p>
      )}
      {state.phase === "done" && <Verdict outcome={state.outcome} />}
    </section>
  );
}

function Verdict({ outcome }: { outcome: Recomputation }) {
  if (outcome.match) {
    return (
      <div className="verified" data-testid="recompute-verdict" data-verdict="match">
        <span className="ok-mark" aria-hidden="true">
          ✓
        </span>
        <div>
          <p className="notice-title">Recomputed: matches</p>
          <p>
            The registered model (weights checked against the sha256 on-chain), run in your browser on this image, gives the same top-5
            classes with every score within {CLASSIFICATION_SCORE_TOLERANCE} — the comparison <code>argus verify --recompute</code> makes.
            The browser needs no wider tolerance: it reproduces the engine's pixels and scores exactly.
          </p>
        </div>
      </div>
    );
  }
  return (
    <div className="notice notice-error" role="alert" data-testid="recompute-verdict" data-verdict="mismatch">
      <p className="notice-title">Recomputed: mismatch</p>
      <p>The registered model, run in your browser on this image, does not give the recorded answer:</p>
      <ul>
        {outcome.differences.map((difference) => (
          <li key={difference.field}>
            <DifferenceText difference={difference} />
          </li>
        ))}
      </ul>
    </div>
  );
}

function DifferenceText({ difference }: { difference: ResultDifference }) {
  return (
    <>
      <code>{difference.field}</code>: recomputed <code>{difference.expected}</code>, recorded <code>{difference.actual}</code>
    </>
  );
}

export function describeStep(step: RecomputeStep): string {
  switch (step.step) {
    case "registry":
      return "Reading the model registry…";
    case "manifest":
      return "Fetching the model's manifest from IPFS…";
    case "weights":
      return step.total > 0
        ? `Downloading the weights… ${formatBytes(step.received)} of ${formatBytes(step.total)}`
        : "Downloading the weights…";
    case "image":
      return "Fetching the image from IPFS…";
    case "loading-runtimes":
      return "Loading libvips and onnxruntime (WebAssembly)…";
    case "decoding":
      return "Decoding and resizing the image with libvips…";
    case "running":
      return "Running the model…";
  }
}
