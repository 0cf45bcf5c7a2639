/**
 * `argus request --pay-over-http URL`: the request paid through an Argus HTTP gateway
 * with x402 instead of a transaction of the user's own — the user's account signs an
 * EIP-3009 authorization of the model's token fee and holds no ETH; the gateway pins the
 * image and relays the authorization (its relayer pays the gas).
 *
 * The client trusts the gateway with nothing it could misuse: the model's fee is read
 * from the chain and is the most the x402 client signs for (its spend controls), the
 * image's CID is computed here and the signing scheme refuses terms about any other
 * image, and the nonce it signs is recomputed from the terms (`ArgusExactEvmScheme`).
 */
import type { LocalAccount } from "viem";
import { type Hex, toHex, zeroAddress } from "viem";
import { x402Client } from "@x402/core/client";
import { wrapFetchWithPayment } from "@x402/fetch";
import type { ModelInfo } from "@argus/escrow/escrow-reads";
import { registerArgusScheme } from "@argus/gateway/x402-client";
import { imageCidToBytes } from "@argus/protocol/cid";
import type { CliContext } from "./context.ts";

export interface PaidOverHttp {
  requestId: bigint;
  transaction: Hex;
  statusUrl: string;
}

export async function payOverHttp(
  ctx: CliContext,
  gatewayUrl: string,
  account: LocalAccount,
  model: ModelInfo,
  image: { bytes: Uint8Array; name: string },
): Promise<PaidOverHttp> {
  if (model.feeToken === zeroAddress)
    throw new Error(`model ${model.id} ${model.name} is priced in the native currency: pay it on-chain (without --pay-over-http)`);
  const hashed = await ctx.ipfs().add(image.bytes, { onlyHash: true, cidVersion: 1, rawLeaves: true, pin: false });
  const client = registerArgusScheme(new x402Client(), account, {
    chainId: await ctx.client.getChainId(),
    token: model.feeToken,
    maxAmountPerPayment: model.fee,
    expectImageCid: toHex(imageCidToBytes(hashed.cid.toString())),
  });
  const body = new FormData();
  body.set("image", new Blob([image.bytes as Uint8Array<ArrayBuffer>]), image.name);
  body.set("model", String(model.id));
  const url = new URL("/v1/predictions", gatewayUrl);
  let response: Response;
  try {
    response = await wrapFetchWithPayment(fetch, client)(url, { method: "POST", body });
  } catch (error) {
    throw new Error(`cannot pay through the gateway at ${gatewayUrl}: ${(error as Error).message}`);
  }
  const answer = (await response.json().catch(() => ({}))) as {
    requestId?: string;
    transaction?: Hex;
    statusUrl?: string;
    message?: string;
  };
  if (!response.ok || answer.requestId === undefined || answer.transaction === undefined)
    throw new Error(`the gateway at ${gatewayUrl} refused the request (HTTP ${response.status}): ${answer.message ?? "no reason given"}`);
  return { requestId: BigInt(answer.requestId), transaction: answer.transaction, statusUrl: answer.statusUrl ?? "" };
}
