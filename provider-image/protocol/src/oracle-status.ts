/**
 * The oracle's status API, as its status server serves it and as the web UI and the
 * `argus` CLI read it: where a request is in the oracle's pipeline before anything
 * reaches the chain. Advisory: the chain's events always win over it.
 *
 *   GET <statusUrl>/healthz          200 healthy, 503 not; both say which escrow the
 *                                    oracle serves and the last block it has read
 *   GET <statusUrl>/requests/<id>    the oracle's record of a request (decimal id),
 *                                    404 until it has read the request's block
 *
 * A browser logs every 404, so a reader asks `/healthz` first and asks about a request
 * only once `oracleHasRead` its block; a 404 after that means this oracle does not
 * track the request.
 *
 * Browser-safe: zod and the global fetch only.
 */
import { z } from "zod";

/**
 * The oracle's queue states, in pipeline order. A request moves
 *   received → ready → running → computed → pinned → posting → fulfilled
 * or, when its input is unusable, → rejecting → posting → rejected; `expired` when its
 * deadline passes first.
 */
export const ORACLE_STATES = [
  "received",
  "ready",
  "running",
  "computed",
  "pinned",
  "rejecting",
  "posting",
  "fulfilled",
  "rejected",
  "expired",
] as const;
export type OracleState = (typeof ORACLE_STATES)[number];

/** The oracle is done with the request: from here on only the chain has news. */
export function isFinalOracleState(state: OracleState): boolean {
  return state === "fulfilled" || state === "rejected" || state === "expired";
}

/**
 * `/requests/<id>`: the oracle's record of one request (bigints as decimal strings).
 * Only the fields readers use are checked; the rest (terms, timestamps, …) pass through.
 */
export const OracleRequestReportSchema = z.looseObject({
  state: z.enum(ORACLE_STATES),
  /** On-chain reason code of a refusal (rejecting, rejected), and its name. */
  rejectReason: z.number().int().nullable().default(null),
  rejectReasonName: z.string().nullable().default(null),
  /** The last failure, e.g. an image fetch or a model run that will be retried. */
  error: z.string().nullable().default(null),
  /** The result's CID once it is pinned. */
  resultCid: z.string().nullable().default(null),
  attempts: z.number().int().min(0).optional(),
});
export type OracleRequestReport = z.output<typeof OracleRequestReportSchema>;

/** `/healthz`: which escrow, and the last block whose events the oracle has read (absent before its first read). */
export const OracleHealthSchema = z.looseObject({
  ok: z.boolean().optional(),
  escrow: z.string(),
  readUpTo: z
    .union([z.string().regex(/^\d+$/), z.number().int().min(0)])
    .transform(BigInt)
    .optional(),
});
export type OracleHealth = Pick<z.output<typeof OracleHealthSchema>, "escrow" | "readUpTo">;

/** The path of a request's record on the status server. */
export function oracleRequestPath(requestId: bigint): string {
  return `/requests/${requestId.toString(10)}`;
}

const TIMEOUT_MS = 5_000;

async function getJson(url: string, accept: (status: number) => boolean, signal: AbortSignal | undefined, fetcher: typeof fetch) {
  const timeout = AbortSignal.timeout(TIMEOUT_MS);
  const response = await fetcher(url, { cache: "no-store", signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]) });
  if (response.status === 404) return undefined;
  if (!accept(response.status)) throw new Error(`${url} answered HTTP ${response.status}`);
  return (await response.json()) as unknown;
}

/** The oracle's health report; a 503 (unhealthy) still says how far it has read. */
export async function fetchOracleHealth(statusUrl: string, signal?: AbortSignal, fetcher: typeof fetch = fetch): Promise<OracleHealth> {
  const json = await getJson(`${statusUrl}/healthz`, (status) => status === 200 || status === 503, signal, fetcher);
  if (json === undefined) throw new Error(`${statusUrl}/healthz answered HTTP 404: not an Argus oracle status server`);
  const { escrow, readUpTo } = OracleHealthSchema.parse(json);
  return readUpTo === undefined ? { escrow } : { escrow, readUpTo };
}

/** Where the oracle is with a request; null when it does not know the request. */
export async function fetchOracleRequest(
  statusUrl: string,
  requestId: bigint,
  signal?: AbortSignal,
  fetcher: typeof fetch = fetch,
): Promise<OracleRequestReport | null> {
  const json = await getJson(`${statusUrl}${oracleRequestPath(requestId)}`, (status) => status === 200, signal, fetcher);
  return json === undefined ? null : OracleRequestReportSchema.parse(json);
}

/** The oracle serves this escrow and has read the block a request was paid in. */
export function oracleHasRead(health: OracleHealth, escrow: string, blockNumber: bigint): boolean {
  return health.escrow.toLowerCase() === escrow.toLowerCase() && health.readUpTo !== undefined && health.readUpTo >= blockNumber;
}
