/** The app's shared state and chain reads, as hooks over TanStack Query and wagmi. */
import { createContext, useContext } from "react";
import { type Address, zeroAddress } from "viem";
import { useConfig, useConnection, usePublicClient } from "wagmi";
import { useQueries, useQuery, useQueryClient } from "@tanstack/react-query";
import { DEFAULT_LOG_RANGE_BLOCKS, type Deployment } from "./deployment.ts";
import type { Target } from "./chain/actions.ts";
import { chainTime, listModels, type ModelInfo, readToken, type RequestRecord, type TokenInfo } from "@argus/escrow/escrow-reads";
import { fetchBalances, fetchRequest, fetchRequests, recentWaits, type RequestHistory, type RequestView } from "./chain/escrow.ts";
import type { Currency } from "@argus/escrow/format";
import type { LabelsFile } from "./lib/labels.ts";
import { readLabels, readManifest } from "./ipfs/block-read.ts";
import {
  fetchOracleHealth,
  fetchOracleRequest,
  isFinalOracleState,
  oracleHasRead,
  type OracleRequestReport,
} from "@argus/protocol/oracle-status";

export const DeploymentContext = createContext<Deployment | undefined>(undefined);

export function useDeployment(): Deployment {
  const deployment = useContext(DeploymentContext);
  if (deployment === undefined) throw new Error("useDeployment outside DeploymentContext");
  return deployment;
}

export function useEscrowAddress(): Address {
  return useDeployment().contracts.predictionEscrow.address;
}

/** Polling period of event and balance queries. */
export const POLL_MS = 1_500;

function useClient() {
  const deployment = useDeployment();
  const client = usePublicClient({ chainId: deployment.chain.id });
  if (client === undefined) throw new Error(`chain ${deployment.chain.id} is not configured`);
  return client;
}

/** The connected wallet, and whether it is on the deployment's chain. */
export function useWallet() {
  const deployment = useDeployment();
  const connection = useConnection();
  const connected = connection.status === "connected" && connection.address !== undefined;
  return {
    connection,
    account: connected ? connection.address : undefined,
    connected,
    wrongNetwork: connected && connection.chainId !== deployment.chain.id,
  };
}

/** What the action helpers need, once a wallet is connected on the right chain. */
export function useTarget(): Target | undefined {
  const config = useConfig();
  const deployment = useDeployment();
  const { account, wrongNetwork } = useWallet();
  if (account === undefined || wrongNetwork) return undefined;
  return { config, chainId: deployment.chain.id, escrow: deployment.contracts.predictionEscrow.address, account };
}

export function useModels() {
  const client = useClient();
  const escrow = useEscrowAddress();
  return useQuery({
    queryKey: ["models", escrow],
    queryFn: (): Promise<ModelInfo[]> => listModels({ client, escrow }),
    refetchInterval: 30_000,
  });
}

/** The query reading a registered model's manifest from IPFS by the CID the registry records. */
function manifestQuery(apiUrl: string, manifestCid: string) {
  return {
    queryKey: ["manifest", manifestCid],
    queryFn: ({ signal }: { signal: AbortSignal }) => readManifest(apiUrl, manifestCid, signal),
    staleTime: Infinity, // a CID names one manifest forever
    retry: 1,
  };
}

/** A registered model's manifest. */
export function useManifest(manifestCid: string) {
  return useQuery(manifestQuery(useDeployment().ipfs.apiUrl, manifestCid));
}

/** Whether every one of these manifests has been read, or has failed to be. */
export function useManifestsSettled(manifestCids: readonly string[]): boolean {
  const apiUrl = useDeployment().ipfs.apiUrl;
  return useQueries({
    queries: manifestCids.map((cid) => manifestQuery(apiUrl, cid)),
    combine: (results) => results.every((result) => !result.isPending),
  });
}

/** A model's labels, from the file its manifest pins (read when `enabled`: only once someone opens the list). */
export function useLabels(file: LabelsFile | undefined, enabled: boolean) {
  const deployment = useDeployment();
  return useQuery({
    queryKey: ["labels", file?.sha256],
    queryFn: ({ signal }) => readLabels(deployment.ipfs.apiUrl, file!, signal),
    enabled: enabled && file !== undefined,
    staleTime: Infinity, // pinned by digest: never changes
    retry: false,
  });
}

/** The ERC-20 behind a token-priced model, or the native currency for address(0). */
export function useCurrency(token: Address | undefined): { currency?: Currency & { token?: TokenInfo }; error?: unknown } {
  const client = useClient();
  const deployment = useDeployment();
  const isToken = token !== undefined && token !== zeroAddress;
  const query = useQuery({
    queryKey: ["token", token],
    queryFn: () => readToken({ client }, token!),
    enabled: isToken,
    staleTime: Infinity,
  });
  if (token === undefined) return {};
  if (!isToken) return { currency: deployment.chain.nativeCurrency };
  if (query.data) return { currency: { symbol: query.data.symbol, decimals: query.data.decimals, token: query.data } };
  return { error: query.error ?? undefined };
}

/** The latest block's timestamp: the clock the escrow's deadlines run on. */
export function useChainTime(): bigint | undefined {
  const client = useClient();
  const block = useQuery({
    queryKey: ["latest-block-time"],
    queryFn: () => chainTime({ client }),
    refetchInterval: POLL_MS,
  });
  return block.data;
}

/** What the event reads need: the client, the escrow and where its history starts. */
function useEventReader() {
  const client = useClient();
  const deployment = useDeployment();
  const escrow = deployment.contracts.predictionEscrow;
  return {
    client,
    escrow: escrow.address,
    deployBlock: BigInt(escrow.deployBlock),
    logRangeBlocks: BigInt(deployment.chain.logRangeBlocks ?? DEFAULT_LOG_RANGE_BLOCKS),
  };
}

/** The account's requests, newest first; each poll reads only the blocks since the last. */
export function useRequests(account: Address | undefined) {
  const queryClient = useQueryClient();
  const reader = useEventReader();
  const queryKey = ["requests", reader.escrow, account];
  return useQuery({
    queryKey,
    queryFn: () => fetchRequests(reader, account!, queryClient.getQueryData<RequestHistory>(queryKey)),
    select: (history) => history.requests,
    enabled: account !== undefined,
    refetchInterval: POLL_MS,
  });
}

/**
 * Polling period of a request page while its request is unsettled: short, because the
 * answer should be on screen within a second of being on-chain (one log query per period;
 * a remote RPC gets a gentler rate).
 */
export const REQUEST_POLL_MS = { local: 250, remote: 1_000 };

/** One request by id, for anyone; polls until it is settled. Null: this escrow has no such request. */
export function useRequest(requestId: bigint) {
  const queryClient = useQueryClient();
  const reader = useEventReader();
  const rpcUrl = useDeployment().chain.rpcUrl;
  const queryKey = ["request", reader.escrow, requestId.toString()];
  return useQuery({
    queryKey,
    queryFn: () => fetchRequest(reader, requestId, queryClient.getQueryData<RequestView | null>(queryKey) ?? undefined),
    refetchInterval: (query) =>
      query.state.data === null || query.state.data?.settlement !== undefined
        ? false
        : REQUEST_POLL_MS[isLocalRpc(rpcUrl) ? "local" : "remote"],
  });
}

function isLocalRpc(url: string): boolean {
  return /^https?:\/\/(127\.0\.0\.1|localhost)[:/]/.test(url);
}

/** A block's timestamp (immutable once read). */
export function useBlockTime(blockNumber: bigint | undefined): bigint | undefined {
  const client = useClient();
  const query = useQuery({
    queryKey: ["block-time", blockNumber?.toString()],
    queryFn: async () => (await client.getBlock({ blockNumber: blockNumber! })).timestamp,
    enabled: blockNumber !== undefined,
    staleTime: Number.POSITIVE_INFINITY,
  });
  return query.data;
}

/** The model's typical wait, from its recent answered requests (refreshed each minute). */
export function useRecentWaits(modelId: number) {
  const reader = useEventReader();
  return useQuery({
    queryKey: ["recent-waits", reader.escrow, modelId],
    queryFn: () => recentWaits(reader, modelId),
    refetchInterval: 60_000,
  });
}

export function useRefundBalances(account: Address | undefined, tokens: readonly Address[]) {
  const client = useClient();
  const escrow = useEscrowAddress();
  return useQuery({
    queryKey: ["balances", escrow, account, tokens.join(",")],
    queryFn: () => fetchBalances(client, escrow, account!, tokens),
    enabled: account !== undefined,
    refetchInterval: POLL_MS * 2,
  });
}

/** Polling period of the oracle's status server while a request is waiting for its answer. */
export const ORACLE_POLL_MS = 2_000;
/** After a failed call (server down, unexpected answer): it is optional, so ask rarely. */
const ORACLE_RETRY_MS = 15_000;

/**
 * The oracle's report on a pending request (@argus/protocol/oracle-status), while `waiting`; undefined
 * when the deployment names no oracle status server, the server does not answer, or the
 * oracle has not read the request yet. Polls `/healthz` (shared) until the oracle has read
 * the request's block, then `/requests/<id>` until the oracle is done with it.
 */
export function useOracleProgress(record: RequestRecord, waiting: boolean): OracleRequestReport | undefined {
  const deployment = useDeployment();
  const statusUrl = deployment.oracle?.statusUrl;
  const escrow = deployment.contracts.predictionEscrow.address;
  const retryOnError = (query: { state: { status: string } }) => (query.state.status === "error" ? ORACLE_RETRY_MS : ORACLE_POLL_MS);
  const health = useQuery({
    queryKey: ["oracle-health", statusUrl],
    queryFn: ({ signal }) => fetchOracleHealth(statusUrl!, signal),
    enabled: statusUrl !== undefined && waiting,
    // Only until the oracle has read this request's block (then the request's own query takes over).
    refetchInterval: (query) =>
      query.state.data !== undefined && oracleHasRead(query.state.data, escrow, record.blockNumber) ? false : retryOnError(query),
    retry: false,
  });
  const read = health.data !== undefined && oracleHasRead(health.data, escrow, record.blockNumber);
  const progress = useQuery({
    queryKey: ["oracle-request", statusUrl, record.terms.requestId.toString()],
    queryFn: ({ signal }) => fetchOracleRequest(statusUrl!, record.terms.requestId, signal),
    enabled: statusUrl !== undefined && waiting && read,
    refetchInterval: (query) => {
      const data = query.state.data;
      if (data === null || (data !== undefined && isFinalOracleState(data.state))) return false; // unknown to it, or done
      return retryOnError(query);
    },
    retry: false,
  });
  return waiting ? (progress.data ?? undefined) : undefined;
}
