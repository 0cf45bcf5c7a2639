/**
 * Reading the escrow: the model registry, one account's requests and how each was
 * settled, refundable balances. Everything comes from views and event queries; the
 * ABI is the generated one shared by every package.
 */
import { predictionEscrowAbi } from "@argus/oracle-requestor/chain/abi.generated";
import { type RequestTerms, requestFromEvent, topResultFromCalldata } from "@argus/oracle-requestor/chain/request-terms";
import { NO_CLASS } from "@argus/provider-image/protocol/result";
import { type Address, erc20Abi, type Hex, type PublicClient, parseEventLogs, zeroAddress } from "viem";
import type { Currency } from "../lib/format.ts";
import type { Settlement } from "../lib/status.ts";

export { predictionEscrowAbi };

export type Task = "classification" | "detection";

export interface Model {
  id: number;
  /** The manifest id, e.g. "mobilenetv2-12-int8". */
  name: string;
  task: Task;
  active: boolean;
  /** address(0): the chain's native currency. */
  feeToken: Address;
  fee: bigint;
  /** Seconds the oracle has to answer. */
  responseWindow: number;
}

export interface Token extends Currency {
  address: Address;
  name: string;
}

export interface RequestRecord {
  terms: RequestTerms;
  imageCid: string;
  blockNumber: bigint;
  transactionHash: Hex;
  settlement?: Settlement;
}

const TASKS: readonly Task[] = ["classification", "detection"];

export async function listModels(client: PublicClient, escrow: Address): Promise<Model[]> {
  const count = await client.readContract({ address: escrow, abi: predictionEscrowAbi, functionName: "modelCount" });
  const ids = Array.from({ length: count }, (_, index) => index + 1);
  const models = await Promise.all(
    ids.map((id) => client.readContract({ address: escrow, abi: predictionEscrowAbi, functionName: "getModel", args: [id] })),
  );
  return models.map((model) => ({
    id: model.id,
    name: model.name,
    task: TASKS[model.task] ?? "classification",
    active: model.active,
    feeToken: model.feeToken,
    fee: model.fee,
    responseWindow: model.responseWindow,
  }));
}

/** The exact fee of a request without callback: what `requestPrediction` must be paid. */
export async function quoteFee(client: PublicClient, escrow: Address, modelId: number): Promise<{ token: Address; amount: bigint }> {
  const [token, amount] = await client.readContract({
    address: escrow,
    abi: predictionEscrowAbi,
    functionName: "quote",
    args: [modelId, 0],
  });
  return { token, amount };
}

export async function readToken(client: PublicClient, address: Address): Promise<Token> {
  const [symbol, decimals, name] = await Promise.all([
    client.readContract({ address, abi: erc20Abi, functionName: "symbol" }),
    client.readContract({ address, abi: erc20Abi, functionName: "decimals" }),
    client.readContract({ address, abi: erc20Abi, functionName: "name" }),
  ]);
  return { address, symbol, decimals, name };
}

/** The `PredictionRequested` events of a receipt, as request terms. */
export function requestsInLogs(logs: Parameters<typeof parseEventLogs>[0]["logs"]): RequestRecord[] {
  return parseEventLogs({ abi: predictionEscrowAbi, logs, eventName: "PredictionRequested" }).map((log) => {
    const { imageCid, ...terms } = requestFromEvent(log.args);
    return {
      terms,
      imageCid,
      blockNumber: log.blockNumber ?? 0n,
      transactionHash: log.transactionHash ?? "0x",
    };
  });
}

/**
 * An account's requests, newest first, each with its settlement if there was one:
 * `PredictionRequested` filtered by requester, then the settlement events of those ids.
 */
export async function fetchRequests(
  client: PublicClient,
  escrow: Address,
  requester: Address,
  fromBlock: bigint,
): Promise<RequestRecord[]> {
  const requested = await client.getContractEvents({
    address: escrow,
    abi: predictionEscrowAbi,
    eventName: "PredictionRequested",
    args: { requester },
    fromBlock,
    toBlock: "latest",
  });
  const records = requestsInLogs(requested);
  if (records.length === 0) return [];
  const settlements = await fetchSettlements(
    client,
    escrow,
    records.map((record) => record.terms.requestId),
    fromBlock,
  );
  return records
    .map((record) => {
      const settlement = settlements.get(record.terms.requestId);
      return settlement === undefined ? record : { ...record, settlement };
    })
    .sort((a, b) => (a.blockNumber === b.blockNumber ? 0 : a.blockNumber > b.blockNumber ? -1 : 1));
}

/** How each of `requestIds` was settled, from the escrow's settlement events. */
export async function fetchSettlements(
  client: PublicClient,
  escrow: Address,
  requestIds: readonly bigint[],
  fromBlock: bigint,
): Promise<Map<bigint, Settlement>> {
  const args = { requestId: [...requestIds] };
  const range = { address: escrow, abi: predictionEscrowAbi, args, fromBlock, toBlock: "latest" } as const;
  const [fulfilled, rejected, expired] = await Promise.all([
    client.getContractEvents({ ...range, eventName: "PredictionFulfilled" }),
    client.getContractEvents({ ...range, eventName: "PredictionRejected" }),
    client.getContractEvents({ ...range, eventName: "PredictionExpired" }),
  ]);
  const settlements = new Map<bigint, Settlement>();
  // The event carries only the digest; the top result the oracle posted is in its batch's calldata.
  const inputs = new Map<Hex, Promise<Hex>>();
  const inputOf = (hash: Hex) => {
    if (!inputs.has(hash)) inputs.set(hash, client.getTransaction({ hash }).then((tx) => tx.input));
    return inputs.get(hash)!;
  };
  for (const log of fulfilled) {
    const requestId = log.args.requestId!;
    const top = topResultFromCalldata(await inputOf(log.transactionHash), requestId) ?? { topClass: NO_CLASS, topScore: 0 };
    settlements.set(requestId, { kind: "fulfilled", resultDigest: log.args.resultDigest!, ...top });
  }
  for (const log of rejected) settlements.set(log.args.requestId!, { kind: "rejected", reason: log.args.reason! });
  for (const log of expired) settlements.set(log.args.requestId!, { kind: "expired" });
  return settlements;
}

/** What `account` can withdraw in each currency (native first, then each model's fee token). */
export async function fetchBalances(
  client: PublicClient,
  escrow: Address,
  account: Address,
  tokens: readonly Address[],
): Promise<{ token: Address; amount: bigint }[]> {
  const currencies = [zeroAddress, ...new Set(tokens.filter((token) => token !== zeroAddress))] as Address[];
  return Promise.all(
    currencies.map(async (token) => ({
      token,
      amount: await client.readContract({
        address: escrow,
        abi: predictionEscrowAbi,
        functionName: "balanceOf",
        args: [token, account],
      }),
    })),
  );
}
