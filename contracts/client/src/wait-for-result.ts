/**
 * `waitForResult` and `waitForSettlement`: follow a paid request until the escrow
 * settles it, reading its settlement events in bounded log ranges (`findSettlements`)
 * from the request's own block. Browser-safe.
 */
import { PredictionRefundedError, WaitTimeoutError } from "./errors.ts";
import { type EventReader, findSettlements, type RequestRecord, type Settlement } from "./escrow-reads.ts";

export interface WaitOptions {
  /** Give up after this long (WaitTimeoutError). Default: 10 minutes. */
  timeoutMs?: number;
  /** Between two reads. Default: 1 s. */
  pollMs?: number;
  /** Stops waiting (rejects with the signal's reason); the request stays paid. */
  signal?: AbortSignal;
  /** Called after each read that found the request unsettled, for progress. */
  onPending?: (waitedMs: number) => void | Promise<void>;
}

/** The answer of a fulfilled request: its digest and the result's CID, with the top result posted when readable. */
export type Answer = Extract<Settlement, { kind: "fulfilled" }>;

/** Waits until the request is settled, however: fulfilled, rejected or expired. */
export async function waitForSettlement(
  reader: EventReader,
  request: Pick<RequestRecord, "terms" | "blockNumber">,
  options: WaitOptions = {},
): Promise<Settlement> {
  const { requestId } = request.terms;
  const timeoutMs = options.timeoutMs ?? 600_000;
  const started = Date.now();
  for (;;) {
    const settlement = (await findSettlements(reader, [requestId], request.blockNumber)).get(requestId);
    if (settlement !== undefined) return settlement;
    const waited = Date.now() - started;
    if (waited >= timeoutMs) throw new WaitTimeoutError(requestId, waited);
    await options.onPending?.(waited);
    await sleep(options.pollMs ?? 1_000, options.signal);
  }
}

/**
 * Waits for the request's answer. Throws PredictionRefundedError when it was rejected
 * or expired instead, WaitTimeoutError when it is not settled in time. Check the
 * answer with `verifyResult` (@argus/protocol/verify-result) before relying on it.
 */
export async function waitForResult(
  reader: EventReader,
  request: Pick<RequestRecord, "terms" | "blockNumber">,
  options: WaitOptions = {},
): Promise<Answer> {
  const settlement = await waitForSettlement(reader, request, options);
  if (settlement.kind !== "fulfilled") throw new PredictionRefundedError(request.terms.requestId, settlement);
  return settlement;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}
