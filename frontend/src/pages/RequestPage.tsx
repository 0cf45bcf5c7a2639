/**
 * One request's page, `/r/<requestId>`: readable by anyone (public reads through the
 * deployment's RPC, no wallet), shareable, and live while the request is unsettled, so
 * paying lands here and a reload resumes here.
 */
import { useEffect, useRef } from "react";
import { useModels, useRequest, useDeployment, useWallet } from "../hooks.ts";
import { earlyRequestImage } from "../lib/early-request-image.ts";
import { requestIdHex, shortHex } from "../lib/format.ts";
import { pendingStore } from "../lib/pending.ts";
import { ErrorNotice } from "../components/ErrorNotice.tsx";
import { BackLink, RequestLoading, RequestTitle } from "../components/RequestHeading.tsx";
import { RequestTracker } from "../components/RequestTracker.tsx";

export function RequestPage({ requestId, previews }: { requestId: bigint; previews: ReadonlyMap<string, string> }) {
  const deployment = useDeployment();
  const request = useRequest(requestId);
  const models = useModels();
  const { account } = useWallet();
  const id = requestIdHex(requestId);
  // Live: this view saw the request unsettled (just paid, or reloaded while waiting). A visitor
  // opening a settled request is not yanked to its answer.
  const sawPending = useRef(false);
  if (request.data && request.data.settlement === undefined) sawPending.current = true;
  const settled = request.data?.settlement !== undefined;
  useEffect(() => {
    if (settled && account) pendingStore.remove(deployment.chain.id, account, id);
  }, [settled, account, deployment.chain.id, id]);
  useEffect(() => {
    // The result viewer is a lazy chunk: fetch it now, not when the answer is already waiting.
    void import("../components/ResultPanel.tsx");
  }, []);
  useEffect(() => {
    document.title = `Request ${shortHex(id, 6, 4)} · Argus`;
  }, [id]);

  const record = request.data ?? undefined;
  const model = record ? models.data?.find((candidate) => candidate.id === record.terms.modelId) : undefined;
  const preview = record ? previews.get(record.imageCid) : undefined;
  // The photo the entry chunk found before the app loaded, kept on screen while the app reads.
  const earlyImage = earlyRequestImage(requestId);
  return (
    <>
      <BackLink />
      <section className="card" aria-labelledby="request-title" data-testid="request-page" data-request-id={id}>
        <RequestTitle requestId={requestId} />
        {request.isPending ? (
          <RequestLoading imageUrl={earlyImage} />
        ) : request.error ? (
          <ErrorNotice error={request.error} onRetry={() => void request.refetch()} />
        ) : record === undefined ? (
          <div className="notice notice-warning">
            <p className="notice-title">No such request</p>
            <p>
              The escrow at <code>{deployment.contracts.predictionEscrow.address}</code> on {deployment.chain.name} has no request {id}.
              Check the link, or that this page talks to the right deployment.
            </p>
          </div>
        ) : (
          <RequestTracker
            record={record}
            {...(model ? { model } : {})}
            {...(preview ? { previewUrl: preview } : {})}
            live={sawPending.current}
          />
        )}
      </section>
      <section className="card" aria-labelledby="how-verified">
        <h2 id="how-verified">How this answer is verified</h2>
        <p>
          The oracle runs the model on the image and pins its result (a small JSON document) to IPFS. On-chain it records only the result's
          sha256 digest. This page fetches the result from IPFS by the CID that digest names, hashes it in your browser and compares:{" "}
          <strong>Verified</strong> means the bytes shown are exactly the answer the contract recorded, about this request, this model and
          this image. Nobody, not even the oracle, can change them afterwards.
        </p>
      </section>
    </>
  );
}
