/**
 * The header's activity list: the connected account's requests that are paid and not
 * yet settled (persisted per account and chain, see lib/pending.ts), each linking to its
 * page, as wallets and DEX front-ends keep pending transactions in view.
 */
import { useEffect } from "react";
import { useDeployment, useRequests, useWallet } from "../hooks.ts";
import { requestIdHex } from "../lib/format.ts";
import { shortHex } from "../lib/format.ts";
import { pendingStore, usePending } from "../lib/pending.ts";
import { onLinkClick } from "../lib/route.ts";

export function Activity() {
  const deployment = useDeployment();
  const { account } = useWallet();
  const pending = usePending(deployment.chain.id, account);
  const requests = useRequests(pending.length > 0 ? account : undefined);
  // Settled while no page of it was open: the account's history says so.
  useEffect(() => {
    if (!account || !requests.data) return;
    for (const record of requests.data) {
      if (record.settlement) pendingStore.remove(deployment.chain.id, account, requestIdHex(record.terms.requestId));
    }
  }, [account, requests.data, deployment.chain.id]);
  if (pending.length === 0) return null;
  return (
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
  );
}
