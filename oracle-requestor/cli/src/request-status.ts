/**
 * Where one request stands, from everything observable: its `PredictionRequested`
 * terms, its settlement event (if any), the chain's clock against its deadline, the
 * oracle's own view (`/requests/<id>` on its status server, when reachable) and, once
 * fulfilled, the verified result. `argus request --wait` and `argus result` share it.
 */
import { fetchOracleRequest, type OracleRequestReport } from "@argus/protocol/oracle-status";
import type { InferenceResult } from "@argus/protocol/result";
import type { CliContext } from "./context.ts";
import { RequestNotFoundError, WaitTimeoutError } from "@argus/escrow/errors";
import { chainTime, findRequest, findSettlements, type ModelInfo, type RequestRecord, type Settlement } from "@argus/escrow/escrow-reads";
import { type RequestPhase, requestPhase } from "@argus/escrow/request-phase";
import { waitForSettlement as waitForEscrowSettlement } from "@argus/escrow/wait-for-result";
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

/**
 * Waits (SDK `waitForSettlement`: settlement events in bounded log ranges) until the
 * request is settled (fulfilled, rejected or refunded) and returns its status, verified.
 * `onTick` gets the pending status each round, with the oracle's view, for progress.
 */
export async function waitForSettlement(
  ctx: CliContext,
  loaded: { request: RequestRecord; model: ModelInfo },
  options: { timeoutMs: number; pollMs?: number; onTick?: (status: RequestStatus, waitedMs: number) => void; signal?: AbortSignal },
): Promise<RequestStatus> {
  const { onTick } = options;
  try {
    await waitForEscrowSettlement(ctx, loaded.request, {
      timeoutMs: options.timeoutMs,
      ...(options.pollMs === undefined ? {} : { pollMs: options.pollMs }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      ...(onTick === undefined ? {} : { onPending: async (waited: number) => onTick(await pendingStatus(ctx, loaded), waited) }),
    });
  } catch (error) {
    if (!(error instanceof WaitTimeoutError)) throw error;
    const { phase, oracle } = await pendingStatus(ctx, loaded);
    const id = loaded.request.terms.requestId;
    throw new WaitTimeoutError(
      id,
      error.waitedMs,
      `request ${id} is still ${phase} after ${Math.round(error.waitedMs / 1000)} s${oracle ? ` (oracle: ${oracle.state}${oracle.error ? `, ${oracle.error}` : ""})` : ""}; ` +
        `check again with \`argus result ${id}\``,
    );
  }
  return requestStatus(ctx, loaded);
}

/** An unsettled request's status: its phase by chain time, and the oracle's view. */
async function pendingStatus(ctx: CliContext, loaded: { request: RequestRecord; model: ModelInfo }): Promise<RequestStatus> {
  const [now, oracle] = await Promise.all([chainTime(ctx), oracleView(ctx, loaded.request.terms.requestId)]);
  return { ...loaded, ...requestPhase({ deadline: loaded.request.terms.deadline, chainTime: now }), ...(oracle ? { oracle } : {}) };
}
