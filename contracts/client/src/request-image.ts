/**
 * A request's image CID read with one `eth_getLogs` over plain `fetch`: no viem, no ABI
 * decoder, so the web UI's entry chunk can show a request page's photo (its largest
 * paint) before the app chunk, which holds viem, has even arrived. Everything else about
 * a request is read by escrow-reads.ts.
 */
import { predictionEscrowEventTopics } from "./event-topics.generated.ts";

/**
 * The block a request was made in: the escrow puts it in the id's top bits
 * (`requestId = block.number << 96 | …`, PredictionEscrow._newRequestId), so one request
 * is found by reading a single block rather than the whole history.
 */
export function requestBlock(requestId: bigint): bigint {
  return requestId >> 96n;
}

export interface RequestImageQuery {
  rpcUrl: string;
  escrow: string;
  requestId: bigint;
  signal?: AbortSignal;
}

/**
 * The image CID (as text, or the stored bytes as hex when they are no CID) of request
 * `requestId`, from its `PredictionRequested` event; undefined when the block its id names
 * holds no such event. Throws on a failed call or an answer that is not such a log.
 */
export async function findRequestImageCid({ rpcUrl, escrow, requestId, signal }: RequestImageQuery): Promise<string | undefined> {
  const block = `0x${requestBlock(requestId).toString(16)}`;
  const filter = {
    address: escrow,
    fromBlock: block,
    toBlock: block,
    topics: [predictionEscrowEventTopics.PredictionRequested, `0x${requestId.toString(16).padStart(64, "0")}`],
  };
  const response = await fetch(rpcUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_getLogs", params: [filter] }),
    ...(signal ? { signal } : {}),
  });
  if (!response.ok) throw new Error(`eth_getLogs at ${rpcUrl}: HTTP ${response.status}`);
  const answer = (await response.json()) as { result?: { data?: unknown }[]; error?: { message?: string } };
  if (answer.error !== undefined) throw new Error(`eth_getLogs at ${rpcUrl}: ${answer.error.message ?? "error"}`);
  if (!Array.isArray(answer.result)) throw new Error(`eth_getLogs at ${rpcUrl}: no log list in the answer`);
  const data = answer.result[0]?.data;
  if (data === undefined) return undefined;
  if (typeof data !== "string") throw new Error("eth_getLogs: a log without data");
  // Loaded here, not with this module: the CID codecs (multiformats' bases) are as large as
  // everything else in the UI's entry chunk, and only a request page needs them this early.
  const { imageCidText } = await import("@argus/protocol/cid");
  return imageCidText(firstBytesField(data));
}

/**
 * The event's data is `abi.encode(bytes imageCid, uint96 fee, uint40 deadline, uint32
 * callbackGasLimit)`: its first word is the offset of `imageCid`, which is a length word
 * and then the bytes.
 */
function firstBytesField(data: string): `0x${string}` {
  const hex = /^0x([0-9a-fA-F]*)$/.exec(data)?.[1];
  if (hex === undefined || hex.length < 64) throw new Error("eth_getLogs: malformed log data");
  const word = (at: number) => Number.parseInt(hex.slice(at, at + 64), 16);
  const offset = word(0) * 2;
  const length = offset + 64 <= hex.length ? word(offset) * 2 : Number.NaN;
  if (!Number.isSafeInteger(length) || offset + 64 + length > hex.length) throw new Error("eth_getLogs: malformed log data");
  return `0x${hex.slice(offset + 64, offset + 64 + length)}`;
}
