/** The on-chain model registry as a list to pick from: name, task, fee, deadline, self-test score. */
import type { ModelInfo } from "@argus/escrow/escrow-reads";
import { formatAmount, formatDuration } from "@argus/escrow/format";
import { useCurrency, useDeployment, useManifest, useModels } from "../hooks.ts";
import { type SelfTestSummary, selfTestSummary } from "../lib/self-test.ts";
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
  const { currency } = useCurrency(model.feeToken);
  const id = `model-${model.id}`;
  // The radio is named by the model's name alone; its terms describe it.
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
        {model.name}
      </span>
      <span className={`badge task-${model.task}`}>{model.task === "classification" ? "Classifier" : "Detector"}</span>
      <span className="model-terms" id={`${id}-terms`}>
        <span>
          Fee <strong>{currency ? formatAmount(model.fee, currency) : "…"}</strong>
          {currency && "token" in currency && currency.token ? " (permit)" : ""}
        </span>
        <span>Answer within {formatDuration(model.responseWindow)}</span>
        <ModelSelfTest manifestCid={model.manifestCid} />
        {!model.active && <span className="warning-text">Not accepting requests</span>}
      </span>
    </label>
  );
}

function ModelSelfTest({ manifestCid }: { manifestCid: string }) {
  const manifest = useManifest(manifestCid);
  if (manifest.isPending) return <SelfTestScore summary={undefined} />;
  if (manifest.error) return <SelfTestScore summary={null} />;
  return <SelfTestScore summary={selfTestSummary(manifest.data)} />;
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
