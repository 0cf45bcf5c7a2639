/**
 * Where one request stands, from everything observable: its `PredictionRequested`
 * terms, its settlement event (if any), the chain's clock against its deadline, the
 * oracle's own view (`/requests/<id>` on its status server, when reachable) and, once
 * fulfilled, the verified result. `argus request --wait` and `argus result` share it.
 */
import { fetchOracleRequest, type OracleRequestReport } from "@argus/protocol/oracle-status";
import type { InferenceResult } from "@argus/protocol/result";
import type { CliContext } from "./context.ts";
import { chainTime, findRequest, findSettlements, type ModelInfo, type RequestRecord, type Settlement } from "@argus/escrow/escrow-reads";
import { type RequestPhase, requestPhase } from "@argus/escrow/request-phase";
import { resolveModel } from "./escrow-reads.ts";
import { verifyAnswer } from "./verify.ts";

export interface RequestStatus {
  request: RequestRecord;
  model: ModelInfo;
  phase: RequestPhase;
  settlement?: Settlement;
  /** Seconds left before the deadline, by chain time (pending requests). */
  secondsLeft?: number;
  oracle?: OracleRequestReport;
  /** Fulfilled requests: the checked result. */
  verified?: boolean;
  resultCid?: string;
  result?: InferenceResult;
  problem?: string;
}

export class RequestNotFoundError extends Error {
  override name = "RequestNotFoundError";
}

export async function loadRequest(ctx: CliContext, requestId: bigint): Promise<{ request: RequestRecord; model: ModelInfo }> {
  const request = await findRequest(ctx, requestId);
  if (!request)
    throw new RequestNotFoundError(`no request ${requestId} on the escrow ${ctx.escrow} (searched from block ${ctx.deployBlock})`);
  return { request, model: await resolveModel(ctx, String(request.terms.modelId)) };
}

/** The status now; `verify` fetches and checks the result of a fulfilled request. */
export async function requestStatus(
  ctx: CliContext,
  loaded: { request: RequestRecord; model: ModelInfo },
  verify = true,
): Promise<RequestStatus> {
  const { request, model } = loaded;
  const [settlements, now, oracle] = await Promise.all([
    findSettlements(ctx, [request.terms.requestId], request.blockNumber),
    chainTime(ctx),
    oracleView(ctx, request.terms.requestId),
  ]);
  const settlement = settlements.get(request.terms.requestId);
  const status: RequestStatus = {
    request,
    model,
    ...requestPhase({ deadline: request.terms.deadline, settlement, chainTime: now }),
    ...(oracle ? { oracle } : {}),
  };
  if (settlement === undefined) return status;
  status.settlement = settlement;
  if (settlement.kind === "fulfilled" && verify) {
    const verification = await verifyAnswer(ctx, request, model.name, settlement);
    status.verified = verification.verified;
    status.resultCid = verification.resultCid;
    if (verification.result) status.result = verification.result;
    if (!verification.verified) status.problem = verification.problem;
  }
  return status;
}

/** The oracle's record of the request, or undefined when no status server answers quickly. */
export async function oracleView(ctx: CliContext, requestId: bigint): Promise<OracleRequestReport | undefined> {
  if (!ctx.oracleStatusUrl) return undefined;
  try {
    return (await fetchOracleRequest(ctx.oracleStatusUrl, requestId, AbortSignal.timeout(2_000))) ?? undefined;
  } catch {
    return undefined;
  }
}

export class WaitTimeoutError extends Error {
  override name = "WaitTimeoutError";
}

/**
 * Polls until the request is settled (fulfilled, rejected or refunded) and returns
 * its status, verified. `onTick` gets the pending status each round, for progress.
 */
export async function waitForSettlement(
  ctx: CliContext,
  loaded: { request: RequestRecord; model: ModelInfo },
  options: { timeoutMs: number; pollMs?: number; onTick?: (status: RequestStatus, waitedMs: number) => void; signal?: AbortSignal },
): Promise<RequestStatus> {
  const started = Date.now();
  for (;;) {
    const status = await requestStatus(ctx, loaded);
    if (status.settlement !== undefined) return status;
    const waited = Date.now() - started;
    if (waited >= options.timeoutMs) {
      throw new WaitTimeoutError(
        `request ${loaded.request.terms.requestId} is still ${status.phase} after ${Math.round(waited / 1000)} s` +
          `${status.oracle ? ` (oracle: ${status.oracle.state}${status.oracle.error ? `, ${status.oracle.error}` : ""})` : ""}; ` +
          `check again with \`argus result ${loaded.request.terms.requestId}\``,
      );
    }
    options.onTick?.(status, waited);
    await sleep(options.pollMs ?? 1_000, options.signal);
  }
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
