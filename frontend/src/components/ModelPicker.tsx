/**
 * The on-chain model registry as cards to pick from: the manifest's human name, task,
 * input size and description (fetched by the registry's manifest CID and checked), the
 * fee, and the typical wait measured from recent answers, with the deadline as the refund
 * promise it is. (The manifest's labels file is not on IPFS: no label list yet.)
 */
import type { ModelInfo } from "@argus/escrow/escrow-reads";
import { formatAmount, formatDuration } from "@argus/escrow/format";
import { useQuery } from "@tanstack/react-query";
import { useCurrency, useDeployment, useModels, useRecentWaits } from "../hooks.ts";
import { describeWait, fetchManifest, selfTestScore, typicalWait } from "../lib/model-card.ts";
import { ErrorNotice } from "./ErrorNotice.tsx";

export function ModelPicker({ selected, onSelect }: { selected?: number; onSelect: (model: ModelInfo) => void }) {
  const models = useModels();
  const deployment = useDeployment();
  if (models.isPending)
    return (
      <p className="muted" aria-busy="true">
        Reading the model registry…
      </p>
    );
  if (models.error) {
    return (
      <ErrorNotice
        error={
          new Error(
            `The model registry at ${deployment.contracts.predictionEscrow.address} on ${deployment.chain.rpcUrl} could not be read: is the chain running and the deployment record current?`,
            { cause: models.error },
          )
        }
        onRetry={() => void models.refetch()}
      />
    );
  }
  if (models.data.length === 0) return <p className="muted">No model is registered yet.</p>;
  return (
    <fieldset className="models">
      <legend className="visually-hidden">Model</legend>
      {models.data.map((model) => (
        <ModelOption key={model.id} model={model} checked={model.id === selected} onSelect={onSelect} />
      ))}
    </fieldset>
  );
}

function ModelOption({ model, checked, onSelect }: { model: ModelInfo; checked: boolean; onSelect: (model: ModelInfo) => void }) {
  const deployment = useDeployment();
  const { currency } = useCurrency(model.feeToken);
  const manifest = useQuery({
    queryKey: ["manifest", model.manifestCid],
    queryFn: () => fetchManifest(deployment.ipfs.apiUrl, model.manifestCid),
    staleTime: Number.POSITIVE_INFINITY,
    retry: false,
  });
  const waits = useRecentWaits(model.id);
  const card = manifest.data;
  const wait = typicalWait(waits.data ?? []);
  const score = selfTestScore(card);
  const id = `model-${model.id}`;
  // The radio is named by what the card shows as its title: the human name and the registry id
  // (two entries may share a manifest's name, e.g. one model priced in two currencies).
  return (
    <label className={`model${checked ? " selected" : ""}${model.active ? "" : " inactive"}`} htmlFor={id}>
      <input
        type="radio"
        id={id}
        name="model"
        value={model.id}
        checked={checked}
        disabled={!model.active}
        onChange={() => onSelect(model)}
        aria-labelledby={`${id}-name`}
        aria-describedby={`${id}-terms`}
      />
      <span className="model-name" id={`${id}-name`}>
        {card ? (
          <>
            {card.name} <span className="model-id">({model.name})</span>
          </>
        ) : (
          model.name
        )}
      </span>
      <span className={`badge task-${model.task}`}>{model.task === "classification" ? "Classifier" : "Detector"}</span>
      <span className="model-terms" id={`${id}-terms`}>
        {card && (
          <span className="model-facts">
            {card.input.width} × {card.input.height} px input
            {card.task === "detection"
              ? ` · boxes scoring ${Math.round(card.detection.scoreThreshold * 100)} % and up`
              : " · top-5 classes"}
            {score !== undefined && ` · self-test ${Math.round(score * 100)} %`}
          </span>
        )}
        {card?.description && <span className="model-description">{card.description}</span>}
        <span>
          Fee <strong>{currency ? formatAmount(model.fee, currency) : "…"}</strong>
          {currency && "token" in currency && currency.token ? " (permit)" : ""}
        </span>
        <span data-testid="typical-wait">
          {wait !== undefined ? `Answer ${describeWait(wait)}` : "No recent answers to time"} · refunded if none within{" "}
          {formatDuration(model.responseWindow)}
        </span>
        {!model.active && <span className="warning-text">Not accepting requests</span>}
      </span>
    </label>
  );
}
