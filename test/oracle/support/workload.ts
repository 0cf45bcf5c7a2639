/**
 * Load for the oracle: a mix of distinct real photos and a share of unusable uploads,
 * pinned to the stack's IPFS node, and a fast way to pay for many requests at once —
 * each user account signs its own transactions with locally counted nonces, all users
 * in parallel, one JSON-RPC call per request.
 */
import { encodeFunctionData, type Hex, type PublicClient, parseEventLogs } from "viem";
import { predictionEscrowAbi } from "@argus/escrow/abi";
import type { RequestTerms } from "@argus/escrow/request-terms";
import { RejectReason } from "@argus/escrow/request-terms";
import { imageCidToBytes } from "@argus/protocol/cid";
import { existsSync } from "node:fs";
import { SHARED_DIR, SHARED_IMAGES_DIR, SHARED_MODELS_DIR } from "../../support/shared.ts";
import { photoVariants } from "./images.ts";
import { pinImage, type StackClients } from "./stack.ts";

export const MOBILENET = "mobilenetv2-12-int8";
export const SQUEEZENET = "squeezenet1.1-fp16";

export type Expectation = { kind: "fulfilled" } | { kind: "rejected"; reason: number };

export interface PlannedRequest {
  /** Hardhat account index of the requester. */
  user: number;
  modelId: number;
  imageCid: string;
  expect: Expectation;
}

export interface SubmittedRequest extends PlannedRequest {
  terms: RequestTerms;
  blockNumber: bigint;
  hash: Hex;
  gasUsed: bigint;
  /** Wall clock when the node accepted it (with automine: when it was mined). */
  sentAt: number;
}

/**
 * `count` requests spread over `users` and alternating between MobileNetV2 and
 * SqueezeNet; every `badEvery`-th one (0: none) is an unusable upload (HTML or random
 * bytes, each distinct) that must be rejected as NotAnImage. Photos are distinct per
 * model, so the result cache answers none of them.
 */
export async function planWorkload(
  stack: StackClients,
  options: { count: number; users: readonly number[]; badEvery?: number; models?: readonly string[] },
): Promise<PlannedRequest[]> {
  const models = (options.models ?? [MOBILENET, SQUEEZENET]).map((name) => stack.modelId(name));
  const badEvery = options.badEvery ?? 0;
  const bad = badEvery > 0 ? Math.floor(options.count / badEvery) : 0;
  const photos = await photoVariants(Math.ceil((options.count - bad) / models.length));
  const planned: PlannedRequest[] = [];
  let photo = 0;
  for (let index = 0; index < options.count; index++) {
    const user = options.users[index % options.users.length]!;
    const modelId = models[index % models.length]!;
    if (badEvery > 0 && index % badEvery === badEvery - 1) {
      const bytes =
        index % 2 === 0
          ? new TextEncoder().encode(`<!doctype html><p>request ${index} is not an image</p>`)
          : crypto.getRandomValues(new Uint8Array(2048 + index));
      planned.push({
        user,
        modelId,
        imageCid: await pinImage(stack, bytes),
        expect: { kind: "rejected", reason: RejectReason.NotAnImage },
      });
      continue;
    }
    const bytes = photos[Math.floor(photo++ / models.length) % photos.length]!;
    planned.push({ user, modelId, imageCid: await pinImage(stack, bytes), expect: { kind: "fulfilled" } });
  }
  return planned;
}

const fees = new WeakMap<StackClients, Map<number, bigint>>();

async function feeOf(stack: StackClients, modelId: number): Promise<bigint> {
  const known = fees.get(stack) ?? new Map<number, bigint>();
  fees.set(stack, known);
  if (!known.has(modelId)) {
    const [, fee] = await stack.client.readContract({
      address: stack.argus.escrow,
      abi: predictionEscrowAbi,
      functionName: "quote",
      args: [modelId, 0],
    });
    known.set(modelId, fee);
  }
  return known.get(modelId)!;
}

/**
 * Signs and sends a transaction paying for each planned request (in order per user,
 * users in parallel) without waiting for them to be mined. Returns each one's hash and
 * when the node accepted it, in the planned order.
 */
export async function sendRequestTransactions(
  stack: StackClients,
  planned: readonly PlannedRequest[],
): Promise<{ hash: Hex; sentAt: number }[]> {
  const byUser = new Map<number, number[]>();
  planned.forEach((request, index) => {
    byUser.set(request.user, [...(byUser.get(request.user) ?? []), index]);
  });
  const { maxFeePerGas, maxPriorityFeePerGas } = await stack.client.estimateFeesPerGas();
  const sent: { hash: Hex; sentAt: number }[] = new Array(planned.length);
  for (const request of planned) await feeOf(stack, request.modelId);
  await Promise.all(
    [...byUser].map(async ([userIndex, indices]) => {
      const wallet = stack.user(userIndex);
      let nonce = await stack.client.getTransactionCount({ address: wallet.account.address, blockTag: "pending" });
      for (const index of indices) {
        const request = planned[index]!;
        const cidBytes = `0x${Buffer.from(imageCidToBytes(request.imageCid)).toString("hex")}` as Hex;
        const raw = await wallet.signTransaction({
          account: wallet.account,
          chain: wallet.chain,
          to: stack.argus.escrow,
          data: encodeRequest(request.modelId, cidBytes, await feeOf(stack, request.modelId)),
          value: await feeOf(stack, request.modelId),
          gas: 150_000n, // a request takes ~53k (~70k the first time an account pays); blocks pack by this limit
          nonce: nonce++,
          maxFeePerGas: maxFeePerGas * 2n,
          maxPriorityFeePerGas,
        } as never);
        const hash = await stack.client.sendRawTransaction({ serializedTransaction: raw });
        sent[index] = { hash, sentAt: Date.now() };
      }
    }),
  );
  return sent;
}

/**
 * Pays for every planned request and returns them with their on-chain terms, in the
 * planned order. Works with automine on or off (then blocks must be mined meanwhile).
 */
export async function submitRequests(
  stack: StackClients,
  planned: readonly PlannedRequest[],
  options: { receiptTimeoutMs?: number } = {},
): Promise<SubmittedRequest[]> {
  return awaitRequests(stack, planned, await sendRequestTransactions(stack, planned), options);
}

/** The requests `sendRequestTransactions` sent, once mined, with their on-chain terms, in the planned order. */
export async function awaitRequests(
  stack: StackClients,
  planned: readonly PlannedRequest[],
  sent: readonly { hash: Hex; sentAt: number }[],
  options: { receiptTimeoutMs?: number } = {},
): Promise<SubmittedRequest[]> {
  const submitted: SubmittedRequest[] = new Array(planned.length);
  const until = Date.now() + (options.receiptTimeoutMs ?? 120_000);
  // A few readers, not one poller per request: a burst's receipts must not load the node it measures.
  let next = 0;
  const reader = async () => {
    while (next < planned.length) {
      const index = next++;
      const { hash, sentAt } = sent[index]!;
      let receipt = await stack.client.getTransactionReceipt({ hash }).catch(() => undefined);
      while (!receipt) {
        if (Date.now() > until) throw new Error(`request ${index} (${hash}) not mined in time`);
        await new Promise((resolve) => setTimeout(resolve, 100));
        receipt = await stack.client.getTransactionReceipt({ hash }).catch(() => undefined);
      }
      if (receipt.status !== "success") throw new Error(`request ${index} reverted (${hash})`);
      const [event] = parseEventLogs({ abi: predictionEscrowAbi, logs: receipt.logs, eventName: "PredictionRequested" });
      const { requestId, requester, fee, deadline, callbackGasLimit } = event!.args;
      submitted[index] = {
        ...planned[index]!,
        terms: { requestId, requester, modelId: planned[index]!.modelId, fee, deadline: BigInt(deadline), callbackGasLimit },
        blockNumber: receipt.blockNumber,
        hash,
        gasUsed: receipt.gasUsed,
        sentAt,
      };
    }
  };
  await Promise.all(Array.from({ length: 4 }, reader));
  return submitted;
}

/** A request paying `fee`, bounded by it; the load runs take any deadline. */
function encodeRequest(modelId: number, cidBytes: Hex, fee: bigint): Hex {
  return encodeFunctionData({
    abi: predictionEscrowAbi,
    functionName: "requestPrediction",
    args: [modelId, cidBytes, fee, ANY_DEADLINE],
  });
}

/** uint40's maximum: a `latestDeadline` that accepts any deadline. */
const ANY_DEADLINE = 2 ** 40 - 1;

/** JSON-RPC helpers of the Hardhat network. */
export function hardhatRpc(client: PublicClient) {
  const call = <T>(method: string, params: unknown[] = []) => client.request({ method, params } as never) as Promise<T>;
  return {
    snapshot: () => call<Hex>("evm_snapshot"),
    revert: (id: Hex) => call<boolean>("evm_revert", [id]),
    mine: (blocks = 1) => call<unknown>("hardhat_mine", [`0x${blocks.toString(16)}`]),
    increaseTime: (seconds: number) => call<unknown>("evm_increaseTime", [seconds]),
    setAutomine: (on: boolean) => call<unknown>("evm_setAutomine", [on]),
  };
}

/** For benchmarks: exit with a message (status 1) when the shared models and photos are absent. */
export function requireSharedDataOrExit(what: string): void {
  if (existsSync(SHARED_MODELS_DIR) && existsSync(SHARED_IMAGES_DIR)) return;
  console.error(`${what} needs the shared models and photos at ${SHARED_DIR} (set ARGUS_SHARED_DIR to their location)`);
  process.exit(1);
}
