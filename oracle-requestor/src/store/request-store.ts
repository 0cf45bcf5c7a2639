/**
 * Typed access to the queue. A request moves through the states of the oracle status
 * API (ORACLE_STATES in @argus/protocol/oracle-status): received → ready → running →
 * computed → pinned → posting → fulfilled or, when its input is unusable,
 * received|running → rejecting → posting → rejected; `expired` when its deadline
 * passes first. A reorg moves the requests of orphaned blocks to
 * `orphaned_requests`; re-reading brings back those that survived.
 * Each transition is one statement or one transaction, so a crash leaves every
 * request in exactly one state.
 */
import type { DatabaseSync, SQLInputValue } from "node:sqlite";
import type { Address, Hex } from "viem";
import type { RequestTerms } from "@argus/escrow/request-terms";
import type { OracleState } from "@argus/protocol/oracle-status";
import { inTransaction } from "./database.ts";

/** A request's state in the queue: the status API's states. */
export type RequestStateName = OracleState;

/** A `PredictionRequested` event as the intake hands it over. */
export interface RequestedEvent extends RequestTerms {
  imageCid: string;
  blockNumber: bigint;
  blockHash: Hex;
  logIndex: number;
}

export interface StoredRequest extends RequestTerms {
  imageCid: string;
  state: RequestStateName;
  blockNumber: bigint;
  receivedAt: number;
  updatedAt: number;
  attempts: number;
  imageSize: number | null;
  chunkId: string | null;
  rejectReason: number | null;
  error: string | null;
  resultJson: Uint8Array | null;
  resultDigest: Hex | null;
  topClass: number | null;
  topScore: number | null;
  resultCid: string | null;
  settleTx: Hex | null;
  startedAt: number | null;
  settledAt: number | null;
}

interface Row {
  [key: string]: SQLInputValue;
}

function toRequest(row: Row): StoredRequest {
  return {
    requestId: BigInt(row.request_id as string),
    requester: row.requester as Address,
    modelId: Number(row.model_id),
    fee: BigInt(row.fee as string),
    deadline: BigInt(row.deadline as number),
    callbackGasLimit: Number(row.callback_gas_limit),
    imageCid: row.image_cid as string,
    state: row.state as RequestStateName,
    blockNumber: BigInt(row.block_number as number),
    receivedAt: Number(row.received_at),
    updatedAt: Number(row.updated_at),
    attempts: Number(row.attempts),
    imageSize: row.image_size === null ? null : Number(row.image_size),
    chunkId: row.chunk_id as string | null,
    rejectReason: row.reject_reason === null ? null : Number(row.reject_reason),
    error: row.error as string | null,
    resultJson: row.result_json as Uint8Array | null,
    resultDigest: row.result_digest as Hex | null,
    topClass: row.top_class === null ? null : Number(row.top_class),
    topScore: row.top_score === null ? null : Number(row.top_score),
    resultCid: row.result_cid as string | null,
    settleTx: row.settle_tx as Hex | null,
    startedAt: row.started_at === null ? null : Number(row.started_at),
    settledAt: row.settled_at === null ? null : Number(row.settled_at),
  };
}

/** A request whose block left the chain, as it was then. */
export interface OrphanedRequest {
  requestId: bigint;
  blockNumber: bigint;
  state: RequestStateName;
  settleTx: Hex | null;
}

export interface TransactionRecord {
  hash: Hex;
  nonce: number;
  kind: "fulfil" | "reject";
  requestIds: bigint[];
  raw: Hex;
  /** `mined`: landed, and watched until final (store/settlement-watch.ts). */
  state: "sent" | "mined" | "final" | "reverted" | "replaced" | "dropped";
  maxFeePerGas: bigint;
  sentAt: number;
}

export class RequestStore {
  readonly db: DatabaseSync;
  private readonly clock: () => number;

  constructor(db: DatabaseSync, clock: () => number = Date.now) {
    this.db = db;
    this.clock = clock;
  }

  // ------------------------------------------------------------ intake cursor

  getMeta(key: string): string | undefined {
    const row = this.db.prepare("SELECT value FROM meta WHERE key = ?").get(key) as { value: string } | undefined;
    return row?.value;
  }

  setMeta(key: string, value: string): void {
    this.db.prepare("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(key, value);
  }

  /** The hash recorded for a block already read, if any. */
  readBlockHash(number: bigint): Hex | undefined {
    const row = this.db.prepare("SELECT hash FROM read_blocks WHERE number = ?").get(number) as { hash: Hex } | undefined;
    return row?.hash;
  }

  /** Read blocks at or below `number`, newest first (to find where a reorg forked off). */
  readBlocksDownFrom(number: bigint, limit: number): { number: bigint; hash: Hex }[] {
    const rows = this.db.prepare("SELECT number, hash FROM read_blocks WHERE number <= ? ORDER BY number DESC LIMIT ?").all(number, limit);
    return rows.map((row) => ({ number: BigInt(row.number as number), hash: row.hash as Hex }));
  }

  /**
   * Stores a range's events and moves the cursor past it, atomically; duplicates
   * (the same request id again) are ignored. Returns how many requests were new.
   */
  recordRange(events: readonly RequestedEvent[], lastBlock: { number: bigint; hash: Hex }, nextBlock: bigint): number {
    const now = this.clock();
    const insert = this.db.prepare(`INSERT OR IGNORE INTO requests
      (request_id, model_id, requester, image_cid, fee, deadline, callback_gas_limit, block_number, block_hash, log_index, state, received_at, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'received', ?, ?)`);
    return inTransaction(this.db, () => {
      let added = 0;
      for (const event of events) {
        const result = insert.run(
          event.requestId.toString(),
          event.modelId,
          event.requester,
          event.imageCid,
          event.fee.toString(),
          event.deadline,
          event.callbackGasLimit,
          event.blockNumber,
          event.blockHash,
          event.logIndex,
          now,
          now,
        );
        added += Number(result.changes);
      }
      this.db.prepare("INSERT OR REPLACE INTO read_blocks (number, hash) VALUES (?, ?)").run(lastBlock.number, lastBlock.hash);
      this.db.prepare("DELETE FROM read_blocks WHERE number < ?").run(lastBlock.number - 1024n);
      this.setMeta("next_block", nextBlock.toString());
      return added;
    });
  }

  /**
   * After a reorg: forgets what was read above `ancestor` and rewinds the cursor to
   * re-read it. Requests from those blocks leave the queue for `orphaned_requests`, as
   * they were (the re-read brings back into the queue the ones that still exist) — every
   * state, finished and in-flight ones too: a settlement came after its request, so it
   * was orphaned with it, and a request the new branch gives the same id must not be
   * mistaken for the old one. A settlement still on its way for one of them finds no
   * request waiting for it and changes nothing; the contract refuses to settle twice.
   */
  rewindTo(ancestor: bigint): OrphanedRequest[] {
    return inTransaction(this.db, () => {
      this.db.prepare("DELETE FROM read_blocks WHERE number > ?").run(ancestor);
      const rows = this.db
        .prepare("SELECT request_id, block_number, block_hash, state, settle_tx FROM requests WHERE block_number > ? ORDER BY block_number")
        .all(ancestor);
      this.db
        .prepare(`INSERT OR REPLACE INTO orphaned_requests (request_id, block_number, block_hash, state, settle_tx, fork_block, orphaned_at)
          SELECT request_id, block_number, block_hash, state, settle_tx, ?, ? FROM requests WHERE block_number > ?`)
        .run(ancestor, this.clock(), ancestor);
      this.db.prepare("DELETE FROM requests WHERE block_number > ?").run(ancestor);
      this.setMeta("next_block", (ancestor + 1n).toString());
      return rows.map((row) => ({
        requestId: BigInt(row.request_id as string),
        blockNumber: BigInt(row.block_number as number),
        state: row.state as RequestStateName,
        settleTx: row.settle_tx as Hex | null,
      }));
    });
  }

  /** Requests a reorg took off the chain (see rewindTo), newest first. */
  orphanedRequests(limit = 100): (OrphanedRequest & { forkBlock: bigint; orphanedAt: number })[] {
    const rows = this.db.prepare("SELECT * FROM orphaned_requests ORDER BY orphaned_at DESC, block_number DESC LIMIT ?").all(limit);
    return rows.map((row) => ({
      requestId: BigInt(row.request_id as string),
      blockNumber: BigInt(row.block_number as number),
      state: row.state as RequestStateName,
      settleTx: row.settle_tx as Hex | null,
      forkBlock: BigInt(row.fork_block as number),
      orphanedAt: Number(row.orphaned_at),
    }));
  }

  // ------------------------------------------------------------ reading

  get(requestId: bigint): StoredRequest | undefined {
    const row = this.db.prepare("SELECT * FROM requests WHERE request_id = ?").get(requestId.toString()) as Row | undefined;
    return row === undefined ? undefined : toRequest(row);
  }

  /** Requests in `state` whose back-off has passed, oldest first. */
  inState(state: RequestStateName, limit: number, now = this.clock()): StoredRequest[] {
    const rows = this.db
      .prepare("SELECT * FROM requests WHERE state = ? AND not_before <= ? ORDER BY received_at, request_id LIMIT ?")
      .all(state, now, limit) as Row[];
    return rows.map(toRequest);
  }

  countInState(state: RequestStateName): number {
    const row = this.db.prepare("SELECT COUNT(*) AS n FROM requests WHERE state = ?").get(state) as { n: number };
    return Number(row.n);
  }

  /** Queue depth per model and state, for the metrics. */
  countsByModelAndState(): { modelId: number; state: RequestStateName; count: number }[] {
    const rows = this.db.prepare("SELECT model_id, state, COUNT(*) AS n FROM requests GROUP BY model_id, state").all();
    return rows.map((row) => ({ modelId: Number(row.model_id), state: row.state as RequestStateName, count: Number(row.n) }));
  }

  // ------------------------------------------------------------ transitions

  private set(requestId: bigint, fields: Record<string, SQLInputValue>, fromStates?: readonly RequestStateName[]): boolean {
    const names = Object.keys(fields);
    const assignments = [...names.map((name) => `${name} = ?`), "updated_at = ?"].join(", ");
    const values = [...names.map((name) => fields[name]!), this.clock(), requestId.toString()];
    const guard = fromStates ? ` AND state IN (${fromStates.map(() => "?").join(", ")})` : "";
    const result = this.db.prepare(`UPDATE requests SET ${assignments} WHERE request_id = ?${guard}`).run(...values, ...(fromStates ?? []));
    return Number(result.changes) === 1;
  }

  markReady(requestId: bigint, imageSize: number): void {
    this.set(requestId, { state: "ready", image_size: imageSize, error: null }, ["received"]);
  }

  markRejecting(requestId: bigint, reason: number, error: string): void {
    this.set(requestId, { state: "rejecting", reject_reason: reason, error, not_before: 0 }, ["received", "ready", "running"]);
  }

  /**
   * A failed attempt: stay in (or go back to) `state`, not before `retryAt`. Failures
   * that are not the request's own (an endpoint down) pass `countAttempt: false`.
   */
  retryLater(requestId: bigint, state: RequestStateName, error: string, retryAt: number, countAttempt = true): void {
    this.db
      .prepare(
        "UPDATE requests SET state = ?, error = ?, not_before = ?, attempts = attempts + ?, chunk_id = NULL, updated_at = ? WHERE request_id = ?",
      )
      .run(state, error, retryAt, countAttempt ? 1 : 0, this.clock(), requestId.toString());
  }

  markExpired(requestId: bigint, error: string): void {
    this.set(requestId, { state: "expired", error, settled_at: this.clock() });
  }

  markRunning(requestIds: readonly bigint[], chunkId: string): void {
    inTransaction(this.db, () => {
      for (const id of requestIds) this.set(id, { state: "running", chunk_id: chunkId, started_at: this.clock() }, ["ready"]);
    });
  }

  markComputed(requestId: bigint, result: { json: Uint8Array; digest: Hex; topClass: number; topScore: number }): void {
    this.set(
      requestId,
      {
        state: "computed",
        result_json: result.json,
        result_digest: result.digest,
        top_class: result.topClass,
        top_score: result.topScore,
        error: null,
      },
      ["running", "received"],
    );
  }

  markPinned(requestId: bigint, resultCid: string): void {
    this.set(requestId, { state: "pinned", result_cid: resultCid }, ["computed"]);
  }

  // ------------------------------------------------------------ settlement

  /** Records a signed settlement transaction and its requests as posting, before it is broadcast. */
  recordTransaction(tx: Omit<TransactionRecord, "state">): void {
    inTransaction(this.db, () => {
      this.db
        .prepare(
          "INSERT INTO transactions (hash, nonce, kind, request_ids, raw, state, max_fee_per_gas, sent_at) VALUES (?, ?, ?, ?, ?, 'sent', ?, ?)",
        )
        .run(tx.hash, tx.nonce, tx.kind, JSON.stringify(tx.requestIds.map(String)), tx.raw, tx.maxFeePerGas.toString(), tx.sentAt);
      for (const id of tx.requestIds) this.set(id, { state: "posting", settle_tx: tx.hash });
    });
  }

  /** A fee bump: the replacement takes over the same nonce and requests. */
  replaceTransaction(oldHash: Hex, replacement: Omit<TransactionRecord, "state">): void {
    inTransaction(this.db, () => {
      this.db.prepare("UPDATE transactions SET state = 'replaced' WHERE hash = ?").run(oldHash);
      this.recordTransaction(replacement);
    });
  }

  pendingTransactions(): TransactionRecord[] {
    const rows = this.db.prepare("SELECT * FROM transactions WHERE state = 'sent' ORDER BY nonce, sent_at").all();
    return rows.map((row) => ({
      hash: row.hash as Hex,
      nonce: Number(row.nonce),
      kind: row.kind as "fulfil" | "reject",
      requestIds: (JSON.parse(row.request_ids as string) as string[]).map(BigInt),
      raw: row.raw as Hex,
      state: row.state as TransactionRecord["state"],
      maxFeePerGas: BigInt(row.max_fee_per_gas as string),
      sentAt: Number(row.sent_at),
    }));
  }

  finishTransaction(hash: Hex, state: "reverted" | "dropped", gasUsed?: bigint, gasCostWei?: bigint): void {
    this.db
      .prepare("UPDATE transactions SET state = ?, gas_used = ?, gas_cost_wei = ? WHERE hash = ?")
      .run(state, gasUsed?.toString() ?? null, gasCostWei?.toString() ?? null, hash);
  }

  /** Final outcome of a posted request, as the chain reports it. */
  settle(requestId: bigint, outcome: "fulfilled" | "rejected" | "expired", txHash: Hex | null, error?: string): void {
    this.set(requestId, {
      state: outcome,
      settled_at: this.clock(),
      ...(txHash ? { settle_tx: txHash } : {}),
      ...(error ? { error } : {}),
    });
  }

  /** A settlement that did not happen (reverted or dropped transaction): post again. */
  unpost(requestId: bigint, error: string, retryAt: number): void {
    const request = this.get(requestId);
    if (request?.state !== "posting") return;
    const back: RequestStateName = request.rejectReason !== null && request.resultDigest === null ? "rejecting" : "pinned";
    this.retryLater(requestId, back, error, retryAt);
  }

  // ------------------------------------------------------------ recovery and cache

  /** At start-up: chunks that were running when the process died run again. */
  requeueRunning(): number {
    const result = this.db
      .prepare("UPDATE requests SET state = 'ready', chunk_id = NULL, updated_at = ? WHERE state = 'running'")
      .run(this.clock());
    return Number(result.changes);
  }

  cachedResult(modelId: number, imageCid: string, notBefore: number): Uint8Array | undefined {
    const row = this.db
      .prepare("SELECT result_json FROM result_cache WHERE model_id = ? AND image_cid = ? AND created_at >= ?")
      .get(modelId, imageCid, notBefore) as { result_json: Uint8Array } | undefined;
    return row?.result_json;
  }

  cacheResult(modelId: number, imageCid: string, json: Uint8Array): void {
    this.db
      .prepare("INSERT OR REPLACE INTO result_cache (model_id, image_cid, result_json, created_at) VALUES (?, ?, ?, ?)")
      .run(modelId, imageCid, json, this.clock());
  }

  pruneResultCache(olderThan: number): void {
    this.db.prepare("DELETE FROM result_cache WHERE created_at < ?").run(olderThan);
  }
}
