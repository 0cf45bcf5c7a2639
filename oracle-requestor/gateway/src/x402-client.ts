/**
 * The payer's side of an Argus payment over x402: a `SchemeNetworkClient` for the `exact`
 * scheme that x402's client (`x402Client`, `@x402/fetch`, `@x402/axios`) calls through
 * its own extension point, `register(network, scheme)`.
 *
 * Why not the stock `ExactEvmScheme` of @x402/evm: it signs a
 * `TransferWithAuthorization` with a random nonce. The escrow redeems only a
 * `ReceiveWithAuthorization` (so that nobody but the escrow can use it) whose nonce is the
 * struct hash of the request it pays for (so that nobody can spend it on another
 * request); the stock client cannot be told either. This class signs exactly that when
 * the requirement says `assetTransferMethod: "receiveWithAuthorization"`, after checking
 * what it signs: the nonce is recomputed from the request terms (never taken from the
 * server), the payee is the escrow the terms name, the amount is their maxFee, and,
 * when the caller knows its image CID, the terms are about that image. Any other `exact`
 * requirement is handed to the stock scheme, so one client pays Argus and ordinary x402
 * resources alike. The payload has the stock EIP-3009 shape (`authorization`,
 * `signature`), so x402's encoders and any x402 tooling read it unchanged.
 *
 * Browser-safe: viem, @x402/core, @x402/evm.
 */
import { type Address, getAddress, type Hex, isAddressEqual } from "viem";
import type { PaymentPayloadContext, PaymentPayloadResult, PaymentRequirements, SchemeNetworkClient } from "@x402/core/types";
import type { x402Client } from "@x402/core/client";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import { receiveAuthorizationTypedData } from "@argus/escrow/request-authorization";
import { requestAuthorizationNonce } from "@argus/escrow/request-authorization";
import {
  ArgusExtraSchema,
  authorizedRequestOf,
  evmNetwork,
  RECEIVE_WITH_AUTHORIZATION,
  requirementProblem,
  X402_SCHEME,
} from "./payment-terms.ts";

/** What signs: a viem local account or wallet client's account (address + EIP-712 signing). */
const MAX_CLOCK_SKEW_S = 3_600;

export interface TypedDataSigner {
  address: Address;
  signTypedData(parameters: {
    domain: Record<string, unknown>;
    types: Record<string, unknown>;
    primaryType: string;
    message: Record<string, unknown>;
  }): Promise<Hex>;
}

export interface ArgusSchemeOptions {
  /** Refuse to pay more than this (token base units) for one request. */
  maxAmount?: bigint;
  /** The image CID (hex bytes) the caller uploads: refuse terms about any other image. */
  expectImageCid?: Hex;
  /** The clock (ms) `validBefore` is counted from: now + the requirement's maxTimeoutSeconds. */
  now?: () => number;
}

export class ArgusExactEvmScheme implements SchemeNetworkClient {
  readonly scheme = X402_SCHEME;
  private readonly stock: ExactEvmScheme;

  private readonly signer: TypedDataSigner;
  private readonly options: ArgusSchemeOptions;

  constructor(signer: TypedDataSigner, options: ArgusSchemeOptions = {}) {
    this.signer = signer;
    this.options = options;
    this.stock = new ExactEvmScheme(signer as never);
  }

  async createPaymentPayload(
    x402Version: number,
    requirements: PaymentRequirements,
    context?: PaymentPayloadContext,
  ): Promise<PaymentPayloadResult> {
    if (requirements.extra?.assetTransferMethod !== RECEIVE_WITH_AUTHORIZATION)
      return this.stock.createPaymentPayload(x402Version, requirements, context);
    const problem = requirementProblem(requirements);
    if (problem) throw new Error(`refusing to sign an Argus payment: ${problem}`);
    const extra = ArgusExtraSchema.parse(requirements.extra);
    const request = authorizedRequestOf(extra);
    const fee = BigInt(requirements.amount);
    if (this.options.maxAmount !== undefined && fee > this.options.maxAmount)
      throw new Error(`refusing to pay ${fee} for one prediction: the most allowed is ${this.options.maxAmount}`);
    if (this.options.expectImageCid && this.options.expectImageCid.toLowerCase() !== request.imageCid.toLowerCase())
      throw new Error(`refusing to sign: the terms are about image ${request.imageCid}, not the uploaded ${this.options.expectImageCid}`);
    const wallClock = Math.floor((this.options.now?.() ?? Date.now()) / 1000);
    // A chain ahead of the wall clock (a local one) would see the authorization expired:
    // count from its time, but trust the server's word for at most an hour of skew.
    const chainTime = extra.chainTime === undefined ? 0 : Number(extra.chainTime);
    const now = Math.max(wallClock, Math.min(chainTime, wallClock + MAX_CLOCK_SKEW_S));
    const message = {
      from: getAddress(this.signer.address),
      to: request.escrow,
      value: fee,
      validAfter: 0n,
      validBefore: BigInt(now + requirements.maxTimeoutSeconds),
      nonce: requestAuthorizationNonce(request),
    };
    if (!isAddressEqual(message.to, getAddress(requirements.payTo))) throw new Error("refusing to sign: payTo is not the escrow");
    const typed = receiveAuthorizationTypedData(
      { address: getAddress(requirements.asset), name: extra.name, version: extra.version, chainId: request.chainId },
      message,
    );
    const signature = await this.signer.signTypedData(typed as never);
    return {
      x402Version,
      payload: {
        authorization: {
          from: message.from,
          to: message.to,
          value: message.value.toString(),
          validAfter: message.validAfter.toString(),
          validBefore: message.validBefore.toString(),
          nonce: message.nonce,
        },
        signature,
      },
    };
  }
}

/**
 * Registers the Argus-aware `exact` scheme for `chainId` on an x402 client (which
 * `@x402/fetch`'s `wrapFetchWithPayment` takes), and allows the model's fee token in
 * x402's spend controls — they refuse any token but the well-known stablecoins unless
 * listed — capped at `maxAmountPerPayment` base units a request. This replaces the
 * client's spend controls: list other assets there if the client pays elsewhere too.
 */
export function registerArgusScheme(
  client: x402Client,
  signer: TypedDataSigner,
  options: { chainId: number | bigint; token: Address; maxAmountPerPayment: bigint; expectImageCid?: Hex },
): x402Client {
  const network = evmNetwork(options.chainId);
  client.setSpendControls({
    allowedAssets: [{ network, asset: getAddress(options.token), maxAmountPerPayment: options.maxAmountPerPayment.toString() }],
  });
  return client.register(
    network,
    new ArgusExactEvmScheme(signer, {
      maxAmount: options.maxAmountPerPayment,
      ...(options.expectImageCid ? { expectImageCid: options.expectImageCid } : {}),
    }),
  );
}
