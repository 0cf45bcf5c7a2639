/**
 * Where a request stands, derived from what can be observed: the escrow's events, the
 * chain's clock and, when one is available, a "picked up" signal from the oracle.
 *
 * The lifecycle a user sees is pinned → requested → picked up → fulfilled, or it ends
 * in rejected or expired. The escrow emits no event when the oracle starts working on
 * a request, so "picked up" is an optional input (`pickedUp`): today nothing supplies
 * it and that step is shown as "waiting for the oracle"; an oracle status endpoint can
 * feed it later without changing anything else here.
 *
 * Time is the chain's (the latest block's timestamp), not the browser's: the deadline
 * is enforced by the contract against block time.
 */
import { RejectReason, type RejectReasonCode } from "@argus/oracle-requestor/chain/request-terms";

export type Settlement =
  | { kind: "fulfilled"; resultDigest: `0x${string}`; topClass: number; topScore: number }
  | { kind: "rejected"; reason: number }
  | { kind: "expired" };

export interface StatusInput {
  /** The request's deadline (unix seconds), from `PredictionRequested`. */
  deadline: bigint;
  /** How the request was settled, from its settlement event; undefined while pending. */
  settlement?: Settlement | undefined;
  /** The latest block's timestamp, if known. */
  chainTime?: bigint | undefined;
  /** The oracle reported it has started on this request (no source yet, see above). */
  pickedUp?: boolean | undefined;
}

export type Phase = "requested" | "picked-up" | "overdue" | "fulfilled" | "rejected" | "expired";

export interface RequestStatus {
  phase: Phase;
  /** Short label for badges. */
  label: string;
  /** One sentence: what this means and what the user can do. */
  detail: string;
  /** The request is past its deadline and unsettled: anyone may call `reclaim` now. */
  reclaimable: boolean;
  /** Settled: nothing will change any more. */
  final: boolean;
  /** Seconds left before the deadline (pending requests with a known chain time). */
  secondsLeft?: number;
}

export type StepState = "done" | "current" | "upcoming" | "failed" | "skipped";
export interface Step {
  id: "pinned" | "requested" | "picked-up" | "answered";
  label: string;
  state: StepState;
}

const REJECT_REASONS: Record<RejectReasonCode, { title: string; advice: string }> = {
  [RejectReason.Unspecified]: { title: "refused without a specific reason", advice: "Try another image, or ask the operator." },
  [RejectReason.NotAnImage]: {
    title: "the file is not an image",
    advice: "Upload a JPEG, PNG, WebP, GIF or AVIF photo.",
  },
  [RejectReason.TooLarge]: {
    title: "the image is larger than 2 MiB or has too many pixels",
    advice: "Resize or recompress it, then try again.",
  },
  [RejectReason.Unretrievable]: {
    title: "the oracle could not retrieve the image from IPFS",
    advice: "Make sure the image stays pinned on a reachable IPFS node, then request again.",
  },
  [RejectReason.UnsupportedFormat]: {
    title: "the image format is not supported",
    advice: "Convert it to JPEG, PNG, WebP, GIF or AVIF.",
  },
  [RejectReason.InvalidCid]: { title: "the image CID is not valid", advice: "Upload the image again to get a fresh CID." },
  [RejectReason.DecodeFailed]: {
    title: "the image data is corrupt or truncated",
    advice: "Re-export the image and try again.",
  },
};

/** A rejection reason code as a readable sentence with a way forward. */
export function describeRejectReason(reason: number): { title: string; advice: string } {
  return REJECT_REASONS[reason as RejectReasonCode] ?? { title: `refused (reason code ${reason})`, advice: "Try another image." };
}

export function deriveStatus(input: StatusInput): RequestStatus {
  const { settlement, deadline, chainTime, pickedUp } = input;
  if (settlement?.kind === "fulfilled") {
    return {
      phase: "fulfilled",
      label: "Fulfilled",
      detail: "The oracle posted the result's digest on-chain.",
      reclaimable: false,
      final: true,
    };
  }
  if (settlement?.kind === "rejected") {
    const reason = describeRejectReason(settlement.reason);
    return {
      phase: "rejected",
      label: "Rejected",
      detail: `The oracle refused the request: ${reason.title}. ${reason.advice} Your fee was refunded: withdraw it below.`,
      reclaimable: false,
      final: true,
    };
  }
  if (settlement?.kind === "expired") {
    return {
      phase: "expired",
      label: "Expired, refunded",
      detail: "No answer came before the deadline; the fee was refunded. Withdraw it below.",
      reclaimable: false,
      final: true,
    };
  }
  if (chainTime !== undefined && chainTime > deadline) {
    // The contract refunds only strictly after the deadline.
    return {
      phase: "overdue",
      label: "Expired",
      detail: "The oracle missed the deadline. Reclaim the fee, then withdraw it.",
      reclaimable: true,
      final: false,
      secondsLeft: 0,
    };
  }
  const secondsLeft = chainTime === undefined ? undefined : Number(deadline - chainTime);
  const base = pickedUp
    ? { phase: "picked-up" as const, label: "Picked up", detail: "The oracle is running the model on your image." }
    : { phase: "requested" as const, label: "Requested", detail: "Paid and waiting for the oracle to pick it up." };
  return { ...base, reclaimable: false, final: false, ...(secondsLeft === undefined ? {} : { secondsLeft }) };
}

/** The lifecycle as steps for a progress display. */
export function lifecycleSteps(status: RequestStatus): Step[] {
  const steps = (pickedUp: Step, answered: Step): Step[] => [
    { id: "pinned", label: "Pinned", state: "done" },
    { id: "requested", label: "Requested", state: "done" },
    pickedUp,
    answered,
  ];
  switch (status.phase) {
    case "requested":
      return steps(
        { id: "picked-up", label: "Waiting for the oracle", state: "current" },
        { id: "answered", label: "Fulfilled", state: "upcoming" },
      );
    case "picked-up":
      return steps(
        { id: "picked-up", label: "Picked up", state: "done" },
        { id: "answered", label: "Running the model", state: "current" },
      );
    case "fulfilled":
      return steps(
        { id: "picked-up", label: "Picked up", state: "done" },
        { id: "answered", label: "Fulfilled", state: "done" },
      );
    case "rejected":
      return steps(
        { id: "picked-up", label: "Picked up", state: "done" },
        { id: "answered", label: "Rejected", state: "failed" },
      );
    case "overdue":
    case "expired":
      return steps(
        { id: "picked-up", label: "Picked up", state: "skipped" },
        { id: "answered", label: "Expired", state: "failed" },
      );
  }
}
