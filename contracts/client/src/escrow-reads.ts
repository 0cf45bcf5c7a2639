/**
 * Reading the escrow as its users see it, for the web UI and the `argus` CLI alike: the
 * model registry, requests and how each was settled, and its lifecycle events in
 * bounded block ranges (public RPC endpoints refuse eth_getLogs over too many blocks).
 * Views and events only; nothing here signs.
 *
 * Browser-safe (viem, multiformats, the shared protocol), and each function asks only
 * for what it reads: the escrow and a client (`EscrowReader`), plus where its events
 * start (`EventReader`).
 */
import { CID } from "multiformats/cid";
import {
  type Address,
  BaseError,
  type ContractFunctionReturnType,
  erc20Abi,
  type Hex,
  hexToBytes,
  type Log,
  parseEventLogs,
  type PublicClient,
} from "viem";
import { resultCidFromDigest } from "@argus/protocol/cid";
import { rejectReasonName } from "./reject-reasons.ts";
import { predictionEscrowAbi } from "./abi.generated.ts";
import { requestFromEvent, type RequestTerms, type TopResult, topResultFromCalldata } from "./request-terms.ts";

/** The escrow and a client to read it. */
export interface EscrowReader {
  client: PublicClient;
  escrow: Address;
}

/** …plus where its events start and how many blocks one eth_getLogs may span. */
export interface EventReader extends EscrowReader {
  /** The escrow's deployment block: no event of it is older. */
  deployBlock: bigint;
  /** Most blocks per eth_getLogs call; undefined: a query's whole range in one call. */
  logRangeBlocks?: bigint | undefined;
}

export type Task = "classification" | "detection";

export interface ModelInfo {
  id: number;
  /** The manifest id, e.g. "mobilenetv2-12-int8": what its results name as `modelId`. */
  name: string;
  task: Task;
  active: boolean;
  /** address(0): the chain's native currency. */
  feeToken: Address;
  fee: bigint;
  callbackGasPrice: bigint;
  /** Seconds the oracle has to answer. */
  responseWindow: number;
  weightsSha256: Hex;
  providerImageHash: Hex;
  /** The manifest's CID (a raw block of its canonical JSON), or the stored bytes when they are not a CID. */
  manifestCid: string;
}

/** The registry, by id (ids run from 1 to `modelCount`). */
export async function listModels(reader: EscrowReader): Promise<ModelInfo[]> {
  const count = await reader.client.readContract({ address: reader.escrow, abi: predictionEscrowAbi, functionName: "modelCount" });
  return Promise.all(Array.from({ length: count }, (_, index) => readModel(reader, index + 1)));
}

/** One registered model, as of the latest block. */
export async function readModel(reader: EscrowReader, id: number): Promise<ModelInfo> {
  return modelFromView(
    await reader.client.readContract({ address: reader.escrow, abi: predictionEscrowAbi, functionName: "getModel", args: [id] }),
  );
}

/** What the escrow's `getModel` view returns, as viem decodes it. */
export type ModelView = ContractFunctionReturnType<typeof predictionEscrowAbi, "view", "getModel">;

/** The registry's record of a model in the shape every reader of the escrow uses. */
export function modelFromView(view: ModelView): ModelInfo {
  return {
    id: view.id,
    name: view.name,
    task: view.task === 1 ? "detection" : "classification",
    active: view.active,
    feeToken: view.feeToken,
    fee: view.fee,
    callbackGasPrice: view.callbackGasPrice,
    responseWindow: Number(view.responseWindow),
    weightsSha256: view.weightsSha256,
    providerImageHash: view.providerImageHash,
    manifestCid: manifestCidText(view.manifestCid),
  };
}

function manifestCidText(bytes: Hex): string {
  try {
    return CID.decode(hexToBytes(bytes)).toString();
  } catch {
    return bytes;
  }
}

// ------------------------------------------------------------------ events

export interface RequestRecord {
  terms: RequestTerms;
  /** The image CID as text; the raw hex when the bytes are not a valid image CID. */
  imageCid: string;
  blockNumber: bigint;
  transactionHash: Hex;
}

/** How a request was settled. `topClass`/`topScore` are absent when the fulfilment's calldata could not be read (see `withTopResults`). */
export type Settlement =
  | ({ kind: "fulfilled"; resultDigest: Hex; resultCid: string; blockNumber: bigint; transactionHash: Hex } & Partial<TopResult>)
  | { kind: "rejected"; reason: number; reasonName: string; blockNumber: bigint; transactionHash: Hex }
  | { kind: "expired"; blockNumber: bigint; transactionHash: Hex };

/** One event of a request's lifecycle, as `argus events` prints it. */
export type EscrowEvent =
  | RequestedEvent
  | ({ event: "PredictionFulfilled" } & EventPlace & { requestId: bigint; resultDigest: Hex; resultCid: string } & Partial<TopResult>)
  | ({ event: "PredictionRejected" } & EventPlace & { requestId: bigint; reason: number; reasonName: string })
  | ({ event: "PredictionExpired" } & EventPlace & { requestId: bigint })
  | ({ event: "CallbackFailed" } & EventPlace & { requestId: bigint });

type RequestedEvent = { event: "PredictionRequested" } & EventPlace & RequestTerms & { imageCid: string };

export interface EventPlace {
  blockNumber: number;
  transactionHash: Hex;
  logIndex: number;
}

export const LIFECYCLE_EVENTS = [
  "PredictionRequested",
  "PredictionFulfilled",
  "PredictionRejected",
  "PredictionExpired",
  "CallbackFailed",
] as const;
export const SETTLEMENT_EVENTS = ["PredictionFulfilled", "PredictionRejected", "PredictionExpired", "CallbackFailed"] as const;
type LifecycleEventName = (typeof LIFECYCLE_EVENTS)[number];

type AbiEvent = Extract<(typeof predictionEscrowAbi)[number], { type: "event" }>;
const EVENT_ITEMS = predictionEscrowAbi.filter(
  (item): item is AbiEvent => item.type === "event" && (LIFECYCLE_EVENTS as readonly string[]).includes(item.name),
);

/** Decodes the escrow's lifecycle events in `logs`, in log order. */
export function decodeEvents(logs: readonly Log[]): EscrowEvent[] {
  const events: EscrowEvent[] = [];
  // The lifecycle events only: viem hashes every event signature of the ABI it is given, on every call.
  for (const log of parseEventLogs({ abi: EVENT_ITEMS, logs: logs as Log[] })) {
    const place: EventPlace = { blockNumber: Number(log.blockNumber), transactionHash: log.transactionHash!, logIndex: log.logIndex! };
    switch (log.eventName) {
      case "PredictionRequested":
        events.push({ event: log.eventName, ...place, ...requestFromEvent(log.args) });
        break;
      case "PredictionFulfilled": {
        const { requestId, resultDigest } = log.args;
        events.push({ event: log.eventName, ...place, requestId, resultDigest, resultCid: resultCidFromDigest(resultDigest).toString() });
        break;
      }
      case "PredictionRejected":
        events.push({
          event: log.eventName,
          ...place,
          requestId: log.args.requestId,
          reason: log.args.reason,
          reasonName: rejectReasonName(log.args.reason),
        });
        break;
      case "PredictionExpired":
      case "CallbackFailed":
        events.push({ event: log.eventName, ...place, requestId: log.args.requestId });
        break;
    }
  }
  return events;
}

/** The requests whose `PredictionRequested` is in `logs` (a request transaction's receipt). */
export function requestsInLogs(logs: readonly Log[]): RequestRecord[] {
  return decodeEvents(logs).flatMap((event) => (event.event === "PredictionRequested" ? [requestRecord(event)] : []));
}

function requestRecord(event: RequestedEvent): RequestRecord {
  const { event: _name, blockNumber, transactionHash, logIndex: _index, imageCid, ...terms } = event;
  return { terms, imageCid, blockNumber: BigInt(blockNumber), transactionHash };
}

export interface EventQuery {
  fromBlock: bigint;
  toBlock: bigint;
  events?: readonly LifecycleEventName[];
  /** Indexed filters; arrays match any of their values. */
  requestId?: bigint | bigint[];
  requester?: Address;
  modelId?: number;
}

/**
 * The escrow's lifecycle events in a block range, read `reader.logRangeBlocks` blocks at
 * a time (`inLogRanges`: fewer where the endpoint refuses that many). A list of request ids is asked in groups (some
 * endpoints refuse a topic filter with hundreds of alternatives).
 */
export async function queryEvents(reader: EventReader, query: EventQuery): Promise<EscrowEvent[]> {
  if (Array.isArray(query.requestId) && query.requestId.length > ID_GROUP) {
    const events: EscrowEvent[] = [];
    for (let start = 0; start < query.requestId.length; start += ID_GROUP) {
      events.push(...(await queryEvents(reader, { ...query, requestId: query.requestId.slice(start, start + ID_GROUP) })));
    }
    return events.sort((a, b) => a.blockNumber - b.blockNumber || a.logIndex - b.logIndex);
  }
  const names = query.events ?? LIFECYCLE_EVENTS;
  const items = EVENT_ITEMS.filter((item) => names.includes(item.name as LifecycleEventName));
  const args: Record<string, unknown> = {};
  if (query.requestId !== undefined) args.requestId = query.requestId;
  if (query.requester !== undefined) args.requester = query.requester;
  if (query.modelId !== undefined) args.modelId = query.modelId;
  const span = { blocks: reader.logRangeBlocks ?? query.toBlock - query.fromBlock + 1n };
  const events: EscrowEvent[] = [];
  await inLogRanges(
    query.fromBlock,
    query.toBlock,
    span,
    (fromBlock, toBlock) =>
      reader.client.getLogs({
        address: reader.escrow,
        events: items as never,
        ...(Object.keys(args).length === 0 ? {} : { args: args as never }),
        fromBlock,
        toBlock,
      }) as Promise<Log[]>,
    (logs) => void events.push(...decodeEvents(logs)),
  );
  return withTopResults(reader, events);
}

/** Most blocks one eth_getLogs may span; shrinks when an endpoint refuses a range as too large. */
export interface LogRangeSpan {
  blocks: bigint;
}

/**
 * Reads `fromBlock`..`toBlock` in consecutive ranges of at most `span.blocks` blocks,
 * oldest first, handing each range's result to `take` before the next is read. A range
 * the endpoint refuses as too large (`isRangeRefusal`) is halved, and `span` keeps the
 * smaller size for the ranges after it and for whoever reads with it next: an endpoint's
 * limit does not change, and asking too much again would cost a refused call each time.
 */
export async function inLogRanges<T>(
  fromBlock: bigint,
  toBlock: bigint,
  span: LogRangeSpan,
  read: (fromBlock: bigint, toBlock: bigint) => Promise<T>,
  take: (result: T, toBlock: bigint) => void,
): Promise<void> {
  for (let from = fromBlock; from <= toBlock; ) {
    const to = from + span.blocks - 1n < toBlock ? from + span.blocks - 1n : toBlock;
    let result: T;
    try {
      result = await read(from, to);
    } catch (error) {
      if (to === from || !isRangeRefusal(error)) throw error;
      span.blocks = (to - from + 1n) / 2n;
      continue;
    }
    take(result, to);
    from = to + 1n;
  }
}

const RANGE_REFUSAL = /range|more than [\d,]+ (?:results|logs)|response size|too many (?:blocks|results|logs)/i;
const THROTTLING = /rate.?limit|too many requests|daily|credits/i;

/**
 * Whether eth_getLogs failed for asking too much at once, as public endpoints word it
 * ("block range is too wide", "exceed maximum block range: 50000", "query returned more
 * than 10000 results", "Log response size exceeded"); not a throttled or failed call,
 * which a smaller range would not help.
 */
export function isRangeRefusal(error: unknown): boolean {
  const said = error instanceof BaseError ? error.details || error.shortMessage : error instanceof Error ? error.message : String(error);
  return RANGE_REFUSAL.test(said) && !THROTTLING.test(said);
}

/**
 * Adds the posted top class and score to each PredictionFulfilled: the event carries
 * only the digest, the summary is in the `fulfillBatch` calldata of its transaction
 * (read once per transaction). Left out when the transaction is not a direct
 * `fulfillBatch` call (e.g. made through another contract).
 */
export async function withTopResults(reader: Pick<EscrowReader, "client">, events: EscrowEvent[]): Promise<EscrowEvent[]> {
  const inputs = new Map<Hex, Promise<Hex>>();
  return Promise.all(
    events.map(async (event) => {
      if (event.event !== "PredictionFulfilled") return event;
      if (!inputs.has(event.transactionHash))
        inputs.set(
          event.transactionHash,
          reader.client.getTransaction({ hash: event.transactionHash }).then((tx) => tx.input),
        );
      let top: TopResult | undefined;
      try {
        top = topResultFromCalldata(await inputs.get(event.transactionHash)!, event.requestId);
      } catch {
        top = undefined; // not a fulfillBatch call
      }
      return top ? { ...event, ...top } : event;
    }),
  );
}

const ID_GROUP = 100;

/** The requests matching `filter` from `fromBlock` to `toBlock` (default: the latest block), oldest first. */
export async function findRequests(
  reader: EventReader,
  filter: Pick<EventQuery, "requestId" | "requester" | "modelId">,
  fromBlock = reader.deployBlock,
  toBlock?: bigint,
): Promise<RequestRecord[]> {
  toBlock ??= await reader.client.getBlockNumber({ cacheTime: 0 });
  const events = await queryEvents(reader, { ...filter, fromBlock, toBlock, events: ["PredictionRequested"] });
  return events.flatMap((event) => (event.event === "PredictionRequested" ? [requestRecord(event)] : []));
}

/** A request's terms from its `PredictionRequested` event (undefined when there is none since `fromBlock`). */
export async function findRequest(
  reader: EventReader,
  requestId: bigint,
  fromBlock = reader.deployBlock,
): Promise<RequestRecord | undefined> {
  const [request] = await findRequests(reader, { requestId }, fromBlock);
  return request;
}

/**
 * How each of `requestIds` was settled, from its events from `fromBlock` to `toBlock`
 * (default: the latest block); absent: not settled in that range.
 */
export async function findSettlements(
  reader: EventReader,
  requestIds: readonly bigint[],
  fromBlock: bigint,
  toBlock?: bigint,
): Promise<Map<bigint, Settlement>> {
  const settlements = new Map<bigint, Settlement>();
  if (requestIds.length === 0) return settlements;
  toBlock ??= await reader.client.getBlockNumber({ cacheTime: 0 });
  const events = await queryEvents(reader, {
    fromBlock,
    toBlock,
    events: ["PredictionFulfilled", "PredictionRejected", "PredictionExpired"],
    requestId: requestIds.length === 1 ? requestIds[0]! : [...requestIds],
  });
  for (const event of events) {
    const place = { blockNumber: BigInt(event.blockNumber), transactionHash: event.transactionHash };
    if (event.event === "PredictionFulfilled") {
      const { event: _name, blockNumber: _block, logIndex: _index, requestId: _id, ...answer } = event;
      settlements.set(event.requestId, { kind: "fulfilled", ...answer, ...place });
    } else if (event.event === "PredictionRejected") {
      settlements.set(event.requestId, { kind: "rejected", reason: event.reason, reasonName: event.reasonName, ...place });
    } else if (event.event === "PredictionExpired") {
      settlements.set(event.requestId, { kind: "expired", ...place });
    }
  }
  return settlements;
}

/** An ERC-20 fee token: its symbol and decimals to show amounts, its name for EIP-2612 permits. */
export interface TokenInfo {
  address: Address;
  symbol: string;
  decimals: number;
  name: string;
}

/** Reads an ERC-20's symbol, decimals and name (for address(0), the native currency, ask the chain's record instead). */
export async function readToken(reader: Pick<EscrowReader, "client">, address: Address): Promise<TokenInfo> {
  const [symbol, decimals, name] = await Promise.all([
    reader.client.readContract({ address, abi: erc20Abi, functionName: "symbol" }),
    reader.client.readContract({ address, abi: erc20Abi, functionName: "decimals" }),
    reader.client.readContract({ address, abi: erc20Abi, functionName: "name" }),
  ]);
  return { address, symbol, decimals, name };
}

/** The latest block's timestamp: the clock the escrow's deadlines are measured against. */
export async function chainTime(reader: Pick<EscrowReader, "client">): Promise<bigint> {
  return (await reader.client.getBlock({ blockTag: "latest" })).timestamp;
}
