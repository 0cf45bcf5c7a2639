/**
 * The oracle's own view of a request, from its status server (`oracle.statusUrl` in the
 * deployment record): where the request is in the oracle's pipeline before anything
 * reaches the chain. Advisory and optional: without a status URL, or when the server
 * does not answer, the app shows what the chain says; and the chain's events always win
 * (status.ts).
 *
 * `GET <statusUrl>/requests/<decimal id>` answers 404 until the oracle has read the
 * request's block, and the browser logs every 404. So the app asks `/healthz` first (one
 * query shared by every tracker: which escrow, and the last block the oracle has read)
 * and asks about a request only once the oracle has read past the block it was paid in.
 * A 404 after that means this oracle does not track the request, and the app stops asking.
 */
import { z } from "zod";

/** The oracle's queue states (oracle-requestor/src/store/request-store.ts). */
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

/** What the app uses of `/requests/<id>`. */
export interface OracleProgress {
  state: OracleState;
  /** On-chain reason code of a refusal (rejecting, rejected). */
  rejectReason: number | null;
  /** The last failure, e.g. an image fetch or a model run that will be retried. */
  error: string | null;
}

/** What the app uses of `/healthz`. */
export interface OracleHealth {
  escrow: string;
  /** Last block whose events the oracle has read (absent before its first read). */
  readUpTo?: bigint;
}

const HealthSchema = z.object({
  escrow: z.string(),
  // Serialised as a decimal string (a bigint on the server).
  readUpTo: z.union([z.string().regex(/^\d+$/), z.number().int().min(0)]).transform(BigInt).optional(),
});

const ProgressSchema = z.object({
  state: z.enum(ORACLE_STATES),
  rejectReason: z.number().int().nullable().default(null),
  error: z.string().nullable().default(null),
});

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
  const { escrow, readUpTo } = HealthSchema.parse(json);
  return readUpTo === undefined ? { escrow } : { escrow, readUpTo };
}

/** Where the oracle is with a request; null when it does not know the request. */
export async function fetchOracleProgress(
  statusUrl: string,
  requestId: bigint,
  signal?: AbortSignal,
  fetcher: typeof fetch = fetch,
): Promise<OracleProgress | null> {
  const json = await getJson(`${statusUrl}/requests/${requestId.toString(10)}`, (status) => status === 200, signal, fetcher);
  return json === undefined ? null : ProgressSchema.parse(json);
}

/** The oracle serves this escrow and has read the block a request was paid in. */
export function oracleHasRead(health: OracleHealth, escrow: string, blockNumber: bigint): boolean {
  return health.escrow.toLowerCase() === escrow.toLowerCase() && health.readUpTo !== undefined && health.readUpTo >= blockNumber;
}

/** The oracle is done with the request: from here on only the chain has news. */
export function isFinalOracleState(state: OracleState): boolean {
  return state === "fulfilled" || state === "rejected" || state === "expired";
}
