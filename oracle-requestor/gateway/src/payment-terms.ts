/**
 * How a payment for one prediction is described in x402's terms, shared by the gateway
 * (which builds the 402 and checks the retry) and the client adapter (which signs):
 * x402 v2's `exact` scheme on an EVM network, whose payload is an EIP-3009 authorization
 * and its signature — with two differences the escrow needs, both carried in `extra`:
 *
 * - the authorization is a `ReceiveWithAuthorization`, not the `TransferWithAuthorization`
 *   the stock `exact` client signs (`assetTransferMethod: "receiveWithAuthorization"`):
 *   EIP-3009 lets only its `to` — the escrow, x402's `payTo` — redeem a receive
 *   authorization, so neither the gateway nor a front-runner can move the tokens anywhere
 *   but into the escrow, in the very call that records the request;
 * - its nonce is not random: it is the EIP-712 struct hash of the request it pays for
 *   (`requestAuthorizationNonce` of @argus/escrow), so `extra.request` lists every field
 *   of that request (escrow, chain, model, image CID, most fee, callback gas, latest
 *   deadline) and `extra.nonce` the hash, which a client recomputes rather than trusts.
 *
 * Browser-safe: zod and viem only.
 */
import { getAddress, type Hex, isAddressEqual } from "viem";
import { z } from "zod";
import type { PaymentPayload, PaymentRequirements } from "@x402/core/types";
import { type AuthorizedRequest, requestAuthorizationNonce } from "@argus/escrow/request-authorization";

/** x402's scheme name: the payer pays exactly `amount`. */
export const X402_SCHEME = "exact";
/** The `assetTransferMethod` of these requirements: EIP-3009's receive variant (the stock client knows `eip3009` and `permit2`). */
export const RECEIVE_WITH_AUTHORIZATION = "receiveWithAuthorization";
/** x402 protocol version the gateway speaks (v2: PAYMENT-REQUIRED / PAYMENT-SIGNATURE headers; v1's X-PAYMENT is read too). */
export const X402_VERSION = 2;

/** CAIP-2 name of an EVM chain, as x402 names networks. */
export const evmNetwork = (chainId: number | bigint): `eip155:${string}` => `eip155:${chainId}`;

const hex = z.string().regex(/^0x[0-9a-fA-F]*$/, "expected 0x-prefixed hex");
const bytes32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "expected 32 bytes of hex");
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "expected an address");
const uint = z.union([z.string().regex(/^\d{1,78}$/, "expected a decimal integer"), z.number().int().min(0)]).transform((v) => BigInt(v));

/** `extra.request`: every field the nonce commits to, as JSON (integers as decimal strings). */
export const RequestTermsSchema = z.strictObject({
  escrow: address,
  chainId: uint,
  modelId: z
    .number()
    .int()
    .min(1)
    .max(2 ** 32 - 1),
  imageCid: hex.max(2 + 2 * 128),
  maxFee: uint,
  callbackGasLimit: z
    .number()
    .int()
    .min(0)
    .max(2 ** 32 - 1),
  latestDeadline: uint,
});

/** The `extra` of an Argus payment requirement. */
export const ArgusExtraSchema = z.looseObject({
  /** The token's EIP-712 domain, which the signature is made in (as the stock `exact` scheme wants them). */
  name: z.string().min(1).max(100),
  version: z.string().min(1).max(20),
  assetTransferMethod: z.literal(RECEIVE_WITH_AUTHORIZATION),
  request: RequestTermsSchema,
  nonce: bytes32,
  /**
   * The chain's clock (unix seconds) when the 402 was made. EIP-3009 checks validBefore
   * against block time, which on a local chain runs ahead of the wall clock (a block a
   * second at least): a client counts validBefore from the later of the two.
   */
  chainTime: uint.optional(),
});
export type ArgusExtra = z.output<typeof ArgusExtraSchema>;

/** The `payload` of the `exact` scheme's EIP-3009 variant: the authorization (integers as strings) and its signature. */
export const AuthorizationPayloadSchema = z.strictObject({
  authorization: z.strictObject({
    from: address,
    to: address,
    value: uint,
    validAfter: uint,
    validBefore: uint,
    nonce: bytes32,
  }),
  signature: hex.refine((text) => text.length === 132, "expected a 65-byte signature"),
});
export type AuthorizationPayload = z.output<typeof AuthorizationPayloadSchema>;

/** The request terms of `extra.request`, in @argus/escrow's shape. */
export function authorizedRequestOf(extra: ArgusExtra): AuthorizedRequest {
  const { request } = extra;
  return {
    escrow: getAddress(request.escrow),
    chainId: request.chainId,
    modelId: request.modelId,
    imageCid: request.imageCid as Hex,
    maxFee: request.maxFee,
    callbackGasLimit: request.callbackGasLimit,
    latestDeadline: request.latestDeadline,
  };
}

/** What the gateway offers for one upload: the requirement of a 402's `accepts`. */
export function paymentRequirement(input: {
  request: AuthorizedRequest;
  token: { address: Hex; name: string; version: string };
  fee: bigint;
  maxTimeoutSeconds: number;
  chainTime: bigint;
}): PaymentRequirements {
  const { request } = input;
  const extra: z.input<typeof ArgusExtraSchema> = {
    name: input.token.name,
    version: input.token.version,
    assetTransferMethod: RECEIVE_WITH_AUTHORIZATION,
    request: {
      escrow: request.escrow,
      chainId: BigInt(request.chainId).toString(),
      modelId: request.modelId,
      imageCid: request.imageCid,
      maxFee: request.maxFee.toString(),
      callbackGasLimit: request.callbackGasLimit,
      latestDeadline: BigInt(request.latestDeadline).toString(),
    },
    nonce: requestAuthorizationNonce(request),
    chainTime: input.chainTime.toString(),
  };
  return {
    scheme: X402_SCHEME,
    network: evmNetwork(request.chainId),
    asset: input.token.address,
    amount: input.fee.toString(),
    payTo: request.escrow,
    maxTimeoutSeconds: input.maxTimeoutSeconds,
    extra,
  };
}

/** Why a requirement or payload does not describe a payment the escrow would take (undefined: it does). */
export function requirementProblem(requirement: PaymentRequirements): string | undefined {
  if (requirement.scheme !== X402_SCHEME) return `scheme "${requirement.scheme}" is not "${X402_SCHEME}"`;
  const extra = ArgusExtraSchema.safeParse(requirement.extra);
  if (!extra.success) return `extra is not an Argus request: ${z.prettifyError(extra.error)}`;
  const request = authorizedRequestOf(extra.data);
  if (requirement.network !== evmNetwork(request.chainId)) return `network ${requirement.network} is not chain ${request.chainId}`;
  if (!isAddressEqual(requirement.payTo as Hex, request.escrow)) return "payTo is not the escrow the request names";
  if (BigInt(requirement.amount) !== request.maxFee) return "amount is not the request's maxFee";
  if (requestAuthorizationNonce(request) !== extra.data.nonce.toLowerCase()) return "extra.nonce is not the struct hash of extra.request";
  return undefined;
}

export type { PaymentPayload, PaymentRequirements };
