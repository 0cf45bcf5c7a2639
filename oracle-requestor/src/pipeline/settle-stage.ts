/**
 * Posts results and rejections on-chain in batched transactions and follows them to
 * confirmation, and then until they are final (settlement-watch.ts): a settlement that a
 * reorg takes off the chain is posted again. Crash safety: each transaction is signed,
 * recorded (with its requests set to `posting`) and only then broadcast, so after a
 * restart every possibly-sent transaction is known and is either found mined,
 * rebroadcast, fee-bumped, or declared dropped — and then its requests are simply posted
 * again: the escrow skips anything already settled, so nothing is ever settled twice.
 * Batches are sized and split by settle-batching.ts, so that no consumer's callback can
 * hold the other requests up.
 */
import type { Logger } from "pino";
import {
  type Address,
  encodeFunctionData,
  type Hex,
  keccak256,
  type LocalAccount,
  parseTransaction,
  type PublicClient,
  TransactionReceiptNotFoundError,
} from "viem";
import { predictionEscrowAbi } from "@argus/escrow/abi";
import { packFulfillment, type RequestTerms, SkipReason } from "@argus/escrow/request-terms";
import { findSettlements } from "@argus/escrow/escrow-reads";
import { readSettlementLogs } from "@argus/escrow/settlement-logs";
import type { RequestStore, StoredRequest, TransactionRecord } from "../store/request-store.ts";
import { WatchedSettlements } from "../store/watched-settlements.ts";
import { SettlementWatch, type SettlementWatchEvents } from "./settlement-watch.ts";
import { BatchCaps, chooseBatch, settlementGasLimit } from "./settle-batching.ts";

export interface SettleStageOptions {
  escrow: Address;
  chainId: number;
  confirmations: number;
  /** How deep a settlement must be to count as final, on a node without a lagging `finalized` block. */
  finalityBlocks: number;
  maxPerTx: number;
  receiptTimeoutMs: number;
  maxFeePerGas: bigint;
  /** Settlement transactions in flight at once. */
  maxInFlight?: number;
  /**
   * Longest a settled-to-be request waits for its transaction to fill while more results
   * are on their way (a transaction goes at once when full, or when nothing is upstream).
   */
  lingerMs?: number;
}

export interface SettlementReport {
  kind: "fulfil" | "reject";
  hash: Hex;
  requests: number;
  settled: number;
  skipped: number;
  gasUsed: bigint;
  gasCostWei: bigint;
  feesCredited: Map<Address, bigint>;
  /** Seconds from each settled request's arrival to its settlement. */
  latenciesS: number[];
}

/** States whose requests will reach settlement soon: while any exist, a partial batch may wait for them. */
const UPSTREAM_STATES = ["received", "ready", "running", "computed"] as const;

const FEE_BUMP_PERCENT = 125n; // replacements must pay ≥ 10% more; 25% clears congestion faster

export class SettleStage {
  private readonly client: PublicClient;
  private readonly account: LocalAccount;
  private readonly store: RequestStore;
  private readonly options: Required<SettleStageOptions>;
  private readonly log: Logger;
  private readonly onSettled: (report: SettlementReport) => void;
  private readonly watched: WatchedSettlements;
  private readonly watch: SettlementWatch;
  /** How requests whose batch failed are split when posted again. */
  private readonly caps = new BatchCaps();
  /** Most callback gas one transaction carries: half the block gas limit (read once). */
  private maxCallbackGas: bigint | undefined;

  constructor(deps: {
    client: PublicClient;
    account: LocalAccount;
    store: RequestStore;
    options: SettleStageOptions;
    log: Logger;
    onSettled?: (report: SettlementReport) => void;
    watchEvents?: SettlementWatchEvents;
  }) {
    this.client = deps.client;
    this.account = deps.account;
    this.store = deps.store;
    this.options = { maxInFlight: 4, lingerMs: 0, ...deps.options };
    this.log = deps.log;
    this.onSettled = deps.onSettled ?? (() => {});
    this.watched = new WatchedSettlements(deps.store.db);
    this.watch = new SettlementWatch({
      client: deps.client,
      records: this.watched,
      finalityBlocks: deps.options.finalityBlocks,
      log: deps.log,
      ...(deps.watchEvents ? { events: deps.watchEvents } : {}),
    });
  }

  /**
   * Follows sent transactions, then posts what is waiting: batch after batch while
   * transactions may be in flight (a request posted alone after a failure must not hold
   * back the batch behind it). Returns how many requests it posted.
   */
  async runOnce(chainNowS: bigint): Promise<number> {
    await this.follow();
    this.maxCallbackGas ??= (await this.client.getBlock({ blockTag: "latest" })).gasLimit / 2n;
    let posted = 0;
    for (const kind of ["fulfil", "reject"] as const) {
      const waiting = this.store.inState(kind === "fulfil" ? "pinned" : "rejecting", 2 * this.options.maxPerTx);
      let live = kind === "fulfil" ? this.dropExpired(waiting, chainNowS) : waiting;
      while (live.length > 0 && this.store.pendingTransactions().length < this.options.maxInFlight) {
        const batch = chooseBatch(live, { maxPerTx: this.options.maxPerTx, maxCallbackGas: this.maxCallbackGas, caps: this.caps });
        if (!batch.full && !this.due(batch.requests)) break;
        const sent = await this.post(kind, batch.requests);
        if (sent === 0) break;
        posted += sent;
        live = live.filter((request) => !batch.requests.includes(request));
      }
    }
    return posted;
  }

  /** A full batch goes at once; a partial one once its oldest has lingered, or when no more results are coming. */
  private due(waiting: StoredRequest[]): boolean {
    if (waiting.length >= this.options.maxPerTx || this.options.lingerMs === 0) return true;
    if (Date.now() - Math.min(...waiting.map((request) => request.updatedAt)) >= this.options.lingerMs) return true;
    return UPSTREAM_STATES.every((state) => this.store.countInState(state) === 0);
  }

  /** A result that can no longer land in time is not posted; the requester reclaims the fee. */
  private dropExpired(requests: StoredRequest[], chainNowS: bigint): StoredRequest[] {
    return requests.filter((request) => {
      if (request.deadline >= chainNowS + 1n) return true;
      this.store.markExpired(request.requestId, "its deadline passed before the result could be posted");
      return false;
    });
  }

  private async post(kind: "fulfil" | "reject", requests: StoredRequest[]): Promise<number> {
    const data =
      kind === "fulfil"
        ? encodeFunctionData({
            abi: predictionEscrowAbi,
            functionName: "fulfillBatch",
            args: [
              requests.map((request) =>
                packFulfillment(request, request.resultDigest!, { topClass: request.topClass!, topScore: request.topScore! }),
              ),
            ],
          })
        : encodeFunctionData({
            abi: predictionEscrowAbi,
            functionName: "rejectBatch",
            args: [requests.map((request) => ({ terms: termsOf(request), reason: request.rejectReason! }))],
          });
    try {
      const estimate = await this.client.estimateGas({ account: this.account.address, to: this.options.escrow, data });
      // Rejections call nobody back; fulfilments carry each callback's whole limit.
      const gas = settlementGasLimit(estimate, kind === "fulfil" ? requests : []);
      const nonce = await this.nextNonce();
      await this.sign({ kind, requestIds: requests.map((request) => request.requestId), nonce, gas, data }, undefined);
      return requests.length;
    } catch (error) {
      this.log.warn({ kind, count: requests.length, err: (error as Error).message }, "could not post a settlement; will retry");
      for (const request of requests) {
        this.store.retryLater(request.requestId, request.state, `posting failed: ${(error as Error).message}`, Date.now() + 5_000, false);
      }
      return 0;
    }
  }

  /** Signs, records, then broadcasts; `replacing` bumps the fees of a stuck transaction with the same nonce. */
  private async sign(
    tx: { kind: "fulfil" | "reject"; requestIds: bigint[]; nonce: number; gas: bigint; data: Hex },
    replacing: TransactionRecord | undefined,
  ): Promise<void> {
    const fees = await this.client.estimateFeesPerGas();
    let maxFeePerGas = fees.maxFeePerGas;
    let maxPriorityFeePerGas = fees.maxPriorityFeePerGas;
    if (replacing) {
      const bumped = (replacing.maxFeePerGas * FEE_BUMP_PERCENT) / 100n;
      if (bumped > maxFeePerGas) maxFeePerGas = bumped;
      maxPriorityFeePerGas = (maxPriorityFeePerGas * FEE_BUMP_PERCENT) / 100n;
    }
    if (maxFeePerGas > this.options.maxFeePerGas) maxFeePerGas = this.options.maxFeePerGas;
    if (maxPriorityFeePerGas > maxFeePerGas) maxPriorityFeePerGas = maxFeePerGas;
    const raw = await this.account.signTransaction({
      type: "eip1559",
      chainId: this.options.chainId,
      to: this.options.escrow,
      data: tx.data,
      gas: tx.gas,
      nonce: tx.nonce,
      maxFeePerGas,
      maxPriorityFeePerGas,
    });
    const record = {
      hash: keccak256(raw),
      nonce: tx.nonce,
      kind: tx.kind,
      requestIds: tx.requestIds,
      raw,
      maxFeePerGas,
      sentAt: Date.now(),
    };
    if (replacing) this.store.replaceTransaction(replacing.hash, record);
    else this.store.recordTransaction(record);
    await this.broadcast(record);
    this.log.info(
      { kind: tx.kind, hash: record.hash, nonce: tx.nonce, requests: tx.requestIds.length, replacing: replacing?.hash },
      "settlement sent",
    );
  }

  private async broadcast(record: Pick<TransactionRecord, "raw" | "hash">): Promise<void> {
    try {
      await this.client.sendRawTransaction({ serializedTransaction: record.raw });
    } catch (error) {
      // "already known" and friends are fine; anything else shows up when we follow it.
      this.log.debug({ hash: record.hash, err: (error as Error).message }, "broadcast answered with an error");
    }
  }

  private async nextNonce(): Promise<number> {
    const pending = await this.client.getTransactionCount({ address: this.account.address, blockTag: "pending" });
    const recorded = this.store.pendingTransactions().reduce((max, tx) => Math.max(max, tx.nonce + 1), 0);
    return Math.max(pending, recorded);
  }

  /** Watches landed settlements (final, or reorged away), then checks every sent one: confirmed, reverted, stuck (bump) or gone (repost). */
  async follow(): Promise<void> {
    let pending = this.store.pendingTransactions();
    if (pending.length === 0 && this.watched.count() === 0) return;
    const head = await this.client.getBlockNumber({ cacheTime: 0 });
    if ((await this.watch.check(head)) > 0) pending = this.store.pendingTransactions();
    if (pending.length === 0) return;
    const minedNonce = await this.client.getTransactionCount({ address: this.account.address, blockTag: "latest" });
    for (const tx of pending) {
      const receipt = await this.client.getTransactionReceipt({ hash: tx.hash }).catch((error: unknown) => {
        if (error instanceof TransactionReceiptNotFoundError) return undefined;
        throw error;
      });
      if (receipt) {
        if (head - receipt.blockNumber + 1n < BigInt(Math.max(1, this.options.confirmations))) continue;
        await this.settle(tx, receipt);
      } else if (tx.nonce < minedNonce) {
        // Its nonce was used by another transaction (a replacement we lost track of, or ours
        // from before a crash): these requests are posted again and the escrow skips settled ones.
        this.store.finishTransaction(tx.hash, "dropped");
        for (const id of tx.requestIds) this.store.unpost(id, "its settlement transaction was dropped", Date.now());
      } else if (Date.now() - tx.sentAt > this.options.receiptTimeoutMs) {
        const { gas, data } = parseTransaction(tx.raw);
        await this.sign({ kind: tx.kind, requestIds: tx.requestIds, nonce: tx.nonce, gas: gas!, data: data! }, tx);
      } else {
        await this.broadcast(tx);
      }
    }
  }

  private async settle(tx: TransactionRecord, receipt: Awaited<ReturnType<PublicClient["getTransactionReceipt"]>>): Promise<void> {
    const gasCostWei = receipt.gasUsed * receipt.effectiveGasPrice;
    if (receipt.status === "reverted") {
      this.store.finishTransaction(tx.hash, "reverted", receipt.gasUsed, gasCostWei);
      this.log.error({ hash: tx.hash, kind: tx.kind }, "settlement transaction reverted; its requests will be posted again, split");
      this.caps.reverted(tx.requestIds.flatMap((id) => this.store.get(id) ?? []));
      for (const id of tx.requestIds) this.store.unpost(id, "its settlement transaction reverted", Date.now() + 5_000);
      return;
    }
    const effects = readSettlementLogs(receipt.logs, this.options.escrow);
    let settled = 0;
    let skipped = 0;
    const latenciesS: number[] = [];
    for (const id of tx.requestIds) {
      const request = this.store.get(id);
      // Not waiting for this transaction: its block was orphaned (store.rewindTo), or another settled it.
      if (request?.state !== "posting" || request.settleTx !== tx.hash) continue;
      const outcome = effects.outcomes.get(id);
      let final: "fulfilled" | "rejected" | "expired" | undefined;
      let note: string | undefined;
      if (outcome?.kind === "skipped" && outcome.reason === SkipReason.InsufficientCallbackGas) {
        // Still pending on-chain: a callback before it burned more than the batch could
        // spare. Posted again at once, alone.
        skipped++;
        this.caps.isolate(id);
        this.store.unpost(id, "the escrow could not fund its callback in that batch", Date.now());
        continue;
      }
      this.caps.forget(id);
      if (outcome?.kind === "fulfilled" || outcome?.kind === "rejected" || outcome?.kind === "expired") {
        final = outcome.kind;
        settled++;
      } else {
        skipped++;
        if (outcome?.kind === "skipped" && outcome.reason === SkipReason.Expired) {
          final = "expired";
          note = "the escrow refused the result: past the deadline";
        } else if (outcome?.kind === "skipped" && outcome.reason === SkipReason.NotPending) {
          final = (await this.earlierSettlement(id, request.blockNumber)) ?? "expired";
          note = "already settled on-chain";
        } else if (outcome?.kind === "skipped" && outcome.reason === SkipReason.NotOperator) {
          final = "expired";
          note = `this oracle does not operate model ${request.modelId}: its operators settle it, or its requester reclaims after the deadline`;
          this.log.error({ requestId: id.toString(), modelId: request.modelId, hash: tx.hash }, note);
        } else {
          final = "expired";
          note = `the escrow skipped it (reason ${outcome?.kind === "skipped" ? outcome.reason : "none"}); its requester can reclaim after the deadline`;
          this.log.error({ requestId: id.toString(), hash: tx.hash }, note);
        }
      }
      this.store.settle(id, final, tx.hash, note);
      latenciesS.push((Date.now() - request.receivedAt) / 1000);
    }
    this.watched.landed(tx.hash, { number: receipt.blockNumber, hash: receipt.blockHash }, receipt.gasUsed, gasCostWei);
    this.onSettled({
      kind: tx.kind,
      hash: tx.hash,
      requests: tx.requestIds.length,
      settled,
      skipped,
      gasUsed: receipt.gasUsed,
      gasCostWei,
      feesCredited: effects.feesCredited,
      latenciesS,
    });
  }

  /**
   * How a request the escrow calls no longer pending was settled (by an earlier
   * transaction of ours, a rejection, or a refund after its deadline); undefined when no
   * settlement event is found since its request (the node may not have the logs).
   */
  private async earlierSettlement(requestId: bigint, requestBlock: bigint): Promise<"fulfilled" | "rejected" | "expired" | undefined> {
    const reader = { client: this.client, escrow: this.options.escrow, deployBlock: requestBlock };
    return (await findSettlements(reader, [requestId], requestBlock)).get(requestId)?.kind;
  }
}

/** The terms in the ABI's shape (uint40 deadline as a number). */
function termsOf(request: RequestTerms) {
  return {
    requestId: request.requestId,
    requester: request.requester,
    modelId: request.modelId,
    fee: request.fee,
    deadline: Number(request.deadline),
    callbackGasLimit: request.callbackGasLimit,
  };
}
