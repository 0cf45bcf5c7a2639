/**
 * A fulfilled request's result, checked in the browser: fetched from IPFS by the CID
 * that the on-chain digest names, checked by `verifyResult` (the recorded digest, the
 * schema, this request's id, model and image, the posted summary: the check `argus
 * result` makes too), and shown with whether it is the answer the contract recorded.
 * Classifiers show their top-5 classes, the detector its boxes, each with who computed
 * it when the result records that (the Golem provider, or the oracle's local executor).
 * Loaded on demand.
 */
import { resultCidFromDigest } from "@argus/protocol/cid";
import {
  type ClassificationResult,
  type DetectionResult,
  describeComputedBy,
  type InferenceResult,
  resultBytes,
} from "@argus/protocol/result";
import type { RecordedAnswer, RequestedInference, ResultVerification } from "@argus/protocol/verify-result";
import { useQuery } from "@tanstack/react-query";
import { useEffect, useId, useRef, useState } from "react";
import { announce } from "./LiveRegion.tsx";
import { resultQuery } from "../lib/result-query.ts";
import { formatPercent, requestIdHex } from "../lib/format.ts";
import { useDeployment } from "../hooks.ts";
import { ErrorNotice } from "./ErrorNotice.tsx";
import { RecomputeInBrowser } from "./RecomputeInBrowser.tsx";
import { detectionLayout, detectionPngFromUrl, LABEL_FONT_FAMILY, LABEL_PLATE_OPACITY, saveBlob } from "../lib/detection-drawing.ts";
import { gatewayFileUrl } from "../ipfs/gateway-url.ts";

export interface ResultPanelProps {
  /** What was requested: the result must be about exactly this request, model and image. */
  request: RequestedInference;
  /** What the escrow recorded for it. */
  answer: RecordedAnswer & { resultDigest: `0x${string}` };
  /** A local preview of the image, if this browser uploaded it; else the gateway serves it. */
  imageUrl?: string | undefined;
  /** The answer arrived while the user watched: scroll it into view, focus it, say it and mark the tab. */
  arrivedLive?: boolean;
}

export default function ResultPanel({ request, answer, imageUrl, arrivedLive = false }: ResultPanelProps) {
  const deployment = useDeployment();
  const cid = resultCidFromDigest(answer.resultDigest).toString();
  const verification = useQuery(resultQuery(deployment.ipfs.apiUrl, request, answer));
  const section = useRef<HTMLElement>(null);
  const outcomeReady = verification.data !== undefined;
  useEffect(() => {
    if (!arrivedLive || !outcomeReady || !section.current) return;
    section.current.scrollIntoView({ block: "start", behavior: "instant" as ScrollBehavior });
    section.current.focus({ preventScroll: true });
  }, [arrivedLive, outcomeReady]);
  useEffect(() => {
    if (!arrivedLive || verification.data === undefined) return;
    const summary = answerSummary(verification.data);
    announce(summary);
    const title = document.title;
    if (document.hidden) document.title = `✓ ${summary} · Argus`;
    const restore = () => {
      if (!document.hidden) document.title = title;
    };
    document.addEventListener("visibilitychange", restore);
    return () => document.removeEventListener("visibilitychange", restore);
  }, [arrivedLive, verification.data]);
  if (verification.isPending)
    return (
      <p className="muted" aria-busy="true">
        Fetching the result from IPFS and checking its hash…
      </p>
    );
  if (verification.error) return <ErrorNotice error={verification.error} onRetry={() => void verification.refetch()} />;
  const outcome = verification.data;
  return (
    <section className="result" aria-label="Result" ref={section} tabIndex={-1} data-testid="result">
      <VerificationMark verification={outcome} cid={cid} gatewayUrl={deployment.ipfs.gatewayUrl} />
      {outcome.result && (
        <ResultView
          result={outcome.result}
          imageUrl={imageUrl ?? gatewayFileUrl(deployment.ipfs.gatewayUrl, request.imageCid)}
          // Only a verified answer is offered as a file.
          pngFileName={outcome.verified ? `argus-${requestIdHex(request.requestId)}.png` : undefined}
        />
      )}
      {outcome.verified && "task" in outcome.result && outcome.result.task === "classification" && (
        <RecomputeInBrowser result={outcome.result} />
      )}
      {outcome.verified && <DownloadResult result={outcome.result} cid={cid} />}
    </section>
  );
}

/**
 * The verified result as a file: its canonical JSON, which is the document whose sha256
 * the contract recorded (the oracle pins exactly these bytes).
 */
function DownloadResult({ result, cid }: { result: InferenceResult; cid: string }) {
  const [url, setUrl] = useState<string | undefined>(undefined);
  useEffect(() => {
    const objectUrl = URL.createObjectURL(new Blob([new Uint8Array(resultBytes(result))], { type: "application/json" }));
    setUrl(objectUrl);
    return () => URL.revokeObjectURL(objectUrl);
  }, [result]);
  if (url === undefined) return null;
  return (
    <p className="download">
      <a href={url} download={`argus-result-${cid}.json`} data-testid="download-json">
        Download the result (JSON)
      </a>
    </p>
  );
}

/** One sentence for the live region and the tab title: whether it is verified, and the answer. */
export function answerSummary(verification: ResultVerification): string {
  if (!verification.verified) return "The result arrived but could not be verified.";
  const result = verification.result;
  if (!result || "error" in result) return "Verified: the model gave no prediction.";
  if (result.task === "classification") {
    const top = result.top5[0];
    return top ? `Verified answer: ${top.label} (${formatPercent(top.score)}).` : "Verified answer.";
  }
  return `Verified answer: ${result.detections.length} detection${result.detections.length === 1 ? "" : "s"}.`;
}

export function VerificationMark({ verification, cid, gatewayUrl }: { verification: ResultVerification; cid: string; gatewayUrl: string }) {
  const link = (
    <a href={gatewayFileUrl(gatewayUrl, cid)} target="_blank" rel="noreferrer">
      <code className="cid">{cid}</code>
    </a>
  );
  if (verification.verified) {
    return (
      <div className="verified" data-testid="verified">
        <span className="ok-mark" aria-hidden="true">
          ✓
        </span>
        <div>
          <p className="notice-title">Verified</p>
          <p>
            The result's sha256 matches the digest the contract recorded, and it names this request, model and image: this is the answer
            on-chain. Result {link}
          </p>
        </div>
      </div>
    );
  }
  return (
    <div className="notice notice-error" data-testid="not-verified" role="alert">
      <p className="notice-title">Not verified</p>
      <p>
        {verification.problem} Do not rely on what is shown below. Result {link}
      </p>
    </div>
  );
}

export function ResultView({
  result,
  imageUrl,
  pngFileName,
}: {
  result: InferenceResult;
  imageUrl: string;
  pngFileName?: string | undefined;
}) {
  if ("error" in result) {
    return (
      <div className="notice notice-warning">
        <p className="notice-title">No prediction: {result.error.code}</p>
        <p>{result.error.message}</p>
      </div>
    );
  }
  return (
    <>
      {result.computedBy && (
        <p className="muted" data-testid="computed-by">
          Computed by {describeComputedBy(result.computedBy)}.
        </p>
      )}
      {result.task === "classification" ? (
        <TopClasses result={result} />
      ) : (
        <Detections result={result} imageUrl={imageUrl} {...(pngFileName === undefined ? {} : { pngFileName })} />
      )}
    </>
  );
}

export function TopClasses({ result }: { result: ClassificationResult }) {
  return (
    <ol className="top5" aria-label="Top classes" data-testid="top5">
      {result.top5.map((entry, index) => (
        <li key={entry.classIndex} className={index === 0 ? "top" : undefined}>
          <span className="label">{entry.label}</span>
          <span className="bar" role="presentation">
            <span className="fill" style={{ width: `${Math.max(0.5, entry.score * 100)}%` }} />
          </span>
          <span className="score">{formatPercent(entry.score)}</span>
        </li>
      ))}
    </ol>
  );
}

export function Detections({ result, imageUrl, pngFileName }: { result: DetectionResult; imageUrl: string; pngFileName?: string }) {
  const { width, height } = result.image;
  const lowest = Math.min(...result.detections.map((detection) => detection.score), 1);
  const [threshold, setThreshold] = useState(Math.floor(lowest * 100));
  const [active, setActive] = useState<string | undefined>(undefined);
  const layout = detectionLayout(result, threshold);
  const shown = layout.items;
  const sliderId = useId();
  return (
    <div className="detections">
      <figure className="overlay" style={{ aspectRatio: `${width} / ${height}` }}>
        <img src={imageUrl} alt="What the detector was shown" />
        <svg
          viewBox={`0 0 ${width} ${height}`}
          preserveAspectRatio="none"
          role="img"
          aria-label={`${shown.length} detections at ${threshold} % or more`}
          data-testid="boxes"
        >
          {shown.map(({ key, detection, colour, box, text, label, textX, textY }) => {
            const dimmed = active !== undefined && active !== key;
            return (
              <g key={key} data-label={detection.label} opacity={dimmed ? 0.3 : 1}>
                <rect
                  x={box.x}
                  y={box.y}
                  width={box.width}
                  height={box.height}
                  fill="none"
                  stroke={colour}
                  strokeWidth={active === key ? layout.stroke * 2 : layout.stroke}
                />
                <rect x={label.x} y={label.y} width={label.width} height={label.height} fill="#000" opacity={LABEL_PLATE_OPACITY} />
                <text x={textX} y={textY} fill={colour} fontSize={layout.fontSize} fontFamily={LABEL_FONT_FAMILY} data-testid="box-label">
                  {text}
                </text>
              </g>
            );
          })}
        </svg>
      </figure>
      {result.detections.length > 0 && (
        <div className="threshold">
          <label htmlFor={sliderId}>Show detections scoring at least</label>
          <input
            id={sliderId}
            type="range"
            min={0}
            max={100}
            step={1}
            value={threshold}
            onChange={(event) => setThreshold(Number(event.target.value))}
            aria-valuetext={`${threshold} %`}
          />
          <output htmlFor={sliderId}>{threshold} %</output>
        </div>
      )}
      {shown.length === 0 ? (
        <p className="muted">
          {result.detections.length === 0 ? "Nothing detected above the model's threshold." : "No detection scores that high."}
        </p>
      ) : (
        <ol className="detection-list" aria-label="Detections">
          {shown.map(({ key, detection, colour }) => (
            <li key={key}>
              <button
                type="button"
                className="detection-item"
                aria-pressed={active === key}
                onClick={() => setActive(active === key ? undefined : key)}
                onMouseEnter={() => setActive(key)}
                onMouseLeave={() => setActive(undefined)}
              >
                <span className="swatch" style={{ background: colour }} aria-hidden="true" />
                {detection.label} <span className="muted">{formatPercent(detection.score)}</span>
              </button>
            </li>
          ))}
        </ol>
      )}
      {pngFileName !== undefined && <DownloadPng result={result} imageUrl={imageUrl} threshold={threshold} fileName={pngFileName} />}
    </div>
  );
}

/** The image with the boxes shown (at the slider's threshold) drawn on, at its own size, as a PNG file. */
function DownloadPng({
  result,
  imageUrl,
  threshold,
  fileName,
}: {
  result: DetectionResult;
  imageUrl: string;
  threshold: number;
  fileName: string;
}) {
  const [state, setState] = useState<{ busy: boolean; error?: string }>({ busy: false });
  async function download() {
    setState({ busy: true });
    try {
      saveBlob(await detectionPngFromUrl(imageUrl, result, threshold), fileName);
      setState({ busy: false });
    } catch (error) {
      setState({ busy: false, error: error instanceof Error ? error.message : String(error) });
    }
  }
  return (
    <>
      <p className="download">
        <button type="button" className="secondary small" onClick={() => void download()} disabled={state.busy} data-testid="download-png">
          {state.busy ? "Drawing the PNG…" : "Download the image with these boxes (PNG)"}
        </button>
      </p>
      {state.error !== undefined && (
        <p className="warning-text" role="alert">
          {state.error}
        </p>
      )}
    </>
  );
}
