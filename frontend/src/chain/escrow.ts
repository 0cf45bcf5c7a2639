/**
 * Reading the escrow for the web UI: one account's requests and how each was settled,
 * fee quotes and refundable balances. The registry, requests and settlements
 * are read by the shared `@argus/oracle-requestor/chain/escrow-reads` (as the `argus`
 * CLI reads them); the ABI is the generated one shared by every package.
 */
import { predictionEscrowAbi } from "@argus/escrow/abi";
import { type EventReader, findRequests, findSettlements, type RequestRecord, type Settlement } from "@argus/escrow/escrow-reads";
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
