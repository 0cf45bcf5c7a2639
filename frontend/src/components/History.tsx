/** The connected account's requests from event queries, and the refunds it can withdraw. */
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import type { Address } from "viem";
import type { ModelInfo } from "@argus/escrow/escrow-reads";
import { confirm, withdraw } from "../chain/actions.ts";
import type { TrackedRequest } from "../chain/escrow.ts";
import { formatAmount } from "@argus/escrow/format";
import { formatTime, requestIdHex, shortHex } from "../lib/format.ts";
import { useCurrency, useModels, useRefundBalances, useRequests, useTarget, useWallet } from "../hooks.ts";
import { ErrorNotice } from "./ErrorNotice.tsx";
import { RequestTracker, StatusBadge, useRequestStatus } from "./RequestTracker.tsx";

export function History({ previews }: { previews: ReadonlyMap<string, string> }) {
  const { account } = useWallet();
  const requests = useRequests(account);
  const models = useModels();
  if (account === undefined) return <p className="muted">Connect a wallet to see its requests.</p>;
  if (requests.isPending)
    return (
      <p className="muted" aria-busy="true">
        Reading your requests from the chain…
      </p>
    );
  if (requests.error) return <ErrorNotice error={requests.error} onRetry={() => void requests.refetch()} />;
  const byId = new Map((models.data ?? []).map((model) => [model.id, model]));
  return (
    <>
      <Refunds account={account} models={models.data ?? []} />
      {requests.data.length === 0 ? (
        <p className="muted">No requests from this account yet.</p>
      ) : (
        <ul className="history" data-testid="history">
          {requests.data.map((record) => (
            <HistoryItem
              key={record.terms.requestId.toString()}
              record={record}
              model={byId.get(record.terms.modelId)}
              previewUrl={previews.get(record.imageCid)}
            />
          ))}
        </ul>
      )}
    </>
  );
}

function HistoryItem({
  record,
  model,
  previewUrl,
}: {
  record: TrackedRequest;
  model?: ModelInfo | undefined;
  previewUrl?: string | undefined;
}) {
  const status = useRequestStatus(record);
  const id = requestIdHex(record.terms.requestId);
  return (
    <li>
      <details data-request-id={id} data-phase={status.phase}>
        <summary>
          <StatusBadge status={status} />
          <span className="history-model">{model?.name ?? `model #${record.terms.modelId}`}</span>
          <code className="muted">{shortHex(id, 6, 4)}</code>
          <span className="muted history-time">due {formatTime(record.terms.deadline)}</span>
        </summary>
        <RequestTracker record={record} {...(model ? { model } : {})} {...(previewUrl ? { previewUrl } : {})} />
      </details>
    </li>
  );
}

function Refunds({ account, models }: { account: Address; models: readonly ModelInfo[] }) {
  const tokens = models.map((model) => model.feeToken);
  const balances = useRefundBalances(account, tokens);
  const owed = (balances.data ?? []).filter((balance) => balance.amount > 0n);
  if (owed.length === 0) return null;
  return (
    <div className="refunds" data-testid="refunds">
      {owed.map((balance) => (
        <RefundRow key={balance.token} token={balance.token} amount={balance.amount} />
      ))}
    </div>
  );
}

function RefundRow({ token, amount }: { token: Address; amount: bigint }) {
  const { currency } = useCurrency(token);
  const target = useTarget();
  const queryClient = useQueryClient();
  const [state, setState] = useState<{ busy: boolean; error?: unknown }>({ busy: false });
  async function run() {
    if (!target) return;
    setState({ busy: true });
    try {
      await confirm(target, await withdraw(target, token));
      setState({ busy: false });
      await queryClient.invalidateQueries({ queryKey: ["balances"] });
    } catch (error) {
      setState({ busy: false, error });
    }
  }
  const shown = currency ? formatAmount(amount, currency) : amount.toString();
  return (
    <div className="refund-row">
      <p>
        Refund available: <strong data-testid="refund-amount">{shown}</strong>
      </p>
      <button type="button" onClick={() => void run()} disabled={!target || state.busy}>
        {state.busy ? "Withdrawing…" : `Withdraw ${shown}`}
      </button>
      {state.error !== undefined && <ErrorNotice error={state.error} onRetry={() => void run()} />}
    </div>
  );
}
