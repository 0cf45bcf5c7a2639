/**
 * The on-chain model registry as cards to pick from: the manifest's human name, task,
 * input size and description (fetched by the registry's manifest CID and checked), the
 * fee, and the typical wait measured from recent answers, with the deadline as the refund
 * promise it is, the self-test score the manifest records, and the label set the manifest
 * pins, searchable (read once its disclosure is opened).
 */
import { useEffect, useState } from "react";
import type { ModelInfo } from "@argus/escrow/escrow-reads";
import { formatAmount, formatDuration } from "@argus/escrow/format";
import { useCurrency, useDeployment, useManifest, useManifestsSettled, useModels, useRecentWaits } from "../hooks.ts";
import { describeWait, typicalWait } from "../lib/model-card.ts";
import { type SelfTestSummary, selfTestSummary } from "../lib/self-test.ts";
import { ErrorNotice } from "./ErrorNotice.tsx";
import { LabelSet } from "./LabelSet.tsx";

/**
 * How long the cards wait for their manifests (name, input size, description) before they
 * are shown without them: shown at once, each card grew as its manifest arrived and pushed
 * the rest of the page down under the reader's eyes.
 */
const MANIFEST_GRACE_MS = 2_000;

export function ModelPicker({ selected, onSelect }: { selected?: number; onSelect: (model: ModelInfo) => void }) {
  const models = useModels();
  const deployment = useDeployment();
  const manifestsSettled = useManifestsSettled(models.data?.map((model) => model.manifestCid) ?? []);
  const [graceOver, setGraceOver] = useState(false);
  const listed = models.data !== undefined;
  useEffect(() => {
    if (!listed) return;
    const timer = setTimeout(() => setGraceOver(true), MANIFEST_GRACE_MS);
    return () => clearTimeout(timer);
  }, [listed]);
  if (models.isPending || ((models.data?.length ?? 0) > 0 && !manifestsSettled && !graceOver))
    return (
      <p className="muted models-loading" aria-busy="true">
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
  const { currency } = useCurrency(model.feeToken);
  const manifest = useManifest(model.manifestCid);
  const waits = useRecentWaits(model.id);
  const card = manifest.data;
  const wait = typicalWait(waits.data ?? []);
  const id = `model-${model.id}`;
  // The radio is named by what the card shows as its title: the human name and the registry id
  // (two entries may share a manifest's name, e.g. one model priced in two currencies).
  return (
    <div className={`model${checked ? " selected" : ""}${model.active ? "" : " inactive"}`}>
      <label className="model-choice" htmlFor={id}>
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
          <SelfTestScore summary={manifest.isPending ? undefined : manifest.data ? selfTestSummary(manifest.data) : null} />
          {!model.active && <span className="warning-text">Not accepting requests</span>}
        </span>
      </label>
      {/* Outside the label: its filter field and summary must not choose the model. */}
      {card && <LabelSet file={card.labels} modelName={`${card.name} (${model.name})`} />}
    </div>
  );
}

/** The self-test score the registered manifest records; undefined while it is read, null when it cannot be. */
export function SelfTestScore({ summary }: { summary: SelfTestSummary | undefined | null }) {
  if (summary === undefined) return <span className="muted">Self-test …</span>;
  if (summary === null) return <span className="muted">Self-test: manifest unavailable</span>;
  return (
    <>
      <span className={`self-test ${summary.state}`} data-testid="self-test">
        Self-test <strong>{summary.text}</strong>
      </span>
      {summary.unverified !== undefined && (
        <span className="warning-text" title={summary.unverified}>
          Unverified weights
        </span>
      )}
    </>
  );
}
