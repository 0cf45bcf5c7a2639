/**
 * A request's status for people (aligned text) and for machines (one JSON object with
 * bigints as decimal strings), shared by `argus request` and `argus result`.
 */
import { describeComputedBy, type InferenceResult, isErrorResult } from "@argus/protocol/result";
import type { EscrowEvent } from "@argus/escrow/escrow-reads";
import { formatAmount, formatDuration } from "@argus/escrow/format";
import type { Currency } from "./escrow-reads.ts";
import type { Output } from "./output.ts";
import type { RequestStatus } from "./request-status.ts";

export function statusJson(status: RequestStatus): Record<string, unknown> {
  const { request, model, settlement } = status;
  return {
    requestId: request.terms.requestId,
    status: status.phase,
    model: { id: model.id, name: model.name, task: model.task },
    imageCid: request.imageCid,
    requester: request.terms.requester,
    fee: request.terms.fee,
    feeToken: model.feeToken,
    deadline: Number(request.terms.deadline),
    requestBlock: Number(request.blockNumber),
    requestTransaction: request.transactionHash,
    ...(status.secondsLeft === undefined || settlement ? {} : { secondsLeft: status.secondsLeft }),
    ...(settlement ? { settlement: { ...settlement, blockNumber: Number(settlement.blockNumber) } } : {}),
    ...(status.verified === undefined ? {} : { verified: status.verified, resultCid: status.resultCid }),
    ...(status.problem ? { problem: status.problem } : {}),
    ...(status.result ? { result: status.result } : {}),
    ...(status.oracle ? { oracle: status.oracle } : {}),
  };
}

export function printStatus(out: Output, status: RequestStatus, currency: Currency): void {
  const { request, model, settlement } = status;
  const row = (label: string, value: string) => out.text(`${label.padEnd(10)} ${value}`);
  row("request", request.terms.requestId.toString());
  row("model", `${model.name} (#${model.id}, ${model.task})`);
  row("image", request.imageCid);
  row("paid", `${formatAmount(request.terms.fee, currency)} by ${request.terms.requester} in block ${request.blockNumber}`);
  switch (status.phase) {
    case "pending":
      row(
        "status",
        `pending — ${formatDuration(status.secondsLeft ?? 0)} left before the deadline${status.oracle ? ` (oracle: ${status.oracle.state})` : ""}`,
      );
      break;
    case "overdue":
      row("status", "overdue — the deadline passed without an answer: `argus reclaim` refunds the fee");
      break;
    case "rejected":
      if (settlement?.kind === "rejected")
        row(
          "status",
          `rejected: ${settlement.reasonName} (block ${settlement.blockNumber}); the fee was refunded — \`argus withdraw\` pays it out`,
        );
      if (status.oracle?.error) row("oracle", status.oracle.error);
      break;
    case "expired":
      row("status", "expired — refunded after the deadline; `argus withdraw` pays the refund out");
      break;
    case "fulfilled":
      if (settlement?.kind !== "fulfilled") break;
      row("status", `fulfilled in block ${settlement.blockNumber}`);
      row("result", `${status.resultCid ?? settlement.resultCid}`);
      row(
        "verified",
        status.verified ? `yes — sha256 of the result is the on-chain digest ${settlement.resultDigest}` : `NO — ${status.problem}`,
      );
      if (status.result && !isErrorResult(status.result)) row("computed", `by ${describeComputedBy(status.result.computedBy)}`);
      if (status.result) printResult(out, status.result);
      break;
  }
}

export function printResult(out: Output, result: InferenceResult): void {
  if (isErrorResult(result)) {
    out.text(`error      ${result.error.code}: ${result.error.message}`);
    return;
  }
  if (result.task === "classification") {
    out.text("top 5");
    for (const [index, entry] of result.top5.entries()) {
      out.text(`  ${index + 1}. ${percent(entry.score).padStart(6)}  ${entry.label} (class ${entry.classIndex})`);
    }
    return;
  }
  out.text(result.detections.length === 0 ? "detections: none" : `detections (${result.detections.length})`);
  for (const detection of result.detections) {
    const { x, y, width, height } = detection.box;
    out.text(
      `  ${percent(detection.score).padStart(6)}  ${detection.label} (class ${detection.classIndex}) at x ${Math.round(x)}, y ${Math.round(y)}, ${Math.round(width)}×${Math.round(height)} px`,
    );
  }
}

function percent(score: number): string {
  return `${(score * 100).toFixed(1)}%`;
}

/** One event as a line: block, event, request id, and what it says. `models`: name and currency by model id. */
export function describeEvent(event: EscrowEvent, models: ReadonlyMap<number, { name: string; currency?: Currency }>): string {
  const head = `block ${String(event.blockNumber).padEnd(6)} ${event.event.padEnd(19)} ${event.requestId}`;
  switch (event.event) {
    case "PredictionRequested": {
      const model = models.get(event.modelId);
      const fee = model?.currency ? formatAmount(event.fee, model.currency) : `${event.fee}`;
      return `${head}  model ${event.modelId}${model ? ` ${model.name}` : ""} by ${event.requester}, image ${event.imageCid}, fee ${fee}`;
    }
    case "PredictionFulfilled":
      return `${head}  result ${event.resultCid}${event.topClass === undefined ? "" : `, top class ${event.topClass} (${((event.topScore ?? 0) / 100).toFixed(2)}%)`}`;
    case "PredictionRejected":
      return `${head}  ${event.reasonName}`;
    default:
      return head;
  }
}
