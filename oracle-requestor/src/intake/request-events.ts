/**
 * Reads `PredictionRequested` events into the queue: from a persisted cursor, in
 * bounded block ranges, only once they are `confirmations` blocks deep. Before each
 * read it checks that the last block it read is still on the chain; if not (a reorg),
 * it walks back to the fork point and re-reads from there: the requests of the orphaned
 * blocks move to the queue's `orphaned_requests`, whatever their state, and the re-read
 * brings back those the new chain still has (a settlement sent for an orphaned one is
 * followed by the settle stage, which finds no request waiting for it). Ranges an endpoint refuses as
 * too large are read in halves, and the smaller span is kept for later polls.
 */
import type { Address, PublicClient } from "viem";
import { BlockNotFoundError, getAbiItem } from "viem";
import { predictionEscrowAbi } from "@argus/escrow/abi";
import { inLogRanges, type LogRangeSpan } from "@argus/escrow/escrow-reads";
import { requestFromEvent } from "@argus/escrow/request-terms";
import type { OrphanedRequest, RequestedEvent, RequestStore } from "../store/request-store.ts";

const REQUESTED = getAbiItem({ abi: predictionEscrowAbi, name: "PredictionRequested" });

export interface IntakeOptions {
  escrow: Address;
  confirmations: number;
  logRangeBlocks: number;
  /** Where to start when the queue has no cursor yet. */
  startBlock: bigint;
}

/** A reorg beneath the read cursor, as the intake saw it. */
export interface IntakeReorg {
  /** Blocks read that the chain replaced (from the newest read block down to the fork point). */
  depth: bigint;
  /** The newest block the old and the new chain share. */
  forkBlock: bigint;
  /** Requests whose block left the chain, as they were (state, settlement sent). */
  orphaned: OrphanedRequest[];
}

export interface IntakeProgress {
  /** New requests stored by this poll. */
  added: number;
  /** Requests dropped because their blocks were reorganised away. */
  orphaned: number;
  /** The reorg this poll found, if any. */
  reorg?: IntakeReorg;
  /** The chain head seen, and the last block now read. */
  head: bigint;
  readUpTo: bigint;
}

export class RequestIntake {
  private readonly client: PublicClient;
  private readonly store: RequestStore;
  private readonly options: IntakeOptions;
  /** Blocks per eth_getLogs: `logRangeBlocks`, or less once the endpoint refused that. */
  private readonly span: LogRangeSpan;

  constructor(client: PublicClient, store: RequestStore, options: IntakeOptions) {
    this.client = client;
    this.store = store;
    this.options = options;
    this.span = { blocks: BigInt(options.logRangeBlocks) };
  }

  /** Reads everything confirmed since the cursor. */
  async poll(): Promise<IntakeProgress> {
    const reorg = await this.followReorg();
    const head = await this.client.getBlockNumber({ cacheTime: 0 });
    const safe = head - BigInt(this.options.confirmations);
    let next = this.nextBlock();
    let added = 0;
    await inLogRanges(
      next,
      safe,
      this.span,
      (fromBlock, toBlock) =>
        Promise.all([
          this.client.getLogs({ address: this.options.escrow, event: REQUESTED, fromBlock, toBlock, strict: true }),
          this.client.getBlock({ blockNumber: toBlock }),
        ]),
      ([logs, lastBlock], to) => {
        const events: RequestedEvent[] = logs
          .filter((log) => log.blockHash !== null && !log.removed)
          .map((log) => ({
            ...requestFromEvent(log.args),
            blockNumber: log.blockNumber!,
            blockHash: log.blockHash!,
            logIndex: log.logIndex!,
          }));
        added += this.store.recordRange(events, { number: to, hash: lastBlock.hash! }, to + 1n);
        next = to + 1n;
      },
    );
    return { added, orphaned: reorg?.orphaned.length ?? 0, ...(reorg ? { reorg } : {}), head, readUpTo: next - 1n };
  }

  private nextBlock(): bigint {
    const stored = this.store.getMeta("next_block");
    return stored === undefined ? this.options.startBlock : BigInt(stored);
  }

  /** Compares the newest read blocks with the chain; rewinds past any that changed. */
  private async followReorg(): Promise<IntakeReorg | undefined> {
    const last = this.nextBlock() - 1n;
    if (last < this.options.startBlock) return undefined;
    const recorded = this.store.readBlocksDownFrom(last, 64);
    const rewind = (forkBlock: bigint): IntakeReorg => ({ depth: last - forkBlock, forkBlock, orphaned: this.store.rewindTo(forkBlock) });
    for (const [index, block] of recorded.entries()) {
      // A block the chain no longer reaches is a mismatch; any other failure ends the poll (a node down is no reorg).
      const onChain = await this.client.getBlock({ blockNumber: block.number }).catch((error: unknown) => {
        if (error instanceof BlockNotFoundError) return undefined;
        throw error;
      });
      if (onChain?.hash === block.hash) return index === 0 ? undefined : rewind(block.number);
    }
    // Nothing recorded matches (or nothing was recorded): re-read from the start.
    return recorded.length === 0 ? undefined : rewind(this.options.startBlock - 1n);
  }
}
