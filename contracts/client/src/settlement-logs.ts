/**
 * What a settlement transaction did to each request, read from its logs. (How a request
 * settled by someone else's transaction was settled: `findSettlements` in escrow-reads.)
 */
import { type Address, type Log, parseEventLogs } from "viem";
import { predictionEscrowAbi } from "./abi.generated.ts";

export type SettlementOutcome = { kind: "fulfilled" } | { kind: "rejected" } | { kind: "expired" } | { kind: "skipped"; reason: number };

export interface SettlementEffects {
  outcomes: Map<bigint, SettlementOutcome>;
  /** Fees credited to the oracle (after the protocol fee), per fee token. */
  feesCredited: Map<Address, bigint>;
}

export function readSettlementLogs(logs: readonly Log[], escrow: Address): SettlementEffects {
  const outcomes = new Map<bigint, SettlementOutcome>();
  const feesCredited = new Map<Address, bigint>();
  const events = parseEventLogs({
    abi: predictionEscrowAbi,
    logs: logs.filter((log) => log.address.toLowerCase() === escrow.toLowerCase()),
  });
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
