/**
 * Settlement transactions that landed but are not final yet (`mined` in the
 * transactions table), with the block each landed in: the settle stage watches them
 * until a reorg can no longer take them away (pipeline/settlement-watch.ts). The rows
 * are in the durable queue, so the watch goes on across restarts.
 */
import type { DatabaseSync } from "node:sqlite";
import type { Hex } from "viem";
import { inTransaction } from "./database.ts";

export interface WatchedSettlement {
  hash: Hex;
  nonce: number;
  blockNumber: bigint;
  blockHash: Hex;
  requestIds: bigint[];
}

export class WatchedSettlements {
  private readonly db: DatabaseSync;
  private readonly clock: () => number;

  constructor(db: DatabaseSync, clock: () => number = Date.now) {
    this.db = db;
    this.clock = clock;
  }

  /** A settlement landed in `block`: its fees are booked, and it is watched from now on. */
  landed(hash: Hex, block: { number: bigint; hash: Hex }, gasUsed: bigint, gasCostWei: bigint): void {
    this.db
      .prepare("UPDATE transactions SET state = 'mined', block_number = ?, block_hash = ?, gas_used = ?, gas_cost_wei = ? WHERE hash = ?")
      .run(block.number, block.hash, gasUsed.toString(), gasCostWei.toString(), hash);
  }

  /** Every watched settlement, newest block first. */
  list(): WatchedSettlement[] {
    const rows = this.db
      .prepare(
        "SELECT hash, nonce, block_number, block_hash, request_ids FROM transactions WHERE state = 'mined' ORDER BY block_number DESC, nonce DESC",
      )
      .all();
    return rows.map((row) => ({
      hash: row.hash as Hex,
      nonce: Number(row.nonce),
      blockNumber: BigInt(row.block_number as number),
      blockHash: row.block_hash as Hex,
      requestIds: (JSON.parse(row.request_ids as string) as string[]).map(BigInt),
    }));
  }

  count(): number {
    const row = this.db.prepare("SELECT COUNT(*) AS n FROM transactions WHERE state = 'mined'").get() as { n: number };
    return Number(row.n);
  }

  /** These can no longer be reorganised away: they leave the watch. */
  finalize(hashes: readonly Hex[]): void {
    inTransaction(this.db, () => {
      const update = this.db.prepare("UPDATE transactions SET state = 'final' WHERE hash = ? AND state = 'mined'");
      for (const hash of hashes) update.run(hash);
    });
  }

  /**
   * Its block left the chain: the transaction is `sent` again (to be broadcast once more,
   * and followed like any sent one), and the requests it had settled wait for it again.
   * Returns how many requests went back to `posting`.
   */
  reopen(hash: Hex): number {
    return inTransaction(this.db, () => {
      this.db
        .prepare(
          "UPDATE transactions SET state = 'sent', sent_at = ?, block_number = NULL, block_hash = NULL WHERE hash = ? AND state = 'mined'",
        )
        .run(this.clock(), hash);
      const reopened = this.db
        .prepare(
          "UPDATE requests SET state = 'posting', settled_at = NULL, updated_at = ? WHERE settle_tx = ? AND state IN ('fulfilled', 'rejected', 'expired')",
        )
        .run(this.clock(), hash);
      return Number(reopened.changes);
    });
  }
}
