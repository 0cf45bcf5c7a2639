/**
 * Reading the escrow for the CLI: the model registry, a request's terms and how it was
 * settled, and event queries in bounded block ranges (public RPC endpoints refuse
 * eth_getLogs over too many blocks). Views and events only; nothing here signs.
 *
 * Browser-safe (viem, multiformats, the shared protocol), and each function asks only
 * for what it reads (a CliContext has it all), so the web UI can use them as well.
 */
import { CID } from "multiformats/cid";
import { type Address, erc20Abi, formatUnits, type Hex, type Log, parseEventLogs, zeroAddress } from "viem";
import { imageCidText, resultCidFromDigest } from "@argus/provider-image/protocol/cid";
import { predictionEscrowAbi } from "../chain/abi.generated.ts";
import { type RequestTerms, type TopResult, topResultFromCalldata } from "../chain/request-terms.ts";
import { rejectReasonName } from "../pipeline/reject-reasons.ts";
import type { CliContext } from "./context.ts";

/** The escrow and a client to read it. */
export type EscrowReader = Pick<CliContext, "client" | "escrow">;
/** …plus where its events start and how many blocks one eth_getLogs may span. */
export type EventReader = Pick<CliContext, "client" | "escrow" | "deployBlock" | "logRangeBlocks">;

export type Task = "classification" | "detection";

export interface ModelInfo {
  id: number;
  name: string;
  task: Task;
  active: boolean;
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

export async function listModels(ctx: EscrowReader): Promise<ModelInfo[]> {
  const count = await ctx.client.readContract({ address: ctx.escrow, abi: predictionEscrowAbi, functionName: "modelCount" });
  const models: ModelInfo[] = [];
  // One call after another: a local node has no Multicall3 to batch them.
  for (let id = 1; id <= Number(count); id++) models.push(await readModel(ctx, id));
  return models;
}

async function readModel(ctx: EscrowReader, id: number): Promise<ModelInfo> {
  const raw = await ctx.client.readContract({ address: ctx.escrow, abi: predictionEscrowAbi, functionName: "getModel", args: [id] });
  return {
    id: raw.id,
    name: raw.name,
    task: raw.task === 1 ? "detection" : "classification",
    active: raw.active,
    feeToken: raw.feeToken,
    fee: raw.fee,
    callbackGasPrice: raw.callbackGasPrice,
    responseWindow: Number(raw.responseWindow),
    weightsSha256: raw.weightsSha256,
    providerImageHash: raw.providerImageHash,
    manifestCid: cidText(raw.manifestCid),
  };
}

function cidText(bytes: Hex): string {
  try {
    return CID.decode(Buffer.from(bytes.slice(2), "hex")).toString();
  } catch {
    return bytes;
  }
}

/** A model by registry id (`2`) or name (`mobilenetv2-12-int8`). */
export async function resolveModel(ctx: EscrowReader, ref: string): Promise<ModelInfo> {
  const models = await listModels(ctx);
  const found = /^[0-9]+$/.test(ref) ? models.find((model) => model.id === Number(ref)) : models.find((model) => model.name === ref);
  if (found) return found;
  const known = models.map((model) => `${model.id} ${model.name}`).join(", ");
  throw new ModelNotFoundError(`no model "${ref}" in the registry of ${ctx.escrow}; known: ${known || "none (register one with `argus models add`)"}`);
}

export class ModelNotFoundError extends Error {
  override name = "ModelNotFoundError";
}

export interface Currency {
  token: Address;
  symbol: string;
  decimals: number;
}

/** The fee currency: the chain's native currency for address(0), else the ERC-20's symbol and decimals. */
export async function currencyOf(ctx: Pick<CliContext, "client" | "deployment">, token: Address): Promise<Currency> {
  if (token === zeroAddress) return { token, symbol: ctx.deployment.chain.nativeCurrency.symbol, decimals: ctx.deployment.chain.nativeCurrency.decimals };
  const [symbol, decimals] = await Promise.all([
    ctx.client.readContract({ address: token, abi: erc20Abi, functionName: "symbol" }),
    ctx.client.readContract({ address: token, abi: erc20Abi, functionName: "decimals" }),
  ]);
  return { token, symbol, decimals };
}

export function formatAmount(amount: bigint, currency: Currency): string {
  return `${formatUnits(amount, currency.decimals)} ${currency.symbol}`;
}

// ------------------------------------------------------------------ events

export interface RequestRecord {
  terms: RequestTerms;
  /** The image CID as text; the raw hex when the bytes are not a valid image CID. */
  imageCid: string;
  blockNumber: bigint;
  transactionHash: Hex;
}

export type Settlement =
  | ({ kind: "fulfilled"; resultDigest: Hex; resultCid: string; blockNumber: bigint; transactionHash: Hex } & Partial<TopResult>)
  | { kind: "rejected"; reason: number; reasonName: string; blockNumber: bigint; transactionHash: Hex }
  | { kind: "expired"; blockNumber: bigint; transactionHash: Hex };

/** One event of a request's lifecycle, as `argus events` prints it. */
export type EscrowEvent =
  | ({ event: "PredictionRequested" } & EventPlace & { requestId: bigint; requester: Address; modelId: number; imageCid: string; fee: bigint; deadline: number; callbackGasLimit: number })
  | ({ event: "PredictionFulfilled" } & EventPlace & { requestId: bigint; resultDigest: Hex; resultCid: string } & Partial<TopResult>)
  | ({ event: "PredictionRejected" } & EventPlace & { requestId: bigint; reason: number; reasonName: string })
  | ({ event: "PredictionExpired" } & EventPlace & { requestId: bigint })
  | ({ event: "CallbackFailed" } & EventPlace & { requestId: bigint });

export interface EventPlace {
  blockNumber: number;
  transactionHash: Hex;
  logIndex: number;
}

export const LIFECYCLE_EVENTS = ["PredictionRequested", "PredictionFulfilled", "PredictionRejected", "PredictionExpired", "CallbackFailed"] as const;
export const SETTLEMENT_EVENTS = ["PredictionFulfilled", "PredictionRejected", "PredictionExpired", "CallbackFailed"] as const;
type LifecycleEventName = (typeof LIFECYCLE_EVENTS)[number];

type AbiEvent = Extract<(typeof predictionEscrowAbi)[number], { type: "event" }>;
const EVENT_ITEMS = predictionEscrowAbi.filter((item): item is AbiEvent => item.type === "event" && (LIFECYCLE_EVENTS as readonly string[]).includes(item.name));

/** Decodes the escrow's lifecycle events in `logs`, in log order. */
export function decodeEvents(logs: readonly Log[]): EscrowEvent[] {
  const events: EscrowEvent[] = [];
  for (const log of parseEventLogs({ abi: predictionEscrowAbi, logs: logs as Log[] })) {
    const place: EventPlace = { blockNumber: Number(log.blockNumber), transactionHash: log.transactionHash!, logIndex: log.logIndex! };
    switch (log.eventName) {
      case "PredictionRequested": {
        const { requestId, requester, modelId, imageCid, fee, deadline, callbackGasLimit } = log.args;
        events.push({ event: log.eventName, ...place, requestId, requester, modelId, imageCid: imageCidText(imageCid), fee, deadline: Number(deadline), callbackGasLimit });
        break;
      }
      case "PredictionFulfilled": {
        const { requestId, resultDigest } = log.args;
        events.push({ event: log.eventName, ...place, requestId, resultDigest, resultCid: resultCidFromDigest(resultDigest).toString() });
        break;
      }
      case "PredictionRejected":
        events.push({ event: log.eventName, ...place, requestId: log.args.requestId, reason: log.args.reason, reasonName: rejectReasonName(log.args.reason) });
        break;
      case "PredictionExpired":
      case "CallbackFailed":
        events.push({ event: log.eventName, ...place, requestId: log.args.requestId });
        break;
    }
  }
  return events;
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
 * The escrow's lifecycle events in a block range, read `ctx.logRangeBlocks` blocks at a
 * time; a list of request ids is asked in groups (some endpoints refuse a topic filter
 * with hundreds of alternatives).
 */
export async function queryEvents(ctx: EventReader, query: EventQuery): Promise<EscrowEvent[]> {
  if (Array.isArray(query.requestId) && query.requestId.length > ID_GROUP) {
    const events: EscrowEvent[] = [];
    for (let start = 0; start < query.requestId.length; start += ID_GROUP) {
      events.push(...(await queryEvents(ctx, { ...query, requestId: query.requestId.slice(start, start + ID_GROUP) })));
    }
    return events.sort((a, b) => a.blockNumber - b.blockNumber || a.logIndex - b.logIndex);
  }
  const names = query.events ?? LIFECYCLE_EVENTS;
  const items = EVENT_ITEMS.filter((item) => names.includes(item.name as LifecycleEventName));
  const args: Record<string, unknown> = {};
  if (query.requestId !== undefined) args.requestId = query.requestId;
  if (query.requester !== undefined) args.requester = query.requester;
  if (query.modelId !== undefined) args.modelId = query.modelId;
  const events: EscrowEvent[] = [];
  for (let from = query.fromBlock; from <= query.toBlock; from += ctx.logRangeBlocks) {
    const to = from + ctx.logRangeBlocks - 1n < query.toBlock ? from + ctx.logRangeBlocks - 1n : query.toBlock;
    const logs = await ctx.client.getLogs({
      address: ctx.escrow,
      events: items as never,
      ...(Object.keys(args).length === 0 ? {} : { args: args as never }),
      fromBlock: from,
      toBlock: to,
    });
    events.push(...decodeEvents(logs as Log[]));
  }
  return withTopResults(ctx, events);
}

/**
 * Adds the posted top class and score to each PredictionFulfilled: the event carries
 * only the digest, the summary is in the `fulfillBatch` calldata of its transaction
 * (read once per transaction). Left out when the transaction is not a direct
 * `fulfillBatch` call (e.g. made through another contract).
 */
export async function withTopResults(ctx: Pick<CliContext, "client">, events: EscrowEvent[]): Promise<EscrowEvent[]> {
  const inputs = new Map<Hex, Promise<Hex>>();
  return Promise.all(
    events.map(async (event) => {
      if (event.event !== "PredictionFulfilled") return event;
      if (!inputs.has(event.transactionHash)) inputs.set(event.transactionHash, ctx.client.getTransaction({ hash: event.transactionHash }).then((tx) => tx.input));
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

/** A request's terms from its `PredictionRequested` event (undefined when there is none since `fromBlock`). */
export async function findRequest(ctx: EventReader, requestId: bigint, fromBlock = ctx.deployBlock): Promise<RequestRecord | undefined> {
  const toBlock = await ctx.client.getBlockNumber({ cacheTime: 0 });
  const [event] = await queryEvents(ctx, { fromBlock, toBlock, events: ["PredictionRequested"], requestId });
  if (event?.event !== "PredictionRequested") return undefined;
  return {
    terms: {
      requestId: event.requestId,
      requester: event.requester,
      modelId: event.modelId,
      fee: event.fee,
      deadline: BigInt(event.deadline),
      callbackGasLimit: event.callbackGasLimit,
    },
    imageCid: event.imageCid,
    blockNumber: BigInt(event.blockNumber),
    transactionHash: event.transactionHash,
  };
}

/** How each of `requestIds` was settled, from its events since `fromBlock` (absent: still pending). */
export async function findSettlements(ctx: EventReader, requestIds: readonly bigint[], fromBlock: bigint): Promise<Map<bigint, Settlement>> {
  const settlements = new Map<bigint, Settlement>();
  if (requestIds.length === 0) return settlements;
  const toBlock = await ctx.client.getBlockNumber({ cacheTime: 0 });
  const events = await queryEvents(ctx, { fromBlock, toBlock, events: ["PredictionFulfilled", "PredictionRejected", "PredictionExpired"], requestId: requestIds.length === 1 ? requestIds[0]! : [...requestIds] });
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

/** The latest block's timestamp: the clock the escrow's deadlines are measured against. */
export async function chainTime(ctx: Pick<CliContext, "client">): Promise<bigint> {
  return (await ctx.client.getBlock({ blockTag: "latest" })).timestamp;
}
