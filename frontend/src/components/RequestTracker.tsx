/** One request followed live from the escrow's events: its lifecycle, deadline, and result. */
import { lazy, Suspense, useState } from "react";
import { useQueryClient } from "@tanstack/react-query";
import type { ModelInfo } from "@argus/escrow/escrow-reads";
import { confirm, reclaim } from "../chain/actions.ts";
import type { TrackedRequest } from "../chain/escrow.ts";
import { formatAmount, formatDuration } from "@argus/escrow/format";
import { formatTime, requestIdHex, shortHex } from "../lib/format.ts";
import { deriveStatus, lifecycleSteps, type RequestStatus } from "../lib/status.ts";
import { useBlockTime, useChainTime, useCurrency, useDeployment, useOracleProgress, useTarget, useWallet } from "../hooks.ts";
import { ErrorNotice } from "./ErrorNotice.tsx";
import { useAnnouncement } from "./LiveRegion.tsx";
import { CopyableValue } from "./CopyButton.tsx";
import { ChainValue } from "./TxLink.tsx";
import { gatewayFileUrl } from "../ipfs/gateway-url.ts";

const ResultPanel = lazy(() => import("./ResultPanel.tsx"));

export function useRequestStatus(record: TrackedRequest): RequestStatus {
  const chainTime = useChainTime();
  const input = { deadline: record.terms.deadline, settlement: record.settlement, chainTime };
  const onChain = deriveStatus(input);
  // Only a request still waiting for its answer asks the oracle where it is.
  const oracle = useOracleProgress(record, onChain.phase === "requested");
  return oracle === undefined ? onChain : deriveStatus({ ...input, oracle });
}

export function StatusBadge({ status }: { status: RequestStatus }) {
  return <span className={`badge status-${status.phase}`}>{status.label}</span>;
}

/** A request with the time of its block, when read (the request page reads it). */
export type TimedRequest = TrackedRequest & { requestedAt?: bigint };

export function RequestTracker({
  record,
  model,
  previewUrl,
  live = false,
}: {
  record: TimedRequest;
  model?: ModelInfo;
  previewUrl?: string;
  /** Followed live on its page: announce each step, and bring the answer into view and focus when it arrives. */
  live?: boolean;
}) {
  const deployment = useDeployment();
  const status = useRequestStatus(record);
  // Only once the answer is shown: off the path from settlement to screen.
  const settledAt = useBlockTime(record.requestedAt !== undefined ? record.settlement?.blockNumber : undefined);
  useAnnouncement(live ? `${status.label}. ${status.detail}` : undefined);
  const steps = lifecycleSteps(status);
  const { currency } = useCurrency(model?.feeToken);
  const id = requestIdHex(record.terms.requestId);
  return (
    <div className="tracker" data-testid="request-tracker" data-phase={status.phase}>
      <ol className="steps" aria-label="Request progress">
        {steps.map((step) => (
          <li key={step.id} className={`step step-${step.state}`} aria-current={step.state === "current" ? "step" : undefined}>
            <span className="step-mark" aria-hidden="true">
              {step.state === "done" ? "✓" : step.state === "failed" ? "✕" : step.state === "current" ? "●" : "○"}
            </span>
            <span className="step-label">{step.label}</span>
          </li>
        ))}
      </ol>
      <p className="status-line">
        <StatusBadge status={status} /> {status.detail}
        {status.secondsLeft !== undefined && status.secondsLeft > 0 && (
          <span className="muted"> Deadline in {formatDuration(status.secondsLeft)}.</span>
        )}
      </p>
      <div className="request-body">
        {/* Detection results draw the image themselves, under their boxes. */}
        {model?.task !== "detection" && (
          <img
            className="request-image"
            src={previewUrl ?? gatewayFileUrl(deployment.ipfs.gatewayUrl, record.imageCid)}
            alt="What the model was asked about"
          />
        )}
        <dl className="summary">
          <dt>Request</dt>
          <dd>
            <code title={id} data-testid="request-id">
              {shortHex(id, 8, 6)}
            </code>
          </dd>
          <dt>Model</dt>
          <dd>{model?.name ?? `#${record.terms.modelId}`}</dd>
          {model && (
            <>
              <dt>Manifest</dt>
              <dd>
                <CopyableValue value={model.manifestCid} label="manifest CID" short={shortHex(model.manifestCid, 10, 8)} className="cid" />
              </dd>
            </>
          )}
          <dt>Requester</dt>
          <dd>
            <ChainValue kind="address" value={record.terms.requester} label="requester address" testId="requester" />
          </dd>
          <dt>Escrow</dt>
          <dd>
            <ChainValue kind="address" value={deployment.contracts.predictionEscrow.address} label="escrow address" />
          </dd>
          <dt>Fee</dt>
          <dd>{currency ? formatAmount(record.terms.fee, currency) : record.terms.fee.toString()}</dd>
          {record.requestedAt !== undefined && (
            <>
              <dt>Requested</dt>
              <dd data-testid="requested-at">{formatTime(record.requestedAt)}</dd>
            </>
          )}
          {settledAt !== undefined && record.settlement && (
            <>
              <dt>{record.settlement.kind === "fulfilled" ? "Answered" : "Settled"}</dt>
              <dd data-testid="settled-at">
                {formatTime(settledAt)}
                {record.requestedAt !== undefined && (
                  <span className="muted"> · {formatDuration(Number(settledAt - record.requestedAt))} after the request</span>
                )}
              </dd>
            </>
          )}
          {!status.final && (
            <>
              <dt>Deadline</dt>
              <dd>{formatTime(record.terms.deadline)}</dd>
            </>
          )}
          <dt>Image</dt>
          <dd>
            <CopyableValue
              value={record.imageCid}
              label="image CID"
              short={shortHex(record.imageCid, 10, 8)}
              className="cid"
              testId="image-cid"
            />
          </dd>
          <dt>Paid in</dt>
          <dd>
            <ChainValue kind="tx" value={record.transactionHash} label="request transaction hash" testId="tx-hash" />
          </dd>
          {record.settlement && (
            <>
              <dt>Settled in</dt>
              <dd>
                <ChainValue kind="tx" value={record.settlement.transactionHash} label="settlement transaction hash" testId="tx-hash" />
              </dd>
            </>
          )}
          {record.settlement?.kind === "fulfilled" && (
            <>
              <dt>Result</dt>
              <dd>
                <CopyableValue
                  value={record.settlement.resultCid}
                  label="result CID"
                  short={shortHex(record.settlement.resultCid, 10, 8)}
                  href={gatewayFileUrl(deployment.ipfs.gatewayUrl, record.settlement.resultCid)}
                  className="cid"
                  testId="result-cid"
                />
              </dd>
              <dt>Result digest</dt>
              <dd>
                <CopyableValue
                  value={record.settlement.resultDigest}
                  label="result digest"
                  short={shortHex(record.settlement.resultDigest, 8, 6)}
                  testId="result-digest"
                />
              </dd>
            </>
          )}
        </dl>
      </div>
      {status.reclaimable && <ReclaimButton record={record} />}
      {record.settlement?.kind === "fulfilled" &&
        // The result is checked against the requested model's name, so it waits for the registry.
        (model ? (
          <Suspense
            fallback={
              <p className="muted" aria-busy="true">
                Loading the result viewer…
              </p>
            }
          >
            <ResultPanel
              request={{ requestId: record.terms.requestId, modelName: model.name, imageCid: record.imageCid }}
              answer={record.settlement}
              imageUrl={previewUrl}
              arrivedLive={live}
            />
          </Suspense>
        ) : (
          <p className="muted" aria-busy="true">
            Reading the model registry to check the result…
          </p>
        ))}
    </div>
  );
}

function ReclaimButton({ record }: { record: TrackedRequest }) {
  const target = useTarget();
  const deployment = useDeployment();
  const { connected } = useWallet();
  const queryClient = useQueryClient();
  const [state, setState] = useState<{ busy: boolean; error?: unknown }>({ busy: false });
  async function run() {
    if (!target) return;
    setState({ busy: true });
    try {
      await confirm(target, await reclaim(target, record.terms));
      setState({ busy: false });
      await Promise.all(["requests", "request", "balances"].map((key) => queryClient.invalidateQueries({ queryKey: [key] })));
    } catch (error) {
      setState({ busy: false, error });
    }
  }
  return (
    <div className="reclaim">
      <button type="button" onClick={() => void run()} disabled={!target || state.busy}>
        {state.busy ? "Reclaiming…" : "Reclaim the fee"}
      </button>
      {!target && (
        <span className="muted"> {connected ? `Switch to ${deployment.chain.name} to reclaim.` : "Connect a wallet to reclaim."}</span>
      )}
      {state.error !== undefined && <ErrorNotice error={state.error} onRetry={() => void run()} />}
    </div>
  );
}
