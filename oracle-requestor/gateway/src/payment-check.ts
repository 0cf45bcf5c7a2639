/**
 * The gateway's checks of a payment header before it spends gas on it: that it decodes
 * (base64 JSON, x402 v2's PaymentPayload), that it is an Argus `exact` payment, and
 * that it pays for this upload — this escrow and chain, this model, this image — with an
 * authorization whose payee, value and nonce are the terms'. These only give a clear
 * reason early: the escrow and the token check all of it again on-chain, and the relay
 * simulates the call before sending it.
 */
import { getAddress, type Hex, isAddressEqual } from "viem";
import { z } from "zod";
import { PaymentPayloadSchema } from "@x402/core/schemas";
import type { PaymentPayload } from "@x402/core/types";
import type { ModelInfo } from "@argus/escrow/escrow-reads";
import type { ReceiveAuthorizationMessage } from "@argus/escrow/request-authorization";
import { ArgusExtraSchema, AuthorizationPayloadSchema, authorizedRequestOf, requirementProblem } from "./payment-terms.ts";

export class PaymentError extends Error {
  readonly status: 400 | 409;
  readonly code: string;

  constructor(status: 400 | 409, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const MAX_HEADER_CHARS = 16 * 1024;

/** Decodes a PAYMENT-SIGNATURE / X-PAYMENT header into an x402 v2 payload, or throws a 400 saying what is wrong. */
export function parsePaymentPayload(header: string, decode: (header: string) => unknown): PaymentPayload {
  if (header.length > MAX_HEADER_CHARS) throw new PaymentError(400, "malformed_payment", "the payment header is too long");
  let json: unknown;
  try {
    json = decode(header.trim());
  } catch {
    throw new PaymentError(400, "malformed_payment", "the payment header is not base64-encoded JSON (x402's PaymentPayload)");
  }
  if ((json as { x402Version?: unknown })?.x402Version === 1)
    throw new PaymentError(
      400,
      "unsupported_x402_version",
      "x402 v1 payloads name no request terms: send a v2 PaymentPayload (with `accepted`)",
    );
  const parsed = PaymentPayloadSchema.safeParse(json);
  if (!parsed.success)
    throw new PaymentError(
      400,
      "malformed_payment",
      `the payment header is not an x402 v2 PaymentPayload: ${parsed.error.issues[0]?.message ?? "invalid"} at ${parsed.error.issues[0]?.path.join(".")}`,
    );
  return parsed.data as PaymentPayload;
}

export interface PaidRequest {
  request: { modelId: number; imageCid: Hex; callbackGasLimit: number; maxFee: bigint; latestDeadline: bigint };
  message: ReceiveAuthorizationMessage;
  signature: Hex;
}

/** Checks that `payload` pays for this upload; returns the call to relay. */
export function checkPayment(
  payload: PaymentPayload,
  upload: { escrow: Hex; chainId: number; model: ModelInfo; imageCid: Hex },
): PaidRequest {
  const refuse = (code: string, message: string): never => {
    throw new PaymentError(400, code, message);
  };
  const problem = requirementProblem(payload.accepted);
  if (problem) refuse("malformed_payment", `the accepted requirement is not an Argus payment: ${problem}`);
  const extra = ArgusExtraSchema.parse(payload.accepted.extra);
  const request = authorizedRequestOf(extra);
  if (!isAddressEqual(request.escrow, upload.escrow) || BigInt(request.chainId) !== BigInt(upload.chainId))
    refuse("authorization_redirected", `the payment is for the escrow ${request.escrow} on chain ${request.chainId}, not this gateway's`);
  if (request.modelId !== upload.model.id)
    refuse("authorization_redirected", `the payment is for model ${request.modelId}, not model ${upload.model.id}`);
  if (request.imageCid.toLowerCase() !== upload.imageCid.toLowerCase())
    refuse("authorization_redirected", "the payment is for another image than the one uploaded with it");
  if (!isAddressEqual(getAddress(payload.accepted.asset), upload.model.feeToken))
    refuse("authorization_redirected", `the payment is in ${payload.accepted.asset}, not the model's fee token ${upload.model.feeToken}`);
  const parsed = AuthorizationPayloadSchema.safeParse(payload.payload);
  if (!parsed.success)
    refuse("malformed_payment", `the payload is not an EIP-3009 authorization and signature: ${z.prettifyError(parsed.error!)}`);
  const { authorization, signature } = parsed.data!;
  if (!isAddressEqual(getAddress(authorization.to), request.escrow))
    refuse("authorization_redirected", "the authorization pays someone else than the escrow");
  if (authorization.nonce.toLowerCase() !== extra.nonce.toLowerCase())
    refuse("authorization_redirected", "the authorization's nonce is not the struct hash of the request it claims to pay for");
  if (authorization.value !== request.maxFee)
    refuse("authorization_wrong_amount", `the authorization moves ${authorization.value}, the request's fee is ${request.maxFee}`);
  return {
    request: {
      modelId: request.modelId,
      imageCid: request.imageCid,
      callbackGasLimit: request.callbackGasLimit,
      maxFee: request.maxFee,
      latestDeadline: BigInt(request.latestDeadline),
    },
    message: {
      from: getAddress(authorization.from),
      to: getAddress(authorization.to),
      value: authorization.value,
      validAfter: authorization.validAfter,
      validBefore: authorization.validBefore,
      nonce: authorization.nonce as Hex,
    },
    signature: signature as Hex,
  };
}
