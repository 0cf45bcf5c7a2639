/**
 * Follows every settlement that landed until it is final, so that a reorg deeper than
 * the confirmations the oracle waited for cannot silently drop an answer it computed
 * and paid for. Final means at or below the node's `finalized` block when the node
 * reports one that lags its head (a proof-of-stake chain, an L2 following L1 finality,
 * Polygon's milestones), otherwise at least `finalityBlocks` deep (a node such as
 * Hardhat's, whose `finalized` is simply its head).
 *
 * The check costs one block header per poll, however many settlements are watched: the
 * header of the newest watched settlement's block. A block's hash commits to every block
 * beneath it, so while that hash is unchanged every watched settlement is still on the
 * chain. Only when it changed are older watched blocks read, newest first, down to the
 * first one still on the chain. The `finalized` tag is read once per new head, not per
 * poll (finality moves only with the chain).
 *
 * A settlement that left the chain is reopened: its transaction is `sent` again and its
 * requests `posting` again, and the settle stage follows it as any sent transaction — it
 * broadcasts the same signed bytes (same nonce), finds it landed again (the network may
 * re-include it by itself), bumps its fees when it is stuck, or, when the new chain used
 * its nonce for another transaction, posts its requests anew. The escrow skips anything
 * already settled, so a re-post can never settle a request twice.
 */
import type { Logger } from "pino";
import { BlockNotFoundError, type Hex, HttpRequestError, type PublicClient, TimeoutError } from "viem";
import type { WatchedSettlement, WatchedSettlements } from "../store/watched-settlements.ts";

export interface SettlementReorg {
  /** Blocks of the old chain the reorg replaced, at least: from the lowest lost settlement to the last head seen. */
  depth: bigint;
  /** The settlements whose block left the chain, and their requests that wait for them again. */
  transactions: WatchedSettlement[];
  requests: number;
}

export interface SettlementWatchEvents {
  /** A settlement became final `blocks` blocks after the one it landed in. */
  onFinal?(settlement: WatchedSettlement, blocks: bigint): void;
  onReorg?(reorg: SettlementReorg): void;
}

export class SettlementWatch {
  private readonly client: PublicClient;
  private readonly records: WatchedSettlements;
  private readonly finalityBlocks: bigint;
  private readonly log: Logger;
  private readonly events: SettlementWatchEvents;
  /** The highest head seen, to tell how deep a reorg went. */
  private lastHead = 0n;
  /** The highest final block, as found at head `head`. */
  private bound: { head: bigint; final: bigint } | undefined;

  constructor(deps: {
    client: PublicClient;
    records: WatchedSettlements;
    finalityBlocks: number;
    log: Logger;
    events?: SettlementWatchEvents;
  }) {
    this.client = deps.client;
    this.records = deps.records;
    this.finalityBlocks = BigInt(deps.finalityBlocks);
    this.log = deps.log;
    this.events = deps.events ?? {};
  }

  /** One poll at chain head `head`: retires what became final, reopens what left the chain. Returns how many were reopened. */
  async check(head: bigint): Promise<number> {
    const watched = this.records.list();
    if (watched.length === 0) return 0;
    const newest = watched[0]!;
    // Read before the chain check: a block at or below a final height that is still on the chain afterwards is the final one.
    if (this.bound?.head !== head) this.bound = { head, final: await this.finalityBound(head) };
    const bound = this.bound.final;
    const reopened = (await this.blockHash(newest.blockNumber)) === newest.blockHash ? 0 : await this.reopenOrphaned(watched, head);
    if (reopened === 0) {
      const final = watched.filter((settlement) => settlement.blockNumber <= bound);
      if (final.length > 0) {
        this.records.finalize(final.map((settlement) => settlement.hash));
        for (const settlement of final) this.events.onFinal?.(settlement, head - settlement.blockNumber);
        this.log.debug({ settlements: final.length, finalBlock: bound, head, watched: watched.length - final.length }, "settlements final");
      }
    }
    if (head > this.lastHead) this.lastHead = head;
    return reopened;
  }

  /**
   * The highest final block: the node's `finalized` when it lags the head, else
   * `finalityBlocks` below the head. A node that refuses the tag has none; one that cannot
   * be reached fails the poll (falling back to the depth rule then could retire
   * settlements that the node's own finality has not reached yet).
   */
  private async finalityBound(head: bigint): Promise<bigint> {
    const finalized = await this.client.getBlock({ blockTag: "finalized" }).catch((error: unknown) => {
      if (error instanceof HttpRequestError || error instanceof TimeoutError) throw error;
      return undefined;
    });
    if (finalized?.number != null && finalized.number < head) return finalized.number;
    return head - this.finalityBlocks;
  }

  /** The canonical chain's hash at `number`; undefined when the chain is not that long (any more). */
  private async blockHash(number: bigint): Promise<Hex | undefined> {
    try {
      return (await this.client.getBlock({ blockNumber: number })).hash ?? undefined;
    } catch (error) {
      if (error instanceof BlockNotFoundError) return undefined;
      throw error;
    }
  }

  /** The newest watched block changed: finds every watched settlement no longer on the chain, and reopens it. */
  private async reopenOrphaned(watched: WatchedSettlement[], head: bigint): Promise<number> {
    const orphaned: WatchedSettlement[] = [];
    const hashes = new Map<bigint, Hex | undefined>();
    for (const settlement of watched) {
      if (!hashes.has(settlement.blockNumber)) hashes.set(settlement.blockNumber, await this.blockHash(settlement.blockNumber));
      // Blocks are read newest first: the first one still on the chain vouches for all older ones.
      if (hashes.get(settlement.blockNumber) === settlement.blockHash) break;
      orphaned.push(settlement);
    }
    if (orphaned.length === 0) return 0;
    let requests = 0;
    for (const settlement of orphaned) requests += this.records.reopen(settlement.hash);
    const lowest = orphaned.at(-1)!.blockNumber;
    // The old chain reached at least the last head seen and the newest watched block (the new one may be longer).
    let oldHead = watched[0]!.blockNumber;
    if (this.lastHead > oldHead) oldHead = this.lastHead;
    const depth = oldHead - lowest + 1n;
    this.log.warn(
      {
        depth: Number(depth),
        lowestBlock: Number(lowest),
        head: Number(head),
        transactions: orphaned.map((settlement) => settlement.hash),
        requests,
      },
      `reorg at least ${depth} block${depth === 1n ? "" : "s"} deep: ${orphaned.length} settlement transaction(s) left the chain; posting them again`,
    );
    this.events.onReorg?.({ depth, transactions: orphaned, requests });
    return orphaned.length;
  }
}
