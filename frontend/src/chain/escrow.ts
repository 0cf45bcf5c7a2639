/**
 * Reading the escrow for the web UI: one account's requests and how each was settled,
 * fee quotes and refundable balances. The registry, requests and settlements
 * are read by the shared `@argus/oracle-requestor/chain/escrow-reads` (as the `argus`
 * CLI reads them); the ABI is the generated one shared by every package.
 */
import { predictionEscrowAbi } from "@argus/escrow/abi";
import { type EventReader, findRequests, findSettlements, type RequestRecord, type Settlement } from "@argus/escrow/escrow-reads";
import { requestBlock } from "@argus/escrow/request-image";
import { type Address, type PublicClient, zeroAddress } from "viem";

export { predictionEscrowAbi };

/** A request as the UI follows it: its record, and its settlement once there is one. */
export interface TrackedRequest extends RequestRecord {
  settlement?: Settlement;
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

/** An account's requests as read so far, newest first, and the last block read. */
export interface RequestHistory {
  requests: TrackedRequest[];
  readTo: bigint;
}

/**
 * Brings an account's request history up to the latest block, reading only the blocks
 * after `known.readTo` (without `known`, everything since the escrow's deployment): the
 * account's new `PredictionRequested` events, then the settlements of its requests that
 * are still pending.
 */
export async function fetchRequests(reader: EventReader, requester: Address, known?: RequestHistory): Promise<RequestHistory> {
  const fromBlock = known === undefined ? reader.deployBlock : known.readTo + 1n;
  const toBlock = await reader.client.getBlockNumber({ cacheTime: 0 });
  if (known !== undefined && toBlock < fromBlock) return known;
  const added = await findRequests(reader, { requester }, fromBlock, toBlock);
  const requests: TrackedRequest[] = [...added.reverse(), ...(known?.requests ?? [])];
  const pending = requests.filter((request) => request.settlement === undefined);
  const oldestPending = pending.at(-1);
  if (oldestPending === undefined) return { requests, readTo: toBlock };
  // No settlement precedes its request, and those before `fromBlock` were read last time.
  const settledFrom = oldestPending.blockNumber > fromBlock ? oldestPending.blockNumber : fromBlock;
  const settlements = await findSettlements(
    reader,
    pending.map((request) => request.terms.requestId),
    settledFrom,
    toBlock,
  );
  return {
    requests: requests.map((request) => {
      const settlement = settlements.get(request.terms.requestId);
      return settlement === undefined ? request : { ...request, settlement };
    }),
    readTo: toBlock,
  };
}

/** One request as its page shows it: its record, settlement, and when it was made. */
export interface RequestView extends TrackedRequest {
  requestedAt: bigint;
}

/**
 * Reads one request by id for anyone (no wallet: public reads through the deployment's
 * RPC): its event in the block the id names, then its settlement since. `known` skips
 * what cannot change (the request itself), so a poll is one log query. Null: no such
 * request on this escrow.
 */
export async function fetchRequest(reader: EventReader, requestId: bigint, known?: RequestView): Promise<RequestView | null> {
  if (known !== undefined) {
    if (known.settlement !== undefined) return known;
    const settlement = (await findSettlements(reader, [requestId], known.blockNumber)).get(requestId);
    return settlement === undefined ? known : { ...known, settlement };
  }
  const block = requestBlock(requestId);
  if (block < reader.deployBlock) return null;
  // Reads that do not depend on each other go out together: over a slow link each
  // round trip delays the page's photo and answer. A block past the chain's head holds
  // no request yet (and some nodes refuse to search it), whatever its query says.
  const [latest, found] = await Promise.all([
    reader.client.getBlockNumber({ cacheTime: 0 }),
    findRequests(reader, { requestId }, block, block).then(
      (records) => ({ records }),
      (error: unknown) => ({ error }),
    ),
  ]);
  if (block > latest) return null;
  if ("error" in found) throw found.error;
  const [record] = found.records;
  if (record === undefined) return null;
  const [{ timestamp }, settlements] = await Promise.all([
    reader.client.getBlock({ blockNumber: record.blockNumber }),
    findSettlements(reader, [requestId], record.blockNumber),
  ]);
  const view = { ...record, requestedAt: timestamp };
  const settlement = settlements.get(requestId);
  return settlement === undefined ? view : { ...view, settlement };
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

/** How many blocks back the typical-wait estimate looks, and how many answered requests it uses. */
const RECENT_BLOCKS = 5_000n;
const RECENT_REQUESTS = 10;

/**
 * Seconds from request to answer of the model's latest answered requests (at most
 * RECENT_REQUESTS, within the last RECENT_BLOCKS): what "usually ~3 s" is measured from.
 */
export async function recentWaits(reader: EventReader, modelId: number): Promise<number[]> {
  const latest = await reader.client.getBlockNumber({ cacheTime: 0 });
  const from = latest > reader.deployBlock + RECENT_BLOCKS ? latest - RECENT_BLOCKS : reader.deployBlock;
  const requests = (await findRequests(reader, { modelId }, from, latest)).slice(-RECENT_REQUESTS * 2);
  if (requests.length === 0) return [];
  const settlements = await findSettlements(
    reader,
    requests.map((request) => request.terms.requestId),
    requests[0]!.blockNumber,
    latest,
  );
  const answered = requests
    .flatMap((request) => {
      const settlement = settlements.get(request.terms.requestId);
      return settlement?.kind === "fulfilled" ? [{ requested: request.blockNumber, answered: settlement.blockNumber }] : [];
    })
    .slice(-RECENT_REQUESTS);
  const times = new Map<bigint, Promise<bigint>>();
  const timeOf = (blockNumber: bigint) => {
    if (!times.has(blockNumber))
      times.set(
        blockNumber,
        reader.client.getBlock({ blockNumber }).then((block) => block.timestamp),
      );
    return times.get(blockNumber)!;
  };
  return Promise.all(answered.map(async ({ requested, answered: done }) => Number((await timeOf(done)) - (await timeOf(requested)))));
}
