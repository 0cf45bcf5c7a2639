/**
 * The deep-reorg scenario of issue #21 on the local Hardhat node: a request is paid for,
 * the chain is snapshotted at the request's block, the oracle answers, the answer sinks
 * under more blocks, then the chain is reverted to the snapshot — taking the answer,
 * `depth` blocks in all, off the chain — and a longer chain is mined in its place. The
 * oracle must notice that its answer is gone and post it again, exactly once.
 *
 * The snapshot is taken with automine off, right after the block holding the request is
 * mined, so the oracle cannot have answered into it: its answer, whenever it comes, lands
 * above the snapshot.
 */
import { expect } from "chai";
import type { Hex } from "viem";
import { settlements, type StackClients, waitForSettlements } from "./stack.ts";
import { awaitRequests, hardhatRpc, type PlannedRequest, type SubmittedRequest, sendRequestTransactions } from "./workload.ts";

/** Pays for `planned` in a block of its own and snapshots the chain at that block. */
export async function requestAtSnapshot(
  stack: StackClients,
  planned: PlannedRequest,
): Promise<{ request: SubmittedRequest; snapshot: Hex }> {
  const rpc = hardhatRpc(stack.client);
  await rpc.setAutomine(false);
  let sent: { hash: Hex; sentAt: number }[];
  let snapshot: Hex;
  try {
    sent = await sendRequestTransactions(stack, [planned]);
    await rpc.mine(1);
    snapshot = await rpc.snapshot();
  } finally {
    await rpc.setAutomine(true);
  }
  // Whatever was sent while automine was off (the oracle's answer, at the earliest) waits in the pool: mine it.
  const pendingBlock = await stack.client.getBlock({ blockTag: "pending" });
  if (pendingBlock.transactions.length > 0) await rpc.mine(1);
  const [request] = await awaitRequests(stack, [planned], sent);
  return { request: request!, snapshot };
}

export interface Rewind {
  /** The block the lost answer was in. */
  answerBlock: bigint;
  /** The old chain's head just before the revert: the request's block + depth. */
  oldHead: bigint;
  /** Wall clock right after the revert. */
  revertedAt: number;
}

/**
 * Waits for the answer, mines until it has `depth - 1` blocks on top (the answer must be
 * in the block right after the request for depth 1), reverts to the snapshot (`during`
 * runs just before), and mines `depth + 1` blocks so that the new chain is the longer one.
 */
export async function rewindPastAnswer(
  stack: StackClients,
  { request, snapshot }: { request: SubmittedRequest; snapshot: Hex },
  depth: number,
  during: () => Promise<void> = async () => {},
): Promise<Rewind> {
  const rpc = hardhatRpc(stack.client);
  const id = request.terms.requestId;
  const answered = await waitForSettlements(stack, [id], 90_000);
  const answerBlock = answered.get(id)!.blockNumber;
  expect(answerBlock, "the answer lands above the snapshot").to.be.greaterThan(request.blockNumber);
  const oldHead = request.blockNumber + BigInt(depth);
  const head = await stack.client.getBlockNumber({ cacheTime: 0 });
  expect(head, `the chain is at most ${depth} blocks above the request's`).to.be.at.most(oldHead);
  if (head < oldHead) await rpc.mine(Number(oldHead - head));
  await during();
  expect(await rpc.revert(snapshot), "evm_revert").to.equal(true);
  const revertedAt = Date.now();
  await rpc.mine(depth + 1);
  return { answerBlock, oldHead, revertedAt };
}

/** Waits until `id` is fulfilled on the surviving chain, and checks it is fulfilled there exactly once. */
export async function fulfilledOnce(stack: StackClients, id: bigint, timeoutMs = 90_000): Promise<{ blockNumber: bigint; at: number }> {
  const settled = await waitForSettlements(stack, [id], timeoutMs);
  const at = Date.now();
  expect(settled.get(id)?.kind, `request ${id}`).to.equal("fulfilled");
  // settlements() throws when a request was settled twice.
  const again = await settlements(stack);
  expect(again.get(id)?.kind).to.equal("fulfilled");
  return { blockNumber: settled.get(id)!.blockNumber, at };
}
