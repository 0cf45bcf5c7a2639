/** The start page: what Argus does, then choose a model and an image and pay, and the account's history. */
import { useState } from "react";
import type { ModelInfo, RequestRecord } from "@argus/escrow/escrow-reads";
import { History } from "../components/History.tsx";
import { type ChosenImage, ImagePicker } from "../components/ImagePicker.tsx";
import { ModelPicker } from "../components/ModelPicker.tsx";
import { PayPanel } from "../components/PayPanel.tsx";
import { Intro } from "../components/StartupShell.tsx";
import { useModels } from "../hooks.ts";

export function HomePage({
  previews,
  onPinned,
  onRequested,
}: {
  previews: ReadonlyMap<string, string>;
  onPinned: (cid: string, previewUrl: string) => void;
  onRequested: (record: RequestRecord, model: ModelInfo) => void;
}) {
  const models = useModels();
  const [modelId, setModelId] = useState<number | undefined>(undefined);
  const [image, setImage] = useState<ChosenImage | undefined>(undefined);
  const model = models.data?.find((candidate) => candidate.id === modelId);
  return (
    <>
      <Intro />
      <section aria-labelledby="step-model" className="card">
        <h2 id="step-model">
          <span className="step-number">1</span> Choose a model
        </h2>
        <ModelPicker {...(modelId === undefined ? {} : { selected: modelId })} onSelect={(chosen: ModelInfo) => setModelId(chosen.id)} />
      </section>
      <section aria-labelledby="step-image" className="card">
        <h2 id="step-image">
          <span className="step-number">2</span> Choose an image
        </h2>
        <ImagePicker onChosen={setImage} onCleared={() => setImage(undefined)} />
      </section>
      <section aria-labelledby="step-pay" className="card">
        <h2 id="step-pay">
          <span className="step-number">3</span> Pay
        </h2>
        <PayPanel
          key={`${modelId ?? ""}:${image?.previewUrl ?? ""}`}
          {...(model ? { model } : {})}
          {...(image ? { image } : {})}
          onPinned={(cid, pinned) => onPinned(cid, pinned.previewUrl)}
          onRequested={(record) => model && onRequested(record, model)}
        />
      </section>
      <section aria-labelledby="history" className="card">
        <h2 id="history">History</h2>
        <History previews={previews} />
      </section>
    </>
  );
}
