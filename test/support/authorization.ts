/**
 * Requests paid by a signed EIP-3009 authorization, for the contract suite and the gas
 * benchmark: the shared escrow fixture plus tUSDC (the local EIP-3009 stablecoin) allowed
 * as a fee currency, a model priced in it, a payer holding tUSDC and no ETH, and a
 * relayer; helpers that sign an authorization for a request through the client's own
 * nonce and typed-data definitions, and relay it.
 */
import { keccak256, Signature, toUtf8Bytes, Wallet } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { NetworkConnection } from "hardhat/types/network";
import type { Address, Hex } from "viem";
import { RECEIVE_WITH_AUTHORIZATION_TYPES, requestAuthorizationNonce } from "@argus/escrow/request-authorization";
import type { TestUSDC } from "../../types/ethers-contracts/index.ts";
import type { IPredictionEscrow } from "../../types/ethers-contracts/PredictionEscrow.ts";
import { ANY_DEADLINE, deployEscrowFixture, type EscrowFixture, mined, modelConfig, randomImageCid } from "./escrow.ts";

/** One tUSDC: 6 decimals, as USDC. */
export const USDC = 10n ** 6n;
/** The tUSDC model's fee: 0.01 tUSDC. */
export const USDC_FEE = USDC / 100n;
/** One micro-tUSDC per unit of callback gas: 100,000 gas cost 0.1 tUSDC. */
export const USDC_CALLBACK_GAS_PRICE = 1n;
/** An hour: how long the fixture's authorizations stay valid. */
export const AUTHORIZATION_LIFETIME = 3_600n;

export interface AuthorizationFixture extends EscrowFixture {
  usdc: TestUSDC;
  /** The tUSDC-priced classifier (model 4). */
  usdcModelId: bigint;
  /** Holds 1,000 tUSDC and no ETH; it only signs. */
  payer: Wallet;
  /** Sends the payer's requests and pays their gas (one of the fixture's users). */
  relayer: HardhatEthersSigner;
}

export async function deployAuthorizationFixture(connection: NetworkConnection): Promise<AuthorizationFixture> {
  const f = await deployEscrowFixture(connection);
  const usdc = (await f.ethers.deployContract("TestUSDC")) as unknown as TestUSDC;
  const usdcAddress = await usdc.getAddress();
  await mined(f.escrow.setFeeToken(usdcAddress, true, USDC_CALLBACK_GAS_PRICE));
  await mined(
    f.escrow.registerModel(
      modelConfig({ feeToken: usdcAddress, fee: USDC_FEE, callbackGasPrice: USDC_CALLBACK_GAS_PRICE }),
      f.oracle.address,
    ),
  );
  const payer = new Wallet(keccak256(toUtf8Bytes("argus: a payer without ETH")), f.ethers.provider);
  await mined(usdc.mint(payer.address, 1_000n * USDC));
  return { ...f, usdc, usdcModelId: 4n, payer, relayer: f.users[7]! };
}

/** The arguments of a `requestPredictionWithAuthorization` but the authorization. */
export interface AuthorizedCall {
  modelId: bigint;
  imageCid: string;
  callbackGasLimit: bigint;
  maxFee: bigint;
  latestDeadline: bigint;
}

/** A call for the tUSDC model at its quote, with a fresh image and any deadline. */
export async function authorizedCall(f: AuthorizationFixture, changes: Partial<AuthorizedCall> = {}): Promise<AuthorizedCall> {
  const callbackGasLimit = changes.callbackGasLimit ?? 0n;
  const modelId = changes.modelId ?? f.usdcModelId;
  const [, fee] = await f.escrow.quote(modelId, callbackGasLimit);
  return { modelId, imageCid: randomImageCid(), callbackGasLimit, maxFee: fee, latestDeadline: ANY_DEADLINE, ...changes };
}

/** The nonce of `call` at this fixture's escrow, by the client's `requestAuthorizationNonce`. */
export async function nonceOf(f: AuthorizationFixture, call: AuthorizedCall, escrow?: string): Promise<Hex> {
  const { chainId } = await f.ethers.provider.getNetwork();
  return requestAuthorizationNonce({
    escrow: (escrow ?? (await f.escrow.getAddress())) as Address,
    chainId,
    modelId: Number(call.modelId),
    imageCid: call.imageCid as Hex,
    maxFee: call.maxFee,
    callbackGasLimit: Number(call.callbackGasLimit),
    latestDeadline: call.latestDeadline,
  });
}

export type ReceiveAuthorization = IPredictionEscrow.ReceiveAuthorizationStruct & { from: string; value: bigint; nonce: string };

/**
 * `signer`'s `ReceiveWithAuthorization` of `call`'s fee (its quote) to the escrow, with
 * `call`'s nonce, valid from now for AUTHORIZATION_LIFETIME; `changes` alter what is signed.
 */
export async function signAuthorization(
  f: AuthorizationFixture,
  signer: Wallet | HardhatEthersSigner,
  call: AuthorizedCall,
  changes: { to?: string; value?: bigint; validAfter?: bigint; validBefore?: bigint; nonce?: string; token?: TestUSDC } = {},
): Promise<ReceiveAuthorization> {
  const token = changes.token ?? f.usdc;
  const value = changes.value ?? (await f.escrow.quote(call.modelId, call.callbackGasLimit))[1];
  const [, name, version, chainId, verifyingContract] = await token.eip712Domain();
  const now = BigInt((await f.ethers.provider.getBlock("latest"))!.timestamp);
  const message = {
    from: signer.address,
    to: changes.to ?? (await f.escrow.getAddress()),
    value,
    validAfter: changes.validAfter ?? 0n,
    validBefore: changes.validBefore ?? now + AUTHORIZATION_LIFETIME,
    nonce: changes.nonce ?? (await nonceOf(f, call)),
  };
  const signature = await signer.signTypedData(
    { name, version, chainId, verifyingContract },
    { ReceiveWithAuthorization: RECEIVE_WITH_AUTHORIZATION_TYPES.ReceiveWithAuthorization.map((field) => ({ ...field })) },
    message,
  );
  const { v, r, s } = Signature.from(signature);
  return {
    from: message.from,
    value: message.value,
    validAfter: message.validAfter,
    validBefore: message.validBefore,
    nonce: message.nonce,
    v,
    r,
    s,
  };
}

/** Relays `authorization` for `call` as `relayer` (default: the fixture's relayer). */
export function relay(f: AuthorizationFixture, call: AuthorizedCall, authorization: ReceiveAuthorization, relayer = f.relayer) {
  return f.escrow
    .connect(relayer)
    .requestPredictionWithAuthorization(
      call.modelId,
      call.imageCid,
      call.callbackGasLimit,
      call.maxFee,
      call.latestDeadline,
      authorization,
    );
}
