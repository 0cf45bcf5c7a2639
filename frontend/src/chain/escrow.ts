/**
 * Reading the escrow for the web UI: one account's requests and how each was settled,
 * fee quotes and refundable balances. The registry, requests and settlements
 * are read by the shared `@argus/oracle-requestor/chain/escrow-reads` (as the `argus`
 * CLI reads them); the ABI is the generated one shared by every package.
 */
import { predictionEscrowAbi } from "@argus/oracle-requestor/chain/abi.generated";
import { type EventReader, findRequests, findSettlements, type RequestRecord, type Settlement } from "@argus/oracle-requestor/chain/escrow-reads";
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

/**
 * An account's requests, newest first, each with its settlement if there was one:
 * `PredictionRequested` filtered by requester, then the settlement events of those ids.
 */
export async function fetchRequests(reader: EventReader, requester: Address): Promise<TrackedRequest[]> {
  const records = await findRequests(reader, { requester });
  const [oldest] = records;
  if (oldest === undefined) return [];
  // Requests come oldest first, and no settlement precedes its request.
  const settlements = await findSettlements(reader, records.map((record) => record.terms.requestId), oldest.blockNumber);
  return records
    .map((record) => {
      const settlement = settlements.get(record.terms.requestId);
      return settlement === undefined ? record : { ...record, settlement };
    })
    .reverse();
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
