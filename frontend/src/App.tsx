import { useMemo, useState } from "react";
import type { ModelInfo, RequestRecord } from "@argus/escrow/escrow-reads";
import { History } from "./components/History.tsx";
import { ImagePicker, type PinnedImage } from "./components/ImagePicker.tsx";
import { ModelPicker } from "./components/ModelPicker.tsx";
import { PayPanel } from "./components/PayPanel.tsx";
import { RequestTracker } from "./components/RequestTracker.tsx";
import { NetworkGuard, WalletButton } from "./components/WalletBar.tsx";
import { useDeployment, useModels, useRequests, useWallet } from "./hooks.ts";

export function App() {
  const deployment = useDeployment();
  const models = useModels();
  const { account } = useWallet();
  const requests = useRequests(account);
  const [modelId, setModelId] = useState<number | undefined>(undefined);
  const [image, setImage] = useState<PinnedImage | undefined>(undefined);
  const [active, setActive] = useState<RequestRecord | undefined>(undefined);
  const [previews, setPreviews] = useState<ReadonlyMap<string, string>>(new Map());

  const model = models.data?.find((candidate) => candidate.id === modelId);
  // The live record (with its settlement) once the event query has it; the receipt's until then.
  const live = useMemo(
    () => (active ? (requests.data?.find((record) => record.terms.requestId === active.terms.requestId) ?? active) : undefined),
    [active, requests.data],
  );
  const activeModel = live ? models.data?.find((candidate) => candidate.id === live.terms.modelId) : undefined;

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <div className="brand">
          <span className="logo" aria-hidden="true">
            ◉
          </span>
          <span>
            <strong>Argus</strong> <span className="muted">verifiable image inference</span>
          </span>
        </div>
        <span className="chain-badge" title={deployment.chain.rpcUrl}>
          {deployment.chain.name}
        </span>
        <WalletButton />
      </header>
      <NetworkGuard />
      <main id="main">
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
          <ImagePicker
            onPinned={(pinned) => {
              setImage(pinned);
              setPreviews((current) => new Map(current).set(pinned.cid, pinned.previewUrl));
            }}
            onCleared={() => setImage(undefined)}
          />
        </section>
        <section aria-labelledby="step-pay" className="card">
          <h2 id="step-pay">
            <span className="step-number">3</span> Pay
          </h2>
          <PayPanel
            key={`${modelId ?? ""}:${image?.cid ?? ""}`}
            {...(model ? { model } : {})}
            {...(image ? { imageCid: image.cid } : {})}
            onRequested={setActive}
          />
        </section>
        {live && (
          <section aria-labelledby="step-follow" className="card">
            <h2 id="step-follow">
              <span className="step-number">4</span> Your request
            </h2>
            <RequestTracker
              record={live}
              {...(activeModel ? { model: activeModel } : {})}
              {...(previews.get(live.imageCid) ? { previewUrl: previews.get(live.imageCid)! } : {})}
            />
          </section>
        )}
        <section aria-labelledby="history" className="card">
          <h2 id="history">History</h2>
          <History previews={previews} />
        </section>
      </main>
      <footer className="muted">
        Escrow <code>{deployment.contracts.predictionEscrow.address}</code> on chain {deployment.chain.id} · IPFS{" "}
        <code>{deployment.ipfs.apiUrl}</code>
      </footer>
    </>
  );
}
