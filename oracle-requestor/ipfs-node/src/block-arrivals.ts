/**
 * What a read does when a block is not stored here.
 *
 * A Kubo node asks the network and waits until the request's timeout; an offline node
 * has nobody to ask, but a block can still arrive: another client may be adding the
 * very content being read (the web UI uploads while the oracle polls). So a read of a
 * missing block waits for it to be stored locally, and gives up when its deadline (the
 * request's `timeout`, capped by the node's read timeout) passes. The caller then
 * answers with Kubo's own timeout error, which kubo-rpc-client turns into a TimeoutError.
 *
 * The wait is a Helia block broker, so Helia's block retrieval path (and its check of
 * the block against its CID) is the same offline and online.
 */
import type { BlockBroker, BlockRetrievalOptions } from "helia";
import type { CID } from "multiformats/cid";
import { blockKey } from "./block-store.ts";

/** Thrown when a read's deadline passed before the block it needs was available. */
export class BlockUnavailableError extends Error {
  override name = "BlockUnavailableError";
}

/** Who is waiting for which block; the blockstore reports every block it stores. */
export class BlockArrivals {
  readonly #waiters = new Map<string, Set<() => void>>();

  /** Called by the blockstore once `cid`'s block is stored. */
  notifyStored(cid: CID): void {
    const key = blockKey(cid);
    const waiters = this.#waiters.get(key);
    if (waiters === undefined) return;
    this.#waiters.delete(key);
    for (const wake of waiters) wake();
  }

  /** Resolves when `cid` is stored; rejects when `signal` aborts. */
  waitFor(cid: CID, signal: AbortSignal): { arrived: Promise<void>; cancel: () => void } {
    const key = blockKey(cid);
    let cancel = () => {};
    const arrived = new Promise<void>((resolve, reject) => {
      const waiters = this.#waiters.get(key) ?? new Set<() => void>();
      this.#waiters.set(key, waiters);
      const stopWaiting = () => {
        waiters.delete(wake);
        if (waiters.size === 0 && this.#waiters.get(key) === waiters) this.#waiters.delete(key);
        signal.removeEventListener("abort", onAbort);
      };
      const wake = () => {
        stopWaiting();
        resolve();
      };
      const onAbort = () => {
        stopWaiting();
        reject(new BlockUnavailableError(`block ${cid} is not available: ${String(signal.reason?.message ?? signal.reason)}`));
      };
      cancel = () => {
        stopWaiting();
        resolve();
      };
      waiters.add(wake);
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
    });
    return { arrived, cancel };
  }

  /** Number of blocks someone is waiting for (for tests and metrics). */
  get pending(): number {
    return this.#waiters.size;
  }
}

interface LocalBlockSource {
  has(cid: CID): Promise<boolean>;
  getBytes(cid: CID, options?: { signal?: AbortSignal }): Promise<Uint8Array>;
}

/**
 * A block broker that "retrieves" a missing block by waiting for it to be stored
 * locally. `maxWaitMs` bounds every wait, so a read can never hang even if a caller
 * forgot its own deadline.
 */
export function localArrivalBroker(arrivals: BlockArrivals, store: LocalBlockSource, maxWaitMs: number): BlockBroker {
  return {
    name: "local-arrival",
    async retrieve(cid: CID, options: BlockRetrievalOptions = {}): Promise<Uint8Array> {
      const deadline = AbortSignal.timeout(maxWaitMs);
      const signal = options.signal == null ? deadline : AbortSignal.any([options.signal, deadline]);
      // Subscribe before looking, so a block stored in between is not missed.
      const { arrived, cancel } = arrivals.waitFor(cid, signal);
      if (await store.has(cid)) cancel();
      await arrived;
      return store.getBytes(cid, { signal });
    },
  };
}
