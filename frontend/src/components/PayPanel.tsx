/**
 * Paying for a request in one click, in two visible steps: pin the image to IPFS (unless
 * this file is pinned already), then the wallet transaction (preceded by a permit
 * signature for token-priced models) and its confirmation. Before that: the exact fee
 * quoted by the contract — also the most the request may cost — the wallet's balance
 * and the network cost, with Pay disabled up front when the balance cannot cover them.
 */
import { imageCidToBytes } from "@argus/protocol/cid";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useRef, useState } from "react";
import { bytesToHex, type Hex, zeroAddress } from "viem";
import { usePublicClient } from "wagmi";
import { confirm, payNative, payWithPermit } from "../chain/actions.ts";
import { type ModelInfo, type RequestRecord, requestsInLogs } from "@argus/escrow/escrow-reads";
import { quoteFee } from "../chain/escrow.ts";
import { formatAmount } from "@argus/escrow/format";
import { useCurrency, useDeployment, useEscrowAddress, useTarget, useWallet } from "../hooks.ts";
import { useFunds } from "../chain/funds.ts";
import { ErrorNotice } from "./ErrorNotice.tsx";
import type { ChosenImage } from "./ImagePicker.tsx";
import { useAnnouncement } from "./LiveRegion.tsx";
import { TxLink } from "./TxLink.tsx";

type Stage =
  | { step: "idle" }
  | { step: "pinning"; loaded: number }
  | { step: "signing-permit" }
  | { step: "confirm-tx"; permitSigned: boolean }
  | { step: "pending"; hash: Hex }
  | { step: "confirmed"; hash: Hex; blockNumber: bigint }
  | { step: "failed"; error: unknown; during: "pin" | "pay"; hash?: Hex };

const loadIpfs = () => import("../ipfs/ipfs.ts");

export function PayPanel({
  model,
  image,
  onPinned,
  onRequested,
}: {
  model?: ModelInfo;
  image?: ChosenImage;
  onPinned: (cid: string, image: ChosenImage) => void;
  onRequested: (record: RequestRecord) => void;
}) {
  const deployment = useDeployment();
  const escrow = useEscrowAddress();
  const client = usePublicClient({ chainId: deployment.chain.id });
  const target = useTarget();
  const { connected, wrongNetwork } = useWallet();
  const queryClient = useQueryClient();
  const [stage, setStage] = useState<Stage>({ step: "idle" });
  // The CID of the file already pinned (a retry after a declined payment does not upload again).
  const pinned = useRef<{ file: File; cid: string } | undefined>(undefined);
  const quote = useQuery({
    queryKey: ["quote", escrow, model?.id],
    queryFn: () => quoteFee(client!, escrow, model!.id),
    enabled: model !== undefined && client !== undefined,
    refetchInterval: 15_000,
  });
  const { currency } = useCurrency(quote.data?.token);
  const funds = useFunds(model, quote.data);

  const busy = stage.step === "pinning" || stage.step === "signing-permit" || stage.step === "confirm-tx" || stage.step === "pending";
  const missing = [
    !model && "Choose a model.",
    !image && "Choose an image.",
    !connected && "Connect a wallet to pay.",
    wrongNetwork && `Switch your wallet to ${deployment.chain.name} to pay.`,
  ].filter((reason): reason is string => typeof reason === "string");

  async function pin(chosen: ChosenImage): Promise<string> {
    if (pinned.current?.file === chosen.file) return pinned.current.cid;
    setStage({ step: "pinning", loaded: 0 });
    const { uploadImage } = await loadIpfs();
    const cid = await uploadImage(deployment.ipfs.apiUrl, chosen.file, (loaded) =>
      setStage((current) => (current.step === "pinning" ? { step: "pinning", loaded } : current)),
    );
    pinned.current = { file: chosen.file, cid };
    onPinned(cid, chosen);
    return cid;
  }

  async function pay() {
    if (!target || !model || !image || !quote.data || !currency) return;
    let cid: string;
    try {
      cid = await pin(image);
    } catch (error) {
      setStage({ step: "failed", error, during: "pin" });
      return;
    }
    const cidBytes = bytesToHex(imageCidToBytes(cid));
    let hash: Hex | undefined;
    try {
      const tokenPriced = quote.data.token !== zeroAddress;
      if (tokenPriced) {
        if (!("token" in currency) || !currency.token) throw new Error("the fee token could not be read");
        setStage({ step: "signing-permit" });
        hash = await payWithPermit(target, model, cidBytes, quote.data.amount, currency.token, () =>
          setStage({ step: "confirm-tx", permitSigned: true }),
        );
      } else {
        setStage({ step: "confirm-tx", permitSigned: false });
        hash = await payNative(target, model, cidBytes, quote.data.amount, currency);
      }
      setStage({ step: "pending", hash });
      const receipt = await confirm(target, hash);
      setStage({ step: "confirmed", hash, blockNumber: receipt.blockNumber });
      const [record] = requestsInLogs(receipt.logs);
      void queryClient.invalidateQueries({ queryKey: ["requests"] });
      if (record) onRequested(record);
    } catch (error) {
      setStage({ step: "failed", error, during: "pay", ...(hash === undefined ? {} : { hash }) });
      void quote.refetch();
    }
  }

  const tokenPriced = quote.data !== undefined && quote.data.token !== zeroAddress;
  const fee = quote.data && currency ? formatAmount(quote.data.amount, currency) : undefined;
  const short = funds.short && connected && !wrongNetwork;
  const progress = payProgress(stage, image?.file === pinned.current?.file && pinned.current !== undefined);
  useAnnouncement(progress.spoken);
  return (
    <div className="pay">
      <dl className="summary">
        <dt>Model</dt>
        <dd>{model?.name ?? "—"}</dd>
        <dt>Image</dt>
        <dd>{image ? image.file.name : "—"}</dd>
        <dt>Fee</dt>
        <dd data-testid="fee-quote">
          {quote.isFetching && !fee ? "quoting…" : (fee ?? "—")}
          {tokenPriced && <span className="muted"> · paid with a permit signature, no approval transaction</span>}
        </dd>
        {funds.networkCost !== undefined && (
          <>
            <dt>Network cost</dt>
            <dd data-testid="network-cost">≈ {funds.networkCost}</dd>
          </>
        )}
        {funds.balance !== undefined && connected && !wrongNetwork && (
          <>
            <dt>Your balance</dt>
            <dd data-testid="balance">{funds.balance}</dd>
          </>
        )}
      </dl>
      {quote.error && <ErrorNotice error={quote.error} onRetry={() => void quote.refetch()} />}
      <button
        type="button"
        className="primary"
        onClick={() => void pay()}
        disabled={missing.length > 0 || busy || !fee || short || stage.step === "confirmed"}
        aria-describedby="pay-hint"
      >
        {stage.step === "pinning"
          ? "Pinning the image…"
          : stage.step === "signing-permit"
            ? "Sign the permit in your wallet…"
            : stage.step === "confirm-tx"
              ? "Confirm the transaction in your wallet…"
              : stage.step === "pending"
                ? "Waiting for confirmation…"
                : stage.step === "confirmed"
                  ? "Paid"
                  : fee
                    ? tokenPriced
                      ? `Sign permit & pay ${fee}`
                      : `Pay ${fee}`
                    : "Pay"}
      </button>
      <p id="pay-hint" className="muted">
        {missing.length > 0 && stage.step !== "confirmed"
          ? missing.join(" ")
          : short
            ? `Your balance does not cover ${funds.needed}. Add funds to this account, then pay.`
            : "One click: the image is pinned to IPFS, then your wallet asks you to confirm the payment."}
      </p>
      {stage.step !== "idle" && (
        <ol className="steps pay-steps" aria-label="Payment progress">
          {progress.steps.map((step) => (
            <li key={step.label} className={`step step-${step.state}`} aria-current={step.state === "current" ? "step" : undefined}>
              <span className="step-mark" aria-hidden="true">
                {step.state === "done" ? "✓" : step.state === "failed" ? "✕" : step.state === "current" ? "●" : "○"}
              </span>
              <span className="step-label">{step.label}</span>
              <span className="visually-hidden"> ({STATE_WORDS[step.state]})</span>
            </li>
          ))}
        </ol>
      )}
      {stage.step === "pinning" && image && (
        <progress max={image.file.size} value={Math.min(stage.loaded, image.file.size)} aria-label="Upload progress" />
      )}
      {(stage.step === "pending" || stage.step === "confirmed" || (stage.step === "failed" && stage.hash)) && (
        <p>
          Transaction <TxLink hash={(stage as { hash: Hex }).hash} />{" "}
          {stage.step === "pending" && <span className="muted">submitted, waiting for confirmation…</span>}
          {stage.step === "confirmed" && (
            <span className="ok-text" data-testid="tx-confirmed">
              confirmed in block {stage.blockNumber.toString()}
            </span>
          )}
        </p>
      )}
      {stage.step === "failed" &&
        (stage.during === "pin" ? (
          <ErrorNotice error={stage.error} onRetry={() => void pay()} retryLabel="Retry upload" />
        ) : (
          <ErrorNotice error={stage.error} onRetry={() => setStage({ step: "idle" })} retryLabel="Dismiss" />
        ))}
    </div>
  );
}

const STATE_WORDS = { done: "done", current: "in progress", upcoming: "next", failed: "failed" } as const;

/** The two steps of paying, their states, and the sentence to announce. */
export function payProgress(stage: Stage, alreadyPinned: boolean) {
  type State = keyof typeof STATE_WORDS;
  const pin: State =
    stage.step === "pinning"
      ? "current"
      : stage.step === "failed" && stage.during === "pin"
        ? "failed"
        : stage.step === "idle" && !alreadyPinned
          ? "upcoming"
          : "done";
  const pay: State =
    stage.step === "confirmed"
      ? "done"
      : stage.step === "failed" && stage.during === "pay"
        ? "failed"
        : stage.step === "idle" || stage.step === "pinning" || (stage.step === "failed" && stage.during === "pin")
          ? "upcoming"
          : "current";
  const spoken =
    stage.step === "pinning"
      ? "Step 1 of 2: pinning the image to IPFS."
      : stage.step === "signing-permit"
        ? "Step 2 of 2: sign the permit in your wallet."
        : stage.step === "confirm-tx"
          ? "Step 2 of 2: confirm the payment in your wallet."
          : stage.step === "pending"
            ? "Payment submitted, waiting for confirmation."
            : stage.step === "confirmed"
              ? "Payment confirmed. Opening your request."
              : undefined;
  return {
    steps: [
      { label: "Pin the image to IPFS", state: pin },
      { label: "Pay in your wallet", state: pay },
    ],
    spoken,
  };
}
