/**
 * The SDK's typed errors: each names what went wrong in a way a caller can branch on
 * (`instanceof`, or `name` across bundles). Reverts of the escrow itself surface as
 * viem's `ContractFunctionRevertedError`, decoded with the escrow's ABI (e.g.
 * `FeeAboveMax`, `ModelNotActive`). Browser-safe: no imports.
 */

/** Base of every error the SDK throws itself. */
export class ArgusError extends Error {
  override name = "ArgusError";
}

/** The model takes no requests (deactivated by its admin). */
export class ModelNotActiveError extends ArgusError {
  override name = "ModelNotActiveError";
  readonly modelId: number;
  constructor(modelId: number) {
    super(`model ${modelId} is not active: it takes no requests`);
    this.modelId = modelId;
  }
}

/** A transaction was mined but reverted, or did not do what it was sent for. */
export class TransactionFailedError extends ArgusError {
  override name = "TransactionFailedError";
  readonly transactionHash: `0x${string}`;
  constructor(transactionHash: `0x${string}`, problem: string) {
    super(`the transaction ${transactionHash} ${problem}`);
    this.transactionHash = transactionHash;
  }
}

/** No `PredictionRequested` for this id since the reader's first block. */
export class RequestNotFoundError extends ArgusError {
  override name = "RequestNotFoundError";
}

/** The request was not settled within the time given to wait for it. */
export class WaitTimeoutError extends ArgusError {
  override name = "WaitTimeoutError";
  readonly requestId: bigint;
  readonly waitedMs: number;
  constructor(
    requestId: bigint,
    waitedMs: number,
    message = `request ${requestId} is still unsettled after ${Math.round(waitedMs / 1000)} s`,
  ) {
    super(message);
    this.requestId = requestId;
    this.waitedMs = waitedMs;
  }
}

/** The request was settled without an answer: rejected by the oracle, or expired; its fee was refunded. */
export class PredictionRefundedError extends ArgusError {
  override name = "PredictionRefundedError";
  readonly requestId: bigint;
  readonly settlement: { kind: "rejected" | "expired"; reasonName?: string };
  constructor(requestId: bigint, settlement: { kind: "rejected" | "expired"; reasonName?: string }) {
    super(
      `request ${requestId} was ${settlement.kind}${settlement.reasonName ? ` (${settlement.reasonName})` : ""}; its fee was credited back to the requester`,
    );
    this.requestId = requestId;
    this.settlement = settlement;
  }
}
