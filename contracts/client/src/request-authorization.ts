/**
 * Paying for a request with a signed EIP-3009 authorization
 * (`requestPredictionWithAuthorization`): a payer who holds the model's token and no
 * native currency signs a `ReceiveWithAuthorization` to the escrow; anyone relays it and
 * pays the gas. Its nonce commits it to one request, so the relayer cannot spend it on
 * another: `requestAuthorizationNonce` is the one TypeScript definition of that nonce,
 * mirroring `RequestAuthorizationLib.nonce` (contracts/libraries/RequestAuthorization.sol;
 * a contract test checks the two agree).
 *
 * The nonce is EIP-712's `hashStruct` of an `ArgusPredictionRequest` — the escrow, the
 * chain, the model, the image CID's bytes, the most the request may cost, its callback
 * gas and the latest deadline it accepts — with no domain of its own: it is signed inside
 * the token's EIP-712 domain, as the authorization's nonce. Its value must be exactly the
 * request's fee (`quote(modelId, callbackGasLimit)`), never more: EIP-3009 moves exactly
 * what was signed.
 */
import { type Address, type Hex, hashStruct, parseSignature } from "viem";

/** The EIP-712 type whose struct hash is the nonce (its type hash is the escrow's REQUEST_TYPEHASH). */
export const REQUEST_AUTHORIZATION_TYPES = {
  ArgusPredictionRequest: [
    { name: "escrow", type: "address" },
    { name: "chainId", type: "uint256" },
    { name: "modelId", type: "uint32" },
    { name: "imageCid", type: "bytes" },
    { name: "maxFee", type: "uint256" },
    { name: "callbackGasLimit", type: "uint32" },
    { name: "latestDeadline", type: "uint40" },
  ],
} as const;

/** What an authorization's nonce commits to: the arguments of the request it pays for, and where. */
export interface AuthorizedRequest {
  /** The escrow that redeems the authorization. */
  escrow: Address;
  chainId: number | bigint;
  modelId: number;
  /** Raw bytes of the image's CID, as the request passes them. */
  imageCid: Hex;
  maxFee: bigint;
  callbackGasLimit: number;
  latestDeadline: number | bigint;
}

/** The nonce an authorization paying for `request` must carry (RequestAuthorizationLib.nonce). */
export function requestAuthorizationNonce(request: AuthorizedRequest): Hex {
  return hashStruct({
    types: REQUEST_AUTHORIZATION_TYPES,
    primaryType: "ArgusPredictionRequest",
    data: {
      escrow: request.escrow,
      chainId: BigInt(request.chainId),
      modelId: request.modelId,
      imageCid: request.imageCid,
      maxFee: request.maxFee,
      callbackGasLimit: request.callbackGasLimit,
      latestDeadline: Number(request.latestDeadline),
    },
  });
}

/** EIP-3009's `ReceiveWithAuthorization` typed-data definition: what the payer signs. */
export const RECEIVE_WITH_AUTHORIZATION_TYPES = {
  ReceiveWithAuthorization: [
    { name: "from", type: "address" },
    { name: "to", type: "address" },
    { name: "value", type: "uint256" },
    { name: "validAfter", type: "uint256" },
    { name: "validBefore", type: "uint256" },
    { name: "nonce", type: "bytes32" },
  ],
} as const;

/** A `ReceiveWithAuthorization` message, as signed. */
export interface ReceiveAuthorizationMessage {
  from: Address;
  to: Address;
  value: bigint;
  validAfter: bigint;
  validBefore: bigint;
  nonce: Hex;
}

/**
 * The message `payer` signs to pay `fee` (the request's quote) for `request`: to the
 * escrow, with the request's nonce, valid after `validAfter` (default 0) and before
 * `validBefore` (unix seconds; keep it short — until then a relayer holding it may still
 * send it).
 */
export function receiveAuthorizationMessage(
  request: AuthorizedRequest,
  payment: { from: Address; fee: bigint; validAfter?: bigint; validBefore: bigint },
): ReceiveAuthorizationMessage {
  return {
    from: payment.from,
    to: request.escrow,
    value: payment.fee,
    validAfter: payment.validAfter ?? 0n,
    validBefore: payment.validBefore,
    nonce: requestAuthorizationNonce(request),
  };
}

/** The typed data to sign (viem's `signTypedData`) for a message, in the token's EIP-712 domain. */
export function receiveAuthorizationTypedData(
  token: { address: Address; name: string; version: string; chainId: number | bigint },
  message: ReceiveAuthorizationMessage,
) {
  return {
    domain: { name: token.name, version: token.version, chainId: BigInt(token.chainId), verifyingContract: token.address },
    types: RECEIVE_WITH_AUTHORIZATION_TYPES,
    primaryType: "ReceiveWithAuthorization" as const,
    message,
  };
}

/** The escrow's `ReceiveAuthorization` argument: a signed message, its 65-byte signature split into v, r, s. */
export function receiveAuthorizationArgument(message: ReceiveAuthorizationMessage, signature: Hex) {
  const { r, s, v, yParity } = parseSignature(signature);
  return {
    from: message.from,
    value: message.value,
    validAfter: message.validAfter,
    validBefore: message.validBefore,
    nonce: message.nonce,
    v: Number(v ?? 27n + BigInt(yParity)),
    r,
    s,
  };
}
