/**
 * End-of-scenario checks against the chain itself: every request settled exactly once,
 * and the escrow's books balance — its native balance equals the fees of the requests
 * still pending plus every account's withdrawable balance.
 */
import { expect } from "chai";
import { type Address, parseEventLogs } from "viem";
import { predictionEscrowAbi } from "@argus/escrow/abi";
import { settlements, type Settlement, type StackClients } from "./stack.ts";

const NATIVE = "0x0000000000000000000000000000000000000000" as const;

async function escrowEvents(stack: StackClients) {
  const logs = await stack.client.getLogs({ address: stack.argus.escrow, fromBlock: BigInt(stack.argus.deployBlock), toBlock: "latest" });
  return parseEventLogs({ abi: predictionEscrowAbi, logs });
}

export interface Books {
  balance: bigint;
  pendingFees: bigint;
  pending: number;
  withdrawable: bigint;
}

/** The escrow's native books; asserts balance == Σ pending fees + Σ withdrawable balances. */
export async function assertBalanceInvariant(stack: StackClients): Promise<Books> {
  const events = await escrowEvents(stack);
  const accounts = new Set<Address>();
  const requested: { requestId: bigint; fee: bigint }[] = [];
  for (const event of events) {
    if (event.eventName === "PredictionRequested") {
      accounts.add(event.args.requester);
      requested.push({ requestId: event.args.requestId, fee: event.args.fee });
    } else if (event.eventName === "FeesCredited") accounts.add(event.args.oracle);
    else if (event.eventName === "Withdrawn") accounts.add(event.args.account);
  }
  const [treasury] = await stack.client.readContract({
    address: stack.argus.escrow,
    abi: predictionEscrowAbi,
    functionName: "protocolFee",
  });
  accounts.add(treasury);
  const read = <T>(functionName: "isPending" | "balanceOf", args: readonly unknown[]) =>
    stack.client.readContract({ address: stack.argus.escrow, abi: predictionEscrowAbi, functionName, args } as never) as Promise<T>;

  let pendingFees = 0n;
  let pending = 0;
  for (let start = 0; start < requested.length; start += 64) {
    const slice = requested.slice(start, start + 64);
    const flags = await Promise.all(slice.map(({ requestId }) => read<boolean>("isPending", [requestId])));
    slice.forEach(({ fee }, index) => {
      if (flags[index]) [pendingFees, pending] = [pendingFees + fee, pending + 1];
    });
  }
  let withdrawable = 0n;
  for (const account of accounts) withdrawable += await read<bigint>("balanceOf", [NATIVE, account]);
  const balance = await stack.client.getBalance({ address: stack.argus.escrow });
  expect(balance, `escrow balance vs ${pending} pending fees + withdrawable balances`).to.equal(pendingFees + withdrawable);
  return { balance, pendingFees, pending, withdrawable };
}

/** SettlementSkipped events by reason (0 NotPending, 1 TermsMismatch, 2 Expired, 3 NotExpired). */
export async function skippedSettlements(stack: StackClients): Promise<Map<number, number>> {
  const counts = new Map<number, number>();
  for (const event of await escrowEvents(stack)) {
    if (event.eventName === "SettlementSkipped") counts.set(event.args.reason, (counts.get(event.args.reason) ?? 0) + 1);
  }
  return counts;
}

/**
 * Asserts every id is settled exactly once on-chain (`settlements` throws on a second
 * settlement) by fulfilment or rejection — never left to expire — and returns them.
 */
export async function assertSettledOnce(stack: StackClients, ids: readonly bigint[]): Promise<Map<bigint, Settlement>> {
  const all = await settlements(stack);
  const missing = ids.filter((id) => !all.has(id));
  expect(missing, `${missing.length} requests never settled`).to.deep.equal([]);
  const expired = ids.filter((id) => all.get(id)!.kind === "expired");
  expect(expired, "requests left to expire").to.deep.equal([]);
  return all;
}

/** Fulfilment and rejection transactions (distinct tx hashes carrying such events), for counting. */
export async function settlementTransactions(stack: StackClients, fromBlock = BigInt(stack.argus.deployBlock)) {
  const logs = await stack.client.getLogs({ address: stack.argus.escrow, fromBlock, toBlock: "latest" });
  const fulfil = new Set<string>();
  const reject = new Set<string>();
  for (const event of parseEventLogs({ abi: predictionEscrowAbi, logs })) {
    if (event.eventName === "PredictionFulfilled") fulfil.add(event.transactionHash);
    if (event.eventName === "PredictionRejected") reject.add(event.transactionHash);
  }
  return { fulfil, reject };
}
