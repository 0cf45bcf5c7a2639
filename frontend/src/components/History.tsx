/**
 * The connected account's requests from event queries, newest first and paged: each row
 * shows the image, the model, the answer (from the verified result, cached by CID), when
 * and the fee, and links to the request's page. Refunds have their own panel.
 */
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import type { ModelInfo } from "@argus/escrow/escrow-reads";
import type { TrackedRequest } from "../chain/escrow.ts";
import { formatAmount } from "@argus/escrow/format";
import { formatPercent, formatTime, requestIdHex } from "../lib/format.ts";
import { resultQuery } from "../lib/result-query.ts";
import { onLinkClick, requestPath } from "../lib/route.ts";
import { useCurrency, useDeployment, useModels, useRequests, useWallet } from "../hooks.ts";
import { ErrorNotice } from "./ErrorNotice.tsx";
import { Refunds } from "./Refunds.tsx";
import { StatusBadge, useRequestStatus } from "./RequestTracker.tsx";
import { gatewayFileUrl } from "../ipfs/gateway-url.ts";

/** Rows shown at first, and added by "Show more". */
export const HISTORY_PAGE = 10;

export function History({ previews }: { previews: ReadonlyMap<string, string> }) {
  const { account } = useWallet();
  const requests = useRequests(account);
  const models = useModels();
  const [shown, setShown] = useState(HISTORY_PAGE);
  if (account === undefined) return <p className="muted">Connect a wallet to see its requests.</p>;
  if (requests.isPending)
    return (
      <p className="muted" aria-busy="true">
        Reading your requests from the chain…
      </p>
    );
  if (requests.error) return <ErrorNotice error={requests.error} onRetry={() => void requests.refetch()} />;
  const byId = new Map((models.data ?? []).map((model) => [model.id, model]));
  const rows = requests.data.slice(0, shown);
  return (
    <>
      <Refunds account={account} models={models.data ?? []} requests={requests.data} />
      {requests.data.length === 0 ? (
        <p className="muted">No requests from this account yet.</p>
      ) : (
        <>
          <ul className="history" data-testid="history">
            {rows.map((record) => (
              <HistoryRow
                key={record.terms.requestId.toString()}
                record={record}
                model={byId.get(record.terms.modelId)}
                previewUrl={previews.get(record.imageCid)}
              />
            ))}
          </ul>
          {requests.data.length > shown && (
            <button type="button" className="secondary" onClick={() => setShown(shown + HISTORY_PAGE)}>
              Show {Math.min(HISTORY_PAGE, requests.data.length - shown)} more of {requests.data.length - shown}
            </button>
          )}
        </>
      )}
    </>
  );
}

function HistoryRow({
  record,
  model,
  previewUrl,
}: {
  record: TrackedRequest;
  model?: ModelInfo | undefined;
  previewUrl?: string | undefined;
}) {
  const deployment = useDeployment();
  const status = useRequestStatus(record);
  const { currency } = useCurrency(model?.feeToken);
  const id = requestIdHex(record.terms.requestId);
  const path = requestPath(record.terms.requestId);
  // The escrow sets deadline = request time + the model's response window.
  const requestedAt = model ? record.terms.deadline - BigInt(model.responseWindow) : undefined;
  return (
    <li className="history-row" data-request-id={id} data-phase={status.phase}>
      <img
        className="thumb"
        src={previewUrl ?? gatewayFileUrl(deployment.ipfs.gatewayUrl, record.imageCid)}
        alt=""
        width={48}
        height={48}
        loading="lazy"
      />
      <div className="history-main">
        <a href={path} onClick={(event) => onLinkClick(event, path)} className="history-model">
          {model?.name ?? `model #${record.terms.modelId}`}
        </a>{" "}
        <StatusBadge status={status} />
        <p className="history-answer">
          {record.settlement?.kind === "fulfilled" && model ? (
            <RowAnswer record={record} model={model} />
          ) : (
            <span className="muted">{status.detail}</span>
          )}
        </p>
      </div>
      <p className="history-meta muted">
        {requestedAt !== undefined && <span>{formatTime(requestedAt)}</span>}
        <span>{currency ? formatAmount(record.terms.fee, currency) : ""}</span>
      </p>
    </li>
  );
}

/** The answer in a few words, from the verified result (one fetch per result ever: cached by CID). */
function RowAnswer({ record, model }: { record: TrackedRequest; model: ModelInfo }) {
  const deployment = useDeployment();
  const settlement = record.settlement;
  const verification = useQuery({
    ...resultQuery(
      deployment.ipfs.apiUrl,
      { requestId: record.terms.requestId, modelName: model.name, imageCid: record.imageCid },
      settlement?.kind === "fulfilled" ? settlement : { resultDigest: "0x" },
    ),
    enabled: settlement?.kind === "fulfilled",
  });
  const outcome = verification.data;
  if (!outcome) return <span className="muted">{verification.error ? "Result unavailable." : "Reading the answer…"}</span>;
  if (!outcome.verified) return <span className="warning-text">Not verified</span>;
  const result = outcome.result;
  if ("error" in result) return <span>No prediction: {result.error.code}</span>;
  if (result.task === "classification") {
    const top = result.top5[0];
    return (
      <span data-testid="row-answer">
        ✓ {top?.label ?? "—"} {top && <span className="muted">{formatPercent(top.score)}</span>}
      </span>
    );
  }
  const labels = [...new Set(result.detections.map((detection) => detection.label))];
  return (
    <span data-testid="row-answer">
      ✓ {result.detections.length} detection{result.detections.length === 1 ? "" : "s"}
      {labels.length > 0 && <span className="muted"> · {labels.slice(0, 3).join(", ")}</span>}
    </span>
  );
}
