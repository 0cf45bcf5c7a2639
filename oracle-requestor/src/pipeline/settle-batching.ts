/**
 * Which finished requests go into the next settlement transaction, and how much gas it
 * carries, so that no consumer can hold the others up.
 *
 * A consumer's callback may cost nothing when the transaction is estimated and burn its
 * whole paid limit once mined, and the escrow skips a callback it cannot fund (it stays
 * pending) — so `eth_estimateGas` is no measure of a batch with callbacks. A batch
 * therefore carries its estimate plus every callback's whole limit
 * (`callbackGasReserve`), and holds no more callback gas than `maxCallbackGas`.
 *
 * When a batch nonetheless reverts, or the escrow skips an item for want of gas, its
 * requests are posted again split: each callback item alone, the others in batches of at
 * most half the size they failed in (`BatchCaps`). Honest requests are thus carried by
 * at most one more transaction, and a request that keeps failing ends up alone, where it
 * harms nobody else. The caps live in memory: after a restart a batch may fail once more
 * before it is split again.
 */
import { callbackGasReserve, type RequestTerms } from "@argus/escrow/request-terms";

/** Margin on the estimate of the batch without its callbacks' gas. */
const ESTIMATE_MARGIN_PERCENT = 125n;

/** The gas limit a settlement transaction is signed with: the estimate with a margin, plus every callback's whole limit. */
export function settlementGasLimit(estimate: bigint, requests: readonly Pick<RequestTerms, "callbackGasLimit">[]): bigint {
  return (estimate * ESTIMATE_MARGIN_PERCENT) / 100n + callbackGasReserve(requests.map((request) => request.callbackGasLimit));
}

/** The largest batch each request may be posted in again after a failure (absent: any). */
export class BatchCaps {
  private readonly caps = new Map<bigint, number>();

  /** The most requests `requestId` may share a transaction with, itself included. */
  capOf(requestId: bigint): number {
    return this.caps.get(requestId) ?? Number.POSITIVE_INFINITY;
  }

  /**
   * A transaction carrying `requests` reverted: callback items go alone from now on, the
   * others in batches of at most half its size (at least one).
   */
  reverted(requests: readonly Pick<RequestTerms, "requestId" | "callbackGasLimit">[]): void {
    const half = Math.max(1, Math.floor(requests.length / 2));
    for (const request of requests) this.lower(request.requestId, request.callbackGasLimit === 0 ? half : 1);
  }

  /** The escrow skipped `requestId` for want of gas for its callback: it goes alone from now on. */
  isolate(requestId: bigint): void {
    this.lower(requestId, 1);
  }

  /** A settled request needs no cap any more. */
  forget(requestId: bigint): void {
    this.caps.delete(requestId);
  }

  private lower(requestId: bigint, cap: number): void {
    this.caps.set(requestId, Math.min(cap, this.capOf(requestId)));
  }
}

export interface BatchChoice<T> {
  requests: T[];
  /** Whether a limit (count, callback gas, a cap) ended the batch, rather than the supply. */
  full: boolean;
}

/**
 * The next batch from `waiting` (oldest first): requests in order, each only while the
 * batch stays within `maxPerTx`, within `maxCallbackGas` of callback gas (a lone request
 * always fits), and within every member's cap. A request that cannot join is left for a
 * later batch, so a capped one never blocks those behind it.
 */
export function chooseBatch<T extends Pick<RequestTerms, "requestId" | "callbackGasLimit">>(
  waiting: readonly T[],
  options: { maxPerTx: number; maxCallbackGas: bigint; caps: BatchCaps },
): BatchChoice<T> {
  const requests: T[] = [];
  let limit = options.maxPerTx;
  let reserve = 0n;
  let full = false;
  for (const request of waiting) {
    const cap = options.caps.capOf(request.requestId);
    const needs = callbackGasReserve([request.callbackGasLimit]);
    const fits = requests.length === 0 || (requests.length + 1 <= Math.min(limit, cap) && reserve + needs <= options.maxCallbackGas);
    if (!fits) {
      full = true;
      continue;
    }
    requests.push(request);
    limit = Math.min(limit, cap);
    reserve += needs;
    if (requests.length >= limit) return { requests, full: true };
  }
  return { requests, full };
}
