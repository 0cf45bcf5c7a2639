/**
 * Where a request stands on-chain, from what anyone can observe: its settlement event
 * (if any) and the chain's clock against its deadline. The web UI and the `argus` CLI
 * both start from this; the web UI refines a pending request with the oracle's report.
 *
 * Time is the chain's (the latest block's timestamp), not the reader's: the contract
 * enforces the deadline against block time, and refunds only strictly after it.
 * Browser-safe: no imports.
 */

/**
 * pending: unsettled, not past its deadline (or the chain's time is unknown);
 * overdue: unsettled and past its deadline, so anyone may `reclaim` it now;
 * fulfilled, rejected, expired: settled by that event.
 */
export type RequestPhase = "pending" | "overdue" | "fulfilled" | "rejected" | "expired";

export interface RequestPhaseInput {
  /** The request's deadline (unix seconds), from `PredictionRequested`. */
  deadline: bigint;
  /** How the request was settled, from its settlement event; undefined while unsettled. */
  settlement?: { kind: "fulfilled" | "rejected" | "expired" } | undefined;
  /** The latest block's timestamp, if known. */
  chainTime?: bigint | undefined;
}

export interface PhaseAndTime {
  phase: RequestPhase;
  /** Unsettled requests with a known chain time: seconds left before the deadline (0 once past). */
  secondsLeft?: number;
}

export function requestPhase({ deadline, settlement, chainTime }: RequestPhaseInput): PhaseAndTime {
  if (settlement !== undefined) return { phase: settlement.kind };
  if (chainTime === undefined) return { phase: "pending" };
  const secondsLeft = chainTime > deadline ? 0 : Number(deadline - chainTime);
  return { phase: chainTime > deadline ? "overdue" : "pending", secondsLeft };
}
