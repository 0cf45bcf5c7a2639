/**
 * Where one request stands, as `GET /v1/predictions/:id` tells it: its terms from its
 * `PredictionRequested` event (searched from the block its id names: the escrow puts
 * the block number in the id's high bits), its settlement event, the chain's clock
 * against its deadline, and once fulfilled the result, fetched by the CID the on-chain
 * digest names and checked by @argus/protocol's `verifyResult` — the web UI's and the
 * CLI's check — before it is served. Settled answers never change: they are kept in a
 * bounded cache, so polling clients cost one lookup.
 */
import type { KuboRPCClient } from "@argus/ipfs-node/client";
import { fetchResult } from "@argus/ipfs-node/client";
import { findRequest, findSettlements, type Settlement, withTopResults } from "@argus/escrow/escrow-reads";
import { requestPhase } from "@argus/escrow/request-phase";
import { MAX_RESULT_BYTES } from "@argus/protocol/limits";
import type { InferenceResult } from "@argus/protocol/result";
import { verifyResult } from "@argus/protocol/verify-result";
import type { ChainView } from "./chain.ts";

/** Bits below the block number in a request id (`_newRequestId`: block.number << 96). */
const REQUEST_ID_BLOCK_SHIFT = 96n;
const FINAL_CACHE_SIZE = 10_000;

export interface PredictionStatus {
  requestId: string;
  status: "pending" | "overdue" | "fulfilled" | "rejected" | "expired";
  model: { id: number; name: string };
  imageCid: string;
  requester: string;
  fee: string;
  deadline: number;
  requestTransaction: string;
  secondsLeft?: number;
  /** Rejected requests: why (their fee went back to the requester). */
  rejectReason?: string;
  settlementTransaction?: string;
  /** Fulfilled requests: the result's CID (derived from the on-chain digest), the digest, and whether the served result matches it. */
  resultCid?: string;
  resultDigest?: string;
  verified?: boolean;
  problem?: string;
  result?: InferenceResult;
}

export class PredictionStatusReader {
  private readonly final = new Map<bigint, PredictionStatus>();

  private readonly chain: ChainView;
  private readonly ipfs: KuboRPCClient;
  private readonly resultTimeoutMs: number;

  constructor(chain: ChainView, ipfs: KuboRPCClient, resultTimeoutMs: number) {
    this.chain = chain;
    this.ipfs = ipfs;
    this.resultTimeoutMs = resultTimeoutMs;
  }

  /** The status now, or undefined when the escrow has no such request. */
  async read(requestId: bigint): Promise<PredictionStatus | undefined> {
    const cached = this.final.get(requestId);
    if (cached) return cached;
    const reader = { ...this.chain, logRangeBlocks: this.chain.logRangeBlocks };
    const fromBlock = requestId >> REQUEST_ID_BLOCK_SHIFT;
    if (fromBlock < this.chain.deployBlock) return undefined;
    const request = await findRequest(reader, requestId, fromBlock);
    if (!request) return undefined;
    const [settlements, now, models] = await Promise.all([
      findSettlements(reader, [requestId], request.blockNumber),
      this.chain.now(),
      this.chain.models(),
    ]);
    const settlement = settlements.get(requestId);
    const model = models.find((candidate) => candidate.id === request.terms.modelId);
    const { phase, secondsLeft } = requestPhase({ deadline: request.terms.deadline, settlement, chainTime: now });
    const status: PredictionStatus = {
      requestId: requestId.toString(),
      status: phase,
      ...(secondsLeft === undefined ? {} : { secondsLeft }),
      model: { id: request.terms.modelId, name: model?.name ?? "" },
      imageCid: request.imageCid,
      requester: request.terms.requester,
      fee: request.terms.fee.toString(),
      deadline: Number(request.terms.deadline),
      requestTransaction: request.transactionHash,
    };
    if (!settlement) return status;
    status.settlementTransaction = settlement.transactionHash;
    if (settlement.kind === "rejected") status.rejectReason = settlement.reasonName;
    if (settlement.kind === "fulfilled") {
      const verified = await this.verify(requestId, status, settlement);
      if (!verified) return status; // not cached: the result may be fetchable later
    }
    this.remember(requestId, status);
    return status;
  }

  private async verify(requestId: bigint, status: PredictionStatus, answer: Extract<Settlement, { kind: "fulfilled" }>): Promise<boolean> {
    status.resultCid = answer.resultCid;
    status.resultDigest = answer.resultDigest;
    // The summary posted with the digest (top class and score) is in the fulfilment's calldata.
    const [withTop] = await withTopResults(this.chain, [
      {
        event: "PredictionFulfilled",
        requestId,
        resultDigest: answer.resultDigest,
        resultCid: answer.resultCid,
        blockNumber: Number(answer.blockNumber),
        transactionHash: answer.transactionHash,
        logIndex: 0,
      },
    ]);
    const top = withTop as { topClass?: number; topScore?: number };
    let bytes: Uint8Array;
    try {
      bytes = await fetchResult(this.ipfs, answer.resultDigest, { maxBytes: MAX_RESULT_BYTES, timeoutMs: this.resultTimeoutMs });
    } catch (error) {
      status.verified = false;
      status.problem = `cannot fetch the result ${answer.resultCid} yet: ${(error as Error).message}`;
      return false;
    }
    const verification = await verifyResult(
      bytes,
      { requestId, modelName: status.model.name, imageCid: status.imageCid },
      { resultDigest: answer.resultDigest, topClass: top.topClass, topScore: top.topScore },
    );
    status.verified = verification.verified;
    if (verification.verified) status.result = verification.result;
    else status.problem = verification.problem;
    return true;
  }

  private remember(requestId: bigint, status: PredictionStatus): void {
    if (this.final.size >= FINAL_CACHE_SIZE) this.final.delete(this.final.keys().next().value!);
    this.final.set(requestId, status);
  }
}

/** The original service's answer to `readPrediction`: the predicted classes' labels, best first (detections: their labels). */
export function predictedClasses(result: InferenceResult): string[] | undefined {
  if ("top5" in result) return result.top5.map((entry) => entry.label);
  if ("detections" in result) return result.detections.map((entry) => entry.label);
  return undefined;
}
