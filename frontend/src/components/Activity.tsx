/**
 * The header's activity list: the connected account's requests that are paid and not
 * yet settled (persisted per account and chain, see lib/pending.ts), each linking to its
 * page, as wallets and DEX front-ends keep pending transactions in view.
 */
import { useEffect, useState } from "react";
import { useDeployment, useRequests, useWallet } from "../hooks.ts";
import { requestIdHex } from "../lib/format.ts";
import { shortHex } from "../lib/format.ts";
import { type PendingRequest, pendingStore, usePending } from "../lib/pending.ts";
import { announce } from "./LiveRegion.tsx";
import { onLinkClick } from "../lib/route.ts";

export function Activity() {
  const deployment = useDeployment();
  const { account } = useWallet();
  const pending = usePending(deployment.chain.id, account);
  const requests = useRequests(pending.length > 0 ? account : undefined);
  const [settled, setSettled] = useState<(PendingRequest & { outcome: string })[]>([]);
  // Settled while no page of it was open: the account's history says so. Say it (toast, live region, tab title).
  useEffect(() => {
    if (!account || !requests.data) return;
    const waiting = new Map(pending.map((entry) => [entry.requestId, entry]));
    for (const record of requests.data) {
      const id = requestIdHex(record.terms.requestId);
      const entry = waiting.get(id);
      if (!record.settlement || !entry) continue;
      pendingStore.remove(deployment.chain.id, account, id);
      if (location.pathname === `/r/${id}`) continue; // its own page shows it
      const outcome = record.settlement.kind === "fulfilled" ? "is answered" : `was ${record.settlement.kind}`;
      setSettled((current) => [...current.filter((item) => item.requestId !== id), { ...entry, outcome }]);
      announce(`Your ${entry.modelName} request ${outcome}.`);
      if (document.hidden) document.title = `✓ ${entry.modelName} ${outcome} · Argus`;
    }
  }, [account, requests.data, pending, deployment.chain.id]);
  const toasts = settled.length > 0 && (
    <div className="toasts">
      {settled.map((entry) => (
        <div key={entry.requestId} className="toast" data-testid="toast">
          <p>
            Your {entry.modelName} request {entry.outcome}.{" "}
            <a
              href={`/r/${entry.requestId}`}
              onClick={(event) => {
                setSettled((current) => current.filter((item) => item.requestId !== entry.requestId));
                onLinkClick(event, `/r/${entry.requestId}`);
              }}
            >
              See it
            </a>
          </p>
          <button
            type="button"
            className="secondary small"
            onClick={() => setSettled((current) => current.filter((item) => item.requestId !== entry.requestId))}
          >
            Dismiss
          </button>
        </div>
      ))}
    </div>
  );
  if (pending.length === 0) return toasts || null;
  return (
    <>
      {toasts}
      <details className="activity" data-testid="activity">
        <summary className="activity-toggle">
          <span className="spinner" aria-hidden="true" /> {pending.length} pending
        </summary>
        <ul>
          {pending.map((entry) => (
            <li key={entry.requestId}>
              <a
                href={`/r/${entry.requestId}`}
                onClick={(event) => {
                  (event.currentTarget.closest("details") as HTMLDetailsElement | null)?.removeAttribute("open");
                  onLinkClick(event, `/r/${entry.requestId}`);
                }}
              >
                {entry.modelName} <code>{shortHex(entry.requestId, 6, 4)}</code>
              </a>{" "}
              <span className="muted">paid {new Date(entry.paidAt).toLocaleTimeString(undefined, { timeStyle: "short" })}</span>
            </li>
          ))}
        </ul>
      </details>
    </>
  );
}
