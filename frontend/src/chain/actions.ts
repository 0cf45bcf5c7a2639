/**
 * What the connected wallet does with the escrow: pay for a request (native fee, or a
 * token fee with an EIP-2612 permit signed in the wallet), reclaim an expired request,
 * withdraw refunds. Each call is simulated first, so a revert surfaces as the
 * contract's named error before the wallet is asked anything. A payment names the fee
 * the user was shown as its most, and the deadline the model promised (plus slack) as
 * its latest (`requestBounds`): a price or window raised meanwhile makes it revert.
 */
import { PERMIT_TYPES, type RequestTerms, requestBounds } from "@argus/escrow/request-terms";
import { type Address, erc20Abi, type Hex, parseSignature, type TransactionReceipt, zeroAddress } from "viem";
import type { Config } from "wagmi";
import { getPublicClient, signTypedData, simulateContract, waitForTransactionReceipt, writeContract } from "wagmi/actions";
import { type Currency, formatAmount } from "@argus/escrow/format";
import { InsufficientBalanceError } from "../lib/errors.ts";
import type { TokenInfo } from "@argus/escrow/escrow-reads";
import { predictionEscrowAbi } from "./escrow.ts";
import { nativeRequestCall, permitRequestCall } from "@argus/escrow/request-call";

export interface Target {
  config: Config;
  chainId: number;
  escrow: Address;
  account: Address;
}

/** Seconds a permit signature stays valid. */
const PERMIT_LIFETIME_S = 3600n;

function publicClient(target: Target) {
  const client = getPublicClient(target.config, { chainId: target.chainId });
  if (client === undefined) throw new Error(`chain ${target.chainId} is not configured`);
  return client;
}

/** The model a payment is for: its id and the response window its quote promised. */
export interface PaidModel {
  id: number;
  responseWindow: number;
}

/** Pays a native-priced request; resolves with the transaction hash once the wallet sent it. */
export async function payNative(target: Target, model: PaidModel, imageCid: Hex, fee: bigint, currency: Currency): Promise<Hex> {
  const client = publicClient(target);
  const [balance, latest] = await Promise.all([client.getBalance({ address: target.account }), client.getBlock({ blockTag: "latest" })]);
  if (balance < fee) {
    throw new InsufficientBalanceError(
      `The fee is ${formatAmount(fee, currency)} plus gas, and your account holds ` +
        `${formatAmount(balance, currency)}. Add funds to it, then pay again.`,
    );
  }
  const { request } = await simulateContract(target.config, {
    chainId: target.chainId,
    account: target.account,
    address: target.escrow,
    ...nativeRequestCall(model.id, imageCid, fee, requestBounds(fee, model.responseWindow, latest.timestamp)),
  });
  return writeContract(target.config, request);
}

/**
 * Pays a token-priced request in one transaction: the wallet signs an EIP-2612 permit
 * for exactly the fee (`onPermitSigned` fires then), and `requestPredictionWithPermit`
 * uses it to pull the fee (the escrow skips the permit when an approval covers the fee).
 */
export async function payWithPermit(
  target: Target,
  model: PaidModel,
  imageCid: Hex,
  fee: bigint,
  token: TokenInfo,
  onPermitSigned?: () => void,
): Promise<Hex> {
  const client = publicClient(target);
  const [balance, nonce, domain, latest] = await Promise.all([
    client.readContract({ address: token.address, abi: erc20Abi, functionName: "balanceOf", args: [target.account] }),
    client.readContract({ address: token.address, abi: permitAbi, functionName: "nonces", args: [target.account] }),
    permitDomain(target, token),
    client.getBlock({ blockTag: "latest" }),
  ]);
  if (balance < fee) {
    throw new InsufficientBalanceError(
      `The fee is ${formatAmount(fee, token)} and your account holds ${formatAmount(balance, token)}. ` +
        `Get more ${token.symbol}, then pay again.`,
    );
  }
  const deadline = latest.timestamp + PERMIT_LIFETIME_S;
  // The permit's value is the request's maxFee: the fee the user is shown.
  const bounds = requestBounds(fee, model.responseWindow, latest.timestamp);
  const signature = await signTypedData(target.config, {
    account: target.account,
    domain,
    types: PERMIT_TYPES,
    primaryType: "Permit",
    message: { owner: target.account, spender: target.escrow, value: bounds.maxFee, nonce, deadline },
  });
  onPermitSigned?.();
  const { r, s, v, yParity } = parseSignature(signature);
  const permit = { deadline, v: Number(v ?? BigInt(yParity + 27)), r, s };
  const { request } = await simulateContract(target.config, {
    chainId: target.chainId,
    account: target.account,
    address: target.escrow,
    ...permitRequestCall(model.id, imageCid, bounds, permit),
  });
  return writeContract(target.config, request);
}

const permitAbi = [
  {
    type: "function",
    name: "nonces",
    stateMutability: "view",
    inputs: [{ name: "owner", type: "address" }],
    outputs: [{ name: "", type: "uint256" }],
  },
  {
    type: "function",
    name: "eip712Domain",
    stateMutability: "view",
    inputs: [],
    outputs: [
      { name: "fields", type: "bytes1" },
      { name: "name", type: "string" },
      { name: "version", type: "string" },
      { name: "chainId", type: "uint256" },
      { name: "verifyingContract", type: "address" },
      { name: "salt", type: "bytes32" },
      { name: "extensions", type: "uint256[]" },
    ],
  },
] as const;

/** The token's EIP-712 domain: from ERC-5267 `eip712Domain()` when it has it, else name / version "1". */
async function permitDomain(target: Target, token: TokenInfo) {
  const client = publicClient(target);
  try {
    const [, name, version, chainId, verifyingContract] = await client.readContract({
      address: token.address,
      abi: permitAbi,
      functionName: "eip712Domain",
    });
    return { name, version, chainId: Number(chainId), verifyingContract };
  } catch {
    return { name: token.name, version: "1", chainId: target.chainId, verifyingContract: token.address };
  }
}

/** Refunds an unanswered request after its deadline (anyone may; the fee goes to the requester's balance). */
export async function reclaim(target: Target, terms: RequestTerms): Promise<Hex> {
  const { request } = await simulateContract(target.config, {
    chainId: target.chainId,
    account: target.account,
    address: target.escrow,
    abi: predictionEscrowAbi,
    functionName: "reclaim",
    args: [{ ...terms, deadline: Number(terms.deadline) }],
  });
  return writeContract(target.config, request);
}

/** Pays out the account's whole refundable balance of `token` (address(0): native) to itself. */
export async function withdraw(target: Target, token: Address = zeroAddress): Promise<Hex> {
  const { request } = await simulateContract(target.config, {
    chainId: target.chainId,
    account: target.account,
    address: target.escrow,
    abi: predictionEscrowAbi,
    functionName: "withdraw",
    args: [token, target.account],
  });
  return writeContract(target.config, request);
}

/** Waits for one confirmation; a reverted transaction becomes an error. */
export async function confirm(target: Target, hash: Hex): Promise<TransactionReceipt> {
  const receipt = await waitForTransactionReceipt(target.config, { chainId: target.chainId, hash, pollingInterval: 500 });
  if (receipt.status !== "success") throw new Error(`transaction ${hash} reverted`);
  return receipt;
}
