/**
 * Paying for a request: the exact fee quoted by the contract — also the most the
 * request may cost — the wallet transaction (preceded by a permit signature for
 * token-priced models), its hash and confirmation.
 */
import { imageCidToBytes } from "@argus/protocol/cid";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { bytesToHex, type Hex, zeroAddress } from "viem";
import { usePublicClient } from "wagmi";
import { confirm, payNative, payWithPermit } from "../chain/actions.ts";
import { type ModelInfo, type RequestRecord, requestsInLogs } from "@argus/escrow/escrow-reads";
import { quoteFee } from "../chain/escrow.ts";
import { formatAmount } from "@argus/escrow/format";
import { shortHex } from "../lib/format.ts";
import { useCurrency, useDeployment, useEscrowAddress, useTarget, useWallet } from "../hooks.ts";
import { ErrorNotice } from "./ErrorNotice.tsx";
import { TxLink } from "./TxLink.tsx";

type Stage =
  | { step: "idle" }
  | { step: "signing-permit" }
  | { step: "confirm-tx"; permitSigned: boolean }
  | { step: "pending"; hash: Hex }
  | { step: "confirmed"; hash: Hex; blockNumber: bigint }
  | { step: "failed"; error: unknown; hash?: Hex };

export function PayPanel({
  model,
  imageCid,
  onRequested,
}: {
  model?: ModelInfo;
  imageCid?: string;
  onRequested: (record: RequestRecord) => void;
}) {
  const deployment = useDeployment();
  const escrow = useEscrowAddress();
  const client = usePublicClient({ chainId: deployment.chain.id });
  const target = useTarget();
  const { connected, wrongNetwork } = useWallet();
  const queryClient = useQueryClient();
  const [stage, setStage] = useState<Stage>({ step: "idle" });
  const quote = useQuery({
    queryKey: ["quote", escrow, model?.id],
    queryFn: () => quoteFee(client!, escrow, model!.id),
    enabled: model !== undefined && client !== undefined,
    refetchInterval: 15_000,
  });
  const { currency } = useCurrency(quote.data?.token);

  const busy = stage.step === "signing-permit" || stage.step === "confirm-tx" || stage.step === "pending";
  const missing = [
    !model && "Choose a model.",
    !imageCid && "Choose an image and pin it.",
    !connected && "Connect a wallet to pay.",
    wrongNetwork && `Switch your wallet to ${deployment.chain.name} to pay.`,
  ].filter((reason): reason is string => typeof reason === "string");

  async function pay() {
    if (!target || !model || !imageCid || !quote.data || !currency) return;
    const cidBytes = bytesToHex(imageCidToBytes(imageCid));
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
      if (record) onRequested(record);
      void queryClient.invalidateQueries({ queryKey: ["requests"] });
    } catch (error) {
      setStage({ step: "failed", error, ...(hash === undefined ? {} : { hash }) });
      void quote.refetch();
    }
  }

  const tokenPriced = quote.data !== undefined && quote.data.token !== zeroAddress;
  const fee = quote.data && currency ? formatAmount(quote.data.amount, currency) : undefined;
  return (
    <div className="pay">
      <dl className="summary">
        <dt>Model</dt>
        <dd>{model?.name ?? "—"}</dd>
        <dt>Image</dt>
        <dd>{imageCid ? <code className="cid">{shortHex(imageCid, 10, 8)}</code> : "—"}</dd>
        <dt>Fee</dt>
        <dd data-testid="fee-quote">
          {quote.isFetching && !fee ? "quoting…" : (fee ?? "—")}
          {tokenPriced && <span className="muted"> · paid with a permit signature, no approval transaction</span>}
        </dd>
      </dl>
      {quote.error && <ErrorNotice error={quote.error} onRetry={() => void quote.refetch()} />}
      <button
        type="button"
        className="primary"
        onClick={() => void pay()}
        disabled={missing.length > 0 || busy || !fee || stage.step === "confirmed"}
      >
        {stage.step === "signing-permit"
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
      {missing.length > 0 && stage.step !== "confirmed" && <p className="muted">{missing.join(" ")}</p>}
      <div aria-live="polite">
        {stage.step === "confirm-tx" && stage.permitSigned && <p className="muted">Permit signed.</p>}
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
      </div>
      {stage.step === "failed" && <ErrorNotice error={stage.error} onRetry={() => setStage({ step: "idle" })} retryLabel="Dismiss" />}
    </div>
  );
}
