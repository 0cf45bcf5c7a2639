/**
 * Where a request stands, derived from what can be observed: the escrow's events, the
 * chain's clock (both read by `requestPhase`, shared with the CLI) and, when the
 * deployment names one, the oracle's status server.
 *
 * The lifecycle a user sees is pinned → requested → picked up → fulfilled, or it ends
 * in rejected or expired. The escrow emits no event when the oracle starts working on
 * a request, so the steps in between come from the oracle's own report (`oracle`,
 * @argus/protocol/oracle-status): picked up (image being fetched or fetched), computing,
 * posting the answer or a refusal, or given up as too close to its deadline. The
 * report is advisory: settlement events and the deadline win over it, and without it
 * a pending request is simply "requested".
 */
import { requestPhase, type RequestPhaseInput } from "@argus/escrow/request-phase";
import { RejectReason, type RejectReasonCode } from "@argus/escrow/request-terms";
import { formatBytes, MAX_IMAGE_BYTES } from "@argus/protocol/limits";
import type { OracleRequestReport } from "@argus/protocol/oracle-status";

/** How a request was settled, as far as its status depends on it (the escrow reads' `Settlement` has more). */
export type SettlementKind = { kind: "fulfilled" } | { kind: "rejected"; reason: number } | { kind: "expired" };

/** What the status uses of the oracle's report on a request. */
export type OracleProgress = Pick<OracleRequestReport, "state" | "rejectReason" | "error">;

export interface StatusInput extends RequestPhaseInput {
  /** How the request was settled, from its settlement event; undefined while pending. */
  settlement?: SettlementKind | undefined;
  /** The oracle's report on this request, when its status server has one. */
  oracle?: OracleProgress | undefined;
}

export type Phase =
  | "requested"
  | "picked-up"
  | "computing"
  | "posting"
  | "rejecting"
  | "abandoned"
  | "overdue"
  | "fulfilled"
  | "rejected"
  | "expired";

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
    title: `the image is larger than ${formatBytes(MAX_IMAGE_BYTES)} or has too many pixels`,
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
  const { settlement, oracle } = input;
  const { phase, secondsLeft } = requestPhase(input);
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
      detail: `The oracle refused the request: ${reason.title}. ${reason.advice} Your fee went back to your Argus balance: collect it under Refunds on the start page.`,
      reclaimable: false,
      final: true,
    };
  }
  if (phase === "expired") {
    return {
      phase: "expired",
      label: "Expired, refunded",
      detail: "No answer came before the deadline; the fee went back to your Argus balance. Collect it under Refunds on the start page.",
      reclaimable: false,
      final: true,
    };
  }
  if (phase === "overdue") {
    return {
      phase: "overdue",
      label: "Expired",
      detail: "The oracle missed the deadline. Reclaim the fee here, or get it back with everything else owed under Refunds.",
      reclaimable: true,
      final: false,
      secondsLeft: 0,
    };
  }
  const base = (oracle && oracleStage(oracle)) ?? {
    phase: "requested" as const,
    label: "Requested",
    detail: "Paid and waiting for the oracle to pick it up.",
  };
  return { ...base, reclaimable: false, final: false, ...(secondsLeft === undefined ? {} : { secondsLeft }) };
}

/** A pending request's phase from the oracle's queue state. */
function oracleStage({ state, rejectReason, error }: OracleProgress): Pick<RequestStatus, "phase" | "label" | "detail"> {
  const retrying = error === null ? "" : " Its last attempt failed; it is trying again.";
  switch (state) {
    case "received":
      return {
        phase: "picked-up",
        label: "Picked up",
        detail: `The oracle has your request and is fetching the image from IPFS.${retrying}`,
      };
    case "ready":
      return { phase: "picked-up", label: "Picked up", detail: `The oracle has fetched your image; the model runs next.${retrying}` };
    case "running":
      return { phase: "computing", label: "Computing", detail: "The oracle is running the model on your image." };
    case "computed":
    case "pinned":
    case "posting":
      return {
        phase: "posting",
        label: "Posting",
        detail: "The result is computed; the oracle is pinning it and posting its digest on-chain.",
      };
    case "fulfilled":
      return { phase: "posting", label: "Posting", detail: "The oracle has posted the result; it shows here once the chain has it." };
    case "rejecting":
    case "rejected": {
      const reason = rejectReason === null ? "the input is unusable" : describeRejectReason(rejectReason).title;
      return {
        phase: "rejecting",
        label: "Refusing",
        detail: `The oracle is refusing the request on-chain: ${reason}. Your fee will be refunded.`,
      };
    }
    case "expired":
      return {
        phase: "abandoned",
        label: "Not answered",
        detail: "The oracle will not answer: the deadline is too close to start now. Once it passes, reclaim the fee.",
      };
  }
}

/** The last two steps of each phase: the oracle's pick-up (label, state) and the answer (label, state). */
const LAST_STEPS: Record<Phase, [[string, StepState], [string, StepState]]> = {
  requested: [
    ["Waiting for the oracle", "current"],
    ["Fulfilled", "upcoming"],
  ],
  "picked-up": [
    ["Picked up", "done"],
    ["Running the model", "current"],
  ],
  computing: [
    ["Picked up", "done"],
    ["Running the model", "current"],
  ],
  posting: [
    ["Picked up", "done"],
    ["Posting the answer", "current"],
  ],
  rejecting: [
    ["Picked up", "done"],
    ["Posting the refusal", "current"],
  ],
  abandoned: [
    ["Picked up", "done"],
    ["Not answered", "failed"],
  ],
  fulfilled: [
    ["Picked up", "done"],
    ["Fulfilled", "done"],
  ],
  rejected: [
    ["Picked up", "done"],
    ["Rejected", "failed"],
  ],
  overdue: [
    ["Picked up", "skipped"],
    ["Expired", "failed"],
  ],
  expired: [
    ["Picked up", "skipped"],
    ["Expired", "failed"],
  ],
};

/** The lifecycle as steps for a progress display. */
export function lifecycleSteps(status: RequestStatus): Step[] {
  const [[pickedUp, pickedUpState], [answered, answeredState]] = LAST_STEPS[status.phase];
  return [
    { id: "pinned", label: "Pinned", state: "done" },
    { id: "requested", label: "Requested", state: "done" },
    { id: "picked-up", label: pickedUp, state: pickedUpState },
    { id: "answered", label: answered, state: answeredState },
  ];
}
