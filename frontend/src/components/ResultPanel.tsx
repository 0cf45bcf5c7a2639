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
  type Detection,
  type DetectionResult,
  describeComputedBy,
  type InferenceResult,
} from "@argus/protocol/result";
import { type RecordedAnswer, type RequestedInference, type ResultVerification, verifyResult } from "@argus/protocol/verify-result";
import { useQuery } from "@tanstack/react-query";
import { readResultBytes } from "../ipfs/ipfs.ts";
import { formatPercent } from "../lib/format.ts";
import { useDeployment } from "../hooks.ts";
import { ErrorNotice } from "./ErrorNotice.tsx";

export interface ResultPanelProps {
  /** What was requested: the result must be about exactly this request, model and image. */
  request: RequestedInference;
  /** What the escrow recorded for it. */
  answer: RecordedAnswer & { resultDigest: `0x${string}` };
  /** A local preview of the image, if this browser uploaded it; else the gateway serves it. */
  imageUrl?: string | undefined;
}

export default function ResultPanel({ request, answer, imageUrl }: ResultPanelProps) {
  const deployment = useDeployment();
  const cid = resultCidFromDigest(answer.resultDigest).toString();
  const verification = useQuery({
    queryKey: ["result", answer.resultDigest, request.requestId.toString(), request.modelName, request.imageCid],
    queryFn: () => fetchAndVerifyResult(deployment.ipfs.apiUrl, request, answer),
    staleTime: Infinity,
    retry: 1,
  });
  if (verification.isPending)
    return (
      <p className="muted" aria-busy="true">
        Fetching the result from IPFS and checking its hash…
      </p>
    );
  if (verification.error) return <ErrorNotice error={verification.error} onRetry={() => void verification.refetch()} />;
  const outcome = verification.data;
  return (
    <section className="result" aria-label="Result">
      <VerificationMark verification={outcome} cid={cid} gatewayUrl={deployment.ipfs.gatewayUrl} />
      {outcome.result && (
        <ResultView result={outcome.result} imageUrl={imageUrl ?? `${deployment.ipfs.gatewayUrl}/ipfs/${request.imageCid}`} />
      )}
    </section>
  );
}

/** The recorded result from the IPFS node at `apiUrl`, checked against the request and the chain. */
export async function fetchAndVerifyResult(
  apiUrl: string,
  request: RequestedInference,
  answer: ResultPanelProps["answer"],
): Promise<ResultVerification> {
  return verifyResult(await readResultBytes(apiUrl, answer.resultDigest), request, answer);
}

export function VerificationMark({ verification, cid, gatewayUrl }: { verification: ResultVerification; cid: string; gatewayUrl: string }) {
  const link = (
    <a href={`${gatewayUrl}/ipfs/${cid}`} target="_blank" rel="noreferrer">
      <code className="cid">{cid}</code>
    </a>
  );
  if (verification.verified) {
    return (
      <div className="verified" data-testid="verified" role="status">
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

export function ResultView({ result, imageUrl }: { result: InferenceResult; imageUrl: string }) {
  if ("error" in result) {
    return (
      <div className="notice notice-warning" role="status">
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
      {result.task === "classification" ? <TopClasses result={result} /> : <Detections result={result} imageUrl={imageUrl} />}
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

const BOX_COLOURS = ["#e4572e", "#17bebb", "#ffc914", "#76b041", "#a06cd5", "#2e86ab"];

export function Detections({ result, imageUrl }: { result: DetectionResult; imageUrl: string }) {
  const { width, height } = result.image;
  const stroke = Math.max(2, Math.round(Math.max(width, height) / 250));
  const fontSize = Math.max(12, Math.round(Math.max(width, height) / 40));
  return (
    <div className="detections">
      <figure className="overlay" style={{ aspectRatio: `${width} / ${height}` }}>
        <img src={imageUrl} alt="What the detector was shown" />
        <svg
          viewBox={`0 0 ${width} ${height}`}
          preserveAspectRatio="none"
          role="img"
          aria-label={`${result.detections.length} detections`}
          data-testid="boxes"
        >
          {result.detections.map((detection) => {
            const colour = BOX_COLOURS[detection.classIndex % BOX_COLOURS.length];
            const { x, y, width: w, height: h } = detection.box;
            return (
              <g key={detectionKey(detection)} data-label={detection.label}>
                <rect x={x} y={y} width={w} height={h} fill="none" stroke={colour} strokeWidth={stroke} />
                <text
                  x={x + stroke}
                  y={Math.max(fontSize, y - stroke)}
                  fill={colour}
                  fontSize={fontSize}
                  paintOrder="stroke"
                  stroke="#000"
                  strokeWidth={stroke / 2}
                >
                  {detection.label} {Math.round(detection.score * 100)}%
                </text>
              </g>
            );
          })}
        </svg>
      </figure>
      {result.detections.length === 0 ? (
        <p className="muted">Nothing detected above the model's threshold.</p>
      ) : (
        <ol className="detection-list" aria-label="Detections">
          {result.detections.map((detection) => (
            <li key={detectionKey(detection)}>
              <span className="swatch" style={{ background: BOX_COLOURS[detection.classIndex % BOX_COLOURS.length] }} aria-hidden="true" />
              {detection.label} <span className="muted">{formatPercent(detection.score)}</span>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}

/** Detections have no id; class and box tell them apart (NMS leaves no two of a class on one box). */
function detectionKey(detection: Detection): string {
  const { x, y, width, height } = detection.box;
  return `${detection.classIndex}:${x}:${y}:${width}:${height}`;
}
