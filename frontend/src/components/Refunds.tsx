/**
 * Refunds in one place: what the escrow owes the account in each currency (rejected and
 * expired requests), plus the fees of requests past their deadline that nobody has
 * reclaimed yet; one button does every transaction needed (reclaim each such request,
 * then withdraw each currency) and ends in a success state that says what was paid out.
 */
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { type Address, zeroAddress } from "viem";
import { usePublicClient } from "wagmi";
import { type ModelInfo, readToken } from "@argus/escrow/escrow-reads";
import { type Currency, formatAmount } from "@argus/escrow/format";
import { confirm, reclaim, withdraw } from "../chain/actions.ts";
import { fetchBalances, type TrackedRequest } from "../chain/escrow.ts";
import { useChainTime, useCurrency, useDeployment, useEscrowAddress, useRefundBalances, useTarget } from "../hooks.ts";
import { ErrorNotice } from "./ErrorNotice.tsx";
import { announce } from "./LiveRegion.tsx";

type Run = { state: "idle" } | { state: "busy"; step: string } | { state: "done"; paid: string } | { state: "failed"; error: unknown };

export function Refunds({
  account,
  models,
  requests,
}: {
  account: Address;
  models: readonly ModelInfo[];
  requests: readonly TrackedRequest[];
}) {
  const deployment = useDeployment();
  const escrow = useEscrowAddress();
  const client = usePublicClient({ chainId: deployment.chain.id });
  const target = useTarget();
  const queryClient = useQueryClient();
  const chainTime = useChainTime();
  const tokens = models.map((model) => model.feeToken);
  const balances = useRefundBalances(account, tokens);
  const [run, setRun] = useState<Run>({ state: "idle" });
  const overdue =
    chainTime === undefined ? [] : requests.filter((record) => record.settlement === undefined && record.terms.deadline < chainTime);
  const owed = new Map<Address, bigint>();
  for (const balance of balances.data ?? []) if (balance.amount > 0n) owed.set(balance.token, balance.amount);
  for (const record of overdue) {
    const token = models.find((model) => model.id === record.terms.modelId)?.feeToken ?? zeroAddress;
    owed.set(token, (owed.get(token) ?? 0n) + record.terms.fee);
  }

  async function refundAll() {
    if (!target || !client) return;
    const paid: string[] = [];
    try {
      for (const [index, record] of overdue.entries()) {
        setRun({ state: "busy", step: `Reclaiming expired request ${index + 1} of ${overdue.length}…` });
        await confirm(target, await reclaim(target, record.terms));
      }
      const now = await fetchBalances(client, escrow, account, tokens);
      const due = now.filter((balance) => balance.amount > 0n);
      for (const [index, balance] of due.entries()) {
        setRun({ state: "busy", step: `Withdrawing ${index + 1} of ${due.length}…` });
        await confirm(target, await withdraw(target, balance.token));
        const currency: Currency =
          balance.token === zeroAddress ? deployment.chain.nativeCurrency : await readToken({ client }, balance.token);
        paid.push(formatAmount(balance.amount, currency));
      }
      const text = paid.length > 0 ? `${paid.join(" and ")} sent to your wallet.` : "Nothing was left to refund.";
      setRun({ state: "done", paid: text });
      announce(`Refund complete: ${text}`);
    } catch (error) {
      setRun({ state: "failed", error });
    }
    await Promise.all(["balances", "requests", "request"].map((key) => queryClient.invalidateQueries({ queryKey: [key] })));
  }

  if (run.state === "done") {
    return (
      <div className="notice notice-ok refunds" data-testid="refunds-done">
        <p className="notice-title">Refunded</p>
        <p>{run.paid}</p>
        <button type="button" className="secondary small" onClick={() => setRun({ state: "idle" })}>
          OK
        </button>
      </div>
    );
  }
  if (owed.size === 0) return null;
  return (
    <section className="refunds" data-testid="refunds" aria-labelledby="refunds-title">
      <h3 id="refunds-title">Refunds</h3>
      <ul>
        {[...owed].map(([token, amount]) => (
          <OwedRow key={token} token={token} amount={amount} />
        ))}
      </ul>
      {overdue.length > 0 && (
        <p className="muted">
          Includes {overdue.length} request{overdue.length === 1 ? "" : "s"} past {overdue.length === 1 ? "its" : "their"} deadline,
          reclaimed first.
        </p>
      )}
      <button type="button" onClick={() => void refundAll()} disabled={!target || run.state === "busy"}>
        {run.state === "busy" ? run.step : "Get my refund"}
      </button>
      {!target && <span className="muted"> Connect this account on {deployment.chain.name} to collect it.</span>}
      {run.state === "failed" && <ErrorNotice error={run.error} onRetry={() => void refundAll()} />}
    </section>
  );
}

function OwedRow({ token, amount }: { token: Address; amount: bigint }) {
  const { currency } = useCurrency(token);
  return (
    <li>
      <strong data-testid="refund-amount">{currency ? formatAmount(amount, currency) : amount.toString()}</strong>
    </li>
  );
}
