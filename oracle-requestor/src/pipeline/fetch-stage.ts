/**
 * Fetch and check: each received request's image is fetched by CID through the
 * configured IPFS endpoint (bounded in time and size, verified block by block) and its
 * header checked; usable images go to the spool and the request becomes `ready`,
 * unusable ones are rejected with a reason (refund). A request whose image this model
 * answered recently is answered from the cache instead. An endpoint that is down is
 * waited for; only content that cannot be found within the attempts is rejected.
 */
import type { Logger } from "pino";
import { isValidImageCid } from "@argus/protocol/cid";
import { InferenceResultSchema } from "@argus/protocol/result";
import { ContentTooLargeError, fetchImage, IpfsTimeoutError, type KuboRPCClient } from "@argus/ipfs-node/client";
import { RejectReason } from "@argus/escrow/request-terms";
import type { RequestStore, StoredRequest } from "../store/request-store.ts";
import type { ImageSpool } from "./image-spool.ts";
import { rejectReasonFor } from "@argus/escrow/reject-reasons";
import { readdress, recordResult } from "./record-result.ts";
import type { ErrorCode } from "@argus/protocol/result";

/** Thrown by the image check for an image the engine would refuse. */
export interface ImageCheckError extends Error {
  code: ErrorCode;
}
export type ImageCheck = (bytes: Uint8Array) => Promise<void>;

export interface FetchStageOptions {
  maxBytes: number;
  timeoutMs: number;
  attempts: number;
  concurrency: number;
  maxReady: number;
  deadlineMarginS: number;
  resultCacheWindowS: number;
}

export class FetchStage {
  private readonly store: RequestStore;
  private readonly ipfs: KuboRPCClient;
  private readonly spool: ImageSpool;
  private readonly checkImage: ImageCheck;
  private readonly options: FetchStageOptions;
  private readonly log: Logger;
  private readonly clock: () => number;

  constructor(deps: {
    store: RequestStore;
    ipfs: KuboRPCClient;
    spool: ImageSpool;
    checkImage: ImageCheck;
    options: FetchStageOptions;
    log: Logger;
    clock?: () => number;
  }) {
    this.store = deps.store;
    this.ipfs = deps.ipfs;
    this.spool = deps.spool;
    this.checkImage = deps.checkImage;
    this.options = deps.options;
    this.log = deps.log;
    this.clock = deps.clock ?? Date.now;
  }

  /** Fetches as many received requests as the back-pressure allows; returns how many it handled. */
  async runOnce(chainNowS: bigint, signal?: AbortSignal): Promise<number> {
    const waiting = this.store.countInState("ready") + this.store.countInState("running");
    const room = this.options.maxReady - waiting;
    if (room <= 0) return 0;
    const requests = this.store.inState("received", Math.min(room, this.options.concurrency * 4), this.clock());
    let next = 0;
    const worker = async () => {
      while (next < requests.length && !signal?.aborted) await this.handle(requests[next++]!, chainNowS, signal);
    };
    await Promise.all(Array.from({ length: Math.min(this.options.concurrency, requests.length) }, worker));
    return requests.length;
  }

  private async handle(request: StoredRequest, chainNowS: bigint, signal?: AbortSignal): Promise<void> {
    const { requestId, imageCid } = request;
    if (chainNowS + BigInt(this.options.deadlineMarginS) > request.deadline) {
      this.store.markExpired(requestId, "its deadline passed before it could be worked on");
      return;
    }
    const cached = this.store.cachedResult(request.modelId, imageCid, this.clock() - this.options.resultCacheWindowS * 1000);
    // An entry written under an older result schema (before an upgrade) is not reused: the image is computed again.
    const reusable = cached === undefined ? undefined : InferenceResultSchema.safeParse(JSON.parse(new TextDecoder().decode(cached)));
    if (reusable?.success) {
      const result = readdress(reusable.data, request);
      await recordResult(this.store, request, result, this.clock());
      this.log.debug({ requestId: requestId.toString(), imageCid }, "answered from the result cache");
      return;
    }
    if (!isValidImageCid(imageCid)) {
      this.store.markRejecting(requestId, RejectReason.InvalidCid, `the image CID ${imageCid} is not a valid CID`);
      return;
    }

    let bytes: Uint8Array;
    try {
      bytes = await fetchImage(this.ipfs, imageCid, {
        maxBytes: this.options.maxBytes,
        timeoutMs: this.options.timeoutMs,
        ...(signal ? { signal } : {}),
      });
    } catch (error) {
      this.onFetchError(request, error as Error);
      return;
    }
    try {
      await this.checkImage(bytes);
    } catch (error) {
      const code = (error as ImageCheckError).code;
      const reason = code === undefined ? undefined : rejectReasonFor(code);
      if (reason === undefined) throw error;
      this.store.markRejecting(requestId, reason, `${code}: ${(error as Error).message}`);
      return;
    }
    await this.spool.put(requestId, bytes);
    this.store.markReady(requestId, bytes.byteLength);
  }

  private onFetchError(request: StoredRequest, error: Error): void {
    const id = request.requestId;
    if (error instanceof ContentTooLargeError) {
      this.store.markRejecting(id, RejectReason.TooLarge, error.message);
    } else if (/is a directory|not a file|unixfs/i.test(error.message) && !(error instanceof IpfsTimeoutError)) {
      this.store.markRejecting(id, RejectReason.NotAnImage, error.message);
    } else if (error instanceof IpfsTimeoutError || /not found|no link|block was not found/i.test(error.message)) {
      // The endpoint answered but the content is nowhere to be found: that counts.
      if (request.attempts + 1 >= this.options.attempts) {
        this.store.markRejecting(
          id,
          RejectReason.Unretrievable,
          `not retrievable after ${request.attempts + 1} attempts: ${error.message}`,
        );
      } else {
        this.store.retryLater(id, "received", error.message, this.clock() + backoffMs(request.attempts));
      }
    } else {
      // The endpoint itself failed (down, refusing, 5xx): not the requester's fault; wait.
      this.log.warn({ requestId: id.toString(), err: error.message }, "IPFS endpoint failed; will retry");
      this.store.retryLater(id, "received", error.message, this.clock() + backoffMs(2), false);
    }
  }
}

export function backoffMs(attempts: number): number {
  return Math.min(30_000, 500 * 2 ** attempts);
}
