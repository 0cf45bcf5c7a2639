/**
 * Pins each computed result's canonical bytes to IPFS as one raw block, so that its
 * CID follows from the digest the contract will store. Failures (endpoint down) are
 * retried; a pinned result is never recomputed.
 */
import type { Logger } from "pino";
import { pinResult, type KuboRPCClient } from "@argus/ipfs-node/client";
import type { RequestStore } from "../store/request-store.ts";

export class PinStage {
  private readonly store: RequestStore;
  private readonly ipfs: KuboRPCClient;
  private readonly log: Logger;

  constructor(deps: { store: RequestStore; ipfs: KuboRPCClient; log: Logger }) {
    this.store = deps.store;
    this.ipfs = deps.ipfs;
    this.log = deps.log;
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
    return pinned;
  }
}

const PIN_CONCURRENCY = 8;
