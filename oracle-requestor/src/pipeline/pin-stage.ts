/**
 * Pins each computed result's canonical bytes to IPFS as one raw block, so that its
 * CID follows from the digest the contract will store. Failures (endpoint down) are
 * retried; a pinned result is never recomputed. It also pins the answers of providers
 * that disagreed in a cross-check (store/audit-evidence.ts), the same way.
 */
import type { Logger } from "pino";
import { pinResult, type KuboRPCClient } from "@argus/ipfs-node/client";
import type { AuditEvidenceStore } from "../store/audit-evidence.ts";
import type { RequestStore } from "../store/request-store.ts";

export class PinStage {
  private readonly store: RequestStore;
  private readonly ipfs: KuboRPCClient;
  private readonly log: Logger;
  private readonly evidence: AuditEvidenceStore | undefined;

  constructor(deps: { store: RequestStore; ipfs: KuboRPCClient; log: Logger; evidence?: AuditEvidenceStore }) {
    this.store = deps.store;
    this.ipfs = deps.ipfs;
    this.log = deps.log;
    this.evidence = deps.evidence;
  }

  async runOnce(signal?: AbortSignal): Promise<number> {
    const computed = this.store.inState("computed", 64);
    let pinned = 0;
    let failed = false;
    let next = 0;
    // A few at a time: a burst's results are pinned in a fraction of the time one by one takes.
    const worker = async () => {
      while (next < computed.length && !failed && !signal?.aborted) {
        const request = computed[next++]!;
        try {
          const cid = await pinResult(this.ipfs, request.resultJson!, signal ? { signal } : {});
          this.store.markPinned(request.requestId, cid.toString());
          pinned++;
        } catch (error) {
          this.log.warn({ requestId: request.requestId.toString(), err: (error as Error).message }, "pinning a result failed; will retry");
          this.store.retryLater(request.requestId, "computed", (error as Error).message, Date.now() + 2_000, false);
          failed = true; // the endpoint is likely down: do not hammer it with the rest
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(PIN_CONCURRENCY, computed.length) }, worker));
    if (!failed) await this.pinEvidence(signal);
    return pinned;
  }

  /** Disagreements' answers, after the results (which wait on-chain settlement): rare, and nothing waits on them. */
  private async pinEvidence(signal?: AbortSignal): Promise<void> {
    for (const answer of this.evidence?.unpinned(PIN_CONCURRENCY) ?? []) {
      if (signal?.aborted) return;
      try {
        const cid = await pinResult(this.ipfs, answer.document, signal ? { signal } : {});
        this.evidence!.markPinned(answer.disagreementId, answer.answerIndex, cid.toString());
        this.log.info({ disagreement: answer.disagreementId, answer: answer.answerIndex, cid: cid.toString() }, "pinned a disputed answer");
      } catch (error) {
        this.log.warn(
          { disagreement: answer.disagreementId, err: (error as Error).message },
          "pinning a disputed answer failed; will retry",
        );
        return;
      }
    }
  }
}

const PIN_CONCURRENCY = 8;
