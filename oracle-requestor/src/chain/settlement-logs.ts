/**
 * What a settlement transaction did to each request, read from its logs; and, for a
 * request the escrow reports as no longer pending, how it was settled (by an earlier
 * transaction of ours, a rejection, or a refund after its deadline).
 */
import { type Address, type Log, type PublicClient, parseEventLogs } from "viem";
import { predictionEscrowAbi } from "./abi.generated.ts";

export type SettlementOutcome =
  | { kind: "fulfilled" }
  | { kind: "rejected" }
  | { kind: "expired" }
  | { kind: "skipped"; reason: number };

export interface SettlementEffects {
  outcomes: Map<bigint, SettlementOutcome>;
  /** Fees credited to the oracle (after the protocol fee), per fee token. */
  feesCredited: Map<Address, bigint>;
}

export function readSettlementLogs(logs: readonly Log[], escrow: Address): SettlementEffects {
  const outcomes = new Map<bigint, SettlementOutcome>();
  const feesCredited = new Map<Address, bigint>();
  const events = parseEventLogs({ abi: predictionEscrowAbi, logs: logs.filter((log) => log.address.toLowerCase() === escrow.toLowerCase()) });
  for (const event of events) {
    switch (event.eventName) {
      case "PredictionFulfilled":
        outcomes.set(event.args.requestId, { kind: "fulfilled" });
        break;
      case "PredictionRejected":
        outcomes.set(event.args.requestId, { kind: "rejected" });
        break;
      case "PredictionExpired":
        outcomes.set(event.args.requestId, { kind: "expired" });
        break;
      case "SettlementSkipped":
        outcomes.set(event.args.requestId, { kind: "skipped", reason: event.args.reason });
        break;
      case "FeesCredited":
        feesCredited.set(event.args.token, (feesCredited.get(event.args.token) ?? 0n) + event.args.amount);
        break;
    }
  }
  return { outcomes, feesCredited };
}

/**
 * How a request that is no longer pending was settled, from the escrow's events about
 * it; undefined when no settlement event exists (it was never requested, or the node
 * does not have the logs).
 */
export async function findSettlement(
  client: PublicClient,
  escrow: Address,
  requestId: bigint,
  fromBlock: bigint,
): Promise<"fulfilled" | "rejected" | "expired" | undefined> {
  const logs = await client.getLogs({
    address: escrow,
    events: predictionEscrowAbi.filter(
      (item) => item.type === "event" && ["PredictionFulfilled", "PredictionRejected", "PredictionExpired"].includes(item.name),
    ) as never,
    args: { requestId } as never,
    fromBlock,
    toBlock: "latest",
  });
  const outcome = readSettlementLogs(logs, escrow).outcomes.get(requestId);
  return outcome?.kind === "skipped" ? undefined : outcome?.kind;
}
