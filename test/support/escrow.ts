/**
 * Shared fixture for the contract suites and the gas benchmark: the escrow deployed
 * through the real Ignition module, tGLM allowed as a fee currency, three models (native
 * classifier, native detector, token-priced classifier) operated by the fixture's oracle,
 * and helpers that turn a request receipt back into the terms a settlement must present.
 */
import { randomBytes } from "node:crypto";
import type { HardhatEthers, HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { NetworkConnection } from "hardhat/types/network";
import { Signature, type BaseContract, type ContractTransactionReceipt, type ContractTransactionResponse, type Log } from "ethers";
import type { Address, Hex } from "viem";
import { callbackGasReserve, PERMIT_TYPES, type PackedFulfillment, packFulfillment, unpackFulfillment } from "@argus/escrow/request-terms";
import ArgusModule from "@argus/devchain/ignition-module";
import type { PredictionEscrow, TestGLM } from "../../types/ethers-contracts/index.ts";
import type { IModelRegistry, IPredictionEscrow } from "../../types/ethers-contracts/PredictionEscrow.ts";

export type RequestTerms = IPredictionEscrow.RequestTermsStruct & {
  requestId: bigint;
  requester: string;
  modelId: bigint;
  fee: bigint;
  deadline: bigint;
  callbackGasLimit: bigint;
};

export const TASK = { Classification: 0, Detection: 1 } as const;
export const NATIVE = "0x0000000000000000000000000000000000000000";
export const PROTOCOL_FEE_BPS = 500n;
export const NATIVE_FEE = 10n ** 15n; // 0.001 ETH
export const TOKEN_FEE = 2n * 10n ** 18n; // 2 tGLM
export const CALLBACK_GAS_PRICE = 10n ** 9n; // 1 gwei per callback gas
export const RESPONSE_WINDOW = 3600n;
/** Seconds a transfer of the fixture's admin role waits. */
export const ADMIN_DELAY = 86_400n;
/** The cap on callback gas prices the fixture lists tGLM with (the module lists ETH with the same). */
export const MAX_CALLBACK_GAS_PRICE = 10n ** 13n;
/** A `maxFee` that accepts any fee (uint256's maximum). */
export const ANY_FEE = 2n ** 256n - 1n;
/** A `latestDeadline` that accepts any deadline (uint40's maximum). */
export const ANY_DEADLINE = 2n ** 40n - 1n;

/** A random 36-byte CIDv1 (dag-pb, sha2-256), the shape of a pinned image's CID. */
export function randomImageCid(): string {
  return `0x01701220${randomBytes(32).toString("hex")}`;
}

export function modelConfig(overrides: Partial<IModelRegistry.ModelConfigStruct> = {}): IModelRegistry.ModelConfigStruct {
  return {
    name: "mobilenetv2-12-int8",
    task: TASK.Classification,
    feeToken: NATIVE,
    fee: NATIVE_FEE,
    callbackGasPrice: CALLBACK_GAS_PRICE,
    responseWindow: RESPONSE_WINDOW,
    weightsSha256: "0xcc028fe6cae7bc11a4ff53cfc9b79c920e8be65ce33a904ec3e2a8f66d77f95f",
    providerImageHash: `0x${"ab".repeat(28)}00000000`,
    manifestCid: `0x01551220${"cd".repeat(32)}`,
    ...overrides,
  };
}

export interface EscrowFixture {
  ethers: HardhatEthers;
  escrow: PredictionEscrow;
  token: TestGLM;
  admin: HardhatEthersSigner;
  oracle: HardhatEthersSigner;
  treasury: HardhatEthersSigner;
  users: HardhatEthersSigner[];
  /** Native-priced classifier. */
  classifierId: bigint;
  /** Native-priced detector. */
  detectorId: bigint;
  /** tGLM-priced classifier. */
  tokenModelId: bigint;
}

export async function deployEscrowFixture(connection: NetworkConnection): Promise<EscrowFixture> {
  const { ethers, ignition } = connection;
  const [admin, oracle, treasury, ...users] = await ethers.getSigners();
  if (!admin || !oracle || !treasury || users.length < 8) throw new Error("the fixture needs at least 11 funded accounts");
  const { escrow } = await ignition.deploy(ArgusModule, {
    parameters: { Argus: { treasury: treasury.address, protocolFeeBps: PROTOCOL_FEE_BPS, adminDelaySeconds: Number(ADMIN_DELAY) } },
  });
  const typedEscrow = escrow as unknown as PredictionEscrow;
  const token = (await ethers.deployContract("TestGLM")) as unknown as TestGLM;

  await (await typedEscrow.setFeeToken(await token.getAddress(), true, MAX_CALLBACK_GAS_PRICE)).wait();
  await (await typedEscrow.registerModel(modelConfig(), oracle.address)).wait();
  await (await typedEscrow.registerModel(modelConfig({ name: "fastestdet-coco80", task: TASK.Detection }), oracle.address)).wait();
  await (
    await typedEscrow.registerModel(
      modelConfig({ name: "squeezenet1.1-fp16", feeToken: await token.getAddress(), fee: TOKEN_FEE }),
      oracle.address,
    )
  ).wait();

  for (const user of users.slice(0, 8)) {
    await (await token.mint(user.address, 1_000n * 10n ** 18n)).wait();
    await (await token.connect(user).approve(await typedEscrow.getAddress(), ethers.MaxUint256)).wait();
  }
  return { ethers, escrow: typedEscrow, token, admin, oracle, treasury, users, classifierId: 1n, detectorId: 2n, tokenModelId: 3n };
}

/** Terms of every `PredictionRequested` in a receipt, in log order. */
export function termsFromReceipt(escrow: PredictionEscrow, receipt: ContractTransactionReceipt | null): RequestTerms[] {
  if (!receipt) throw new Error("transaction was not mined");
  const terms: RequestTerms[] = [];
  for (const log of receipt.logs) {
    const parsed = escrow.interface.parseLog(log);
    if (parsed?.name !== "PredictionRequested") continue;
    const { requestId, requester, modelId, fee, deadline, callbackGasLimit } = parsed.args;
    terms.push({ requestId, requester, modelId, fee, deadline, callbackGasLimit });
  }
  return terms;
}

/**
 * Makes one native- or token-priced request as `signer`, bounded by the quoted fee and any
 * deadline, and returns its terms.
 */
export async function request(
  fixture: EscrowFixture,
  signer: HardhatEthersSigner,
  modelId: bigint,
  options: { callbackGasLimit?: bigint; imageCid?: string } = {},
): Promise<RequestTerms> {
  const { escrow } = fixture;
  const callbackGasLimit = options.callbackGasLimit ?? 0n;
  const imageCid = options.imageCid ?? randomImageCid();
  const [token, amount] = await escrow.quote(modelId, callbackGasLimit);
  const value = token === NATIVE ? amount : 0n;
  const tx =
    callbackGasLimit === 0n
      ? await escrow.connect(signer).requestPrediction(modelId, imageCid, amount, ANY_DEADLINE, { value })
      : await escrow.connect(signer).requestPredictionWithCallback(modelId, imageCid, callbackGasLimit, amount, ANY_DEADLINE, { value });
  const [terms] = termsFromReceipt(escrow, await tx.wait());
  if (!terms) throw new Error("no PredictionRequested event");
  return terms;
}

/** A `fulfillBatch` item for `terms`, packed by the oracle's own encoder. */
export function fulfillment(terms: RequestTerms, topClass = 281, topScore = 9_000, digest?: string) {
  return packFulfillment(
    { ...terms, requester: terms.requester as Address, modelId: Number(terms.modelId), callbackGasLimit: Number(terms.callbackGasLimit) },
    (digest ?? `0x${randomBytes(32).toString("hex")}`) as Hex,
    { topClass, topScore },
  );
}

/**
 * The gas an operator gives a `fulfillBatch`: generous room for the items themselves plus
 * every callback's whole limit (`callbackGasReserve`). Never eth_estimateGas alone: the
 * cheapest way for a batch with callbacks to succeed is for the escrow to skip them.
 */
export function fulfilmentGas(items: readonly PackedFulfillment[]): bigint {
  return 100_000n + 40_000n * BigInt(items.length) + callbackGasReserve(items.map((item) => unpackFulfillment(item).callbackGasLimit));
}

/** Sends `fulfillBatch(items)` as `signer` (default: the fixture's oracle) with `fulfilmentGas`. */
export function fulfil(f: EscrowFixture, items: readonly PackedFulfillment[], signer: HardhatEthersSigner = f.oracle) {
  return f.escrow.connect(signer).fulfillBatch([...items], { gasLimit: fulfilmentGas(items) });
}

// ------------------------------------------------------------------------------------
// Helpers shared by the contract suites (test/contracts/).

/** `IPredictionEscrow.SkipReason`. */
export const SKIP = {
  NotPending: 0n,
  TermsMismatch: 1n,
  Expired: 2n,
  NotExpired: 3n,
  NotOperator: 4n,
  InsufficientCallbackGas: 5n,
} as const;

/** `IPredictionEscrow.RequestStatus`. */
export const STATUS = { None: 0n, Pending: 1n, Fulfilled: 2n, Rejected: 3n, Expired: 4n } as const;

/** `IPredictionEscrow.RejectReason`. */
export const REJECT = {
  Unspecified: 0n,
  NotAnImage: 1n,
  TooLarge: 2n,
  Unretrievable: 3n,
  UnsupportedFormat: 4n,
  InvalidCid: 5n,
  DecodeFailed: 6n,
} as const;

export const MAX_CALLBACK_GAS_LIMIT = 2_500_000n;
export const MAX_PROTOCOL_FEE_BPS = 2_000n;
export const MAX_MODELS = 1_000n;

/** A permit that fails: `requestPredictionWithPermit` then relies on the allowance. */
export const NO_PERMIT = { deadline: 0n, v: 27, r: `0x${"00".repeat(32)}`, s: `0x${"00".repeat(32)}` };

/** A `rejectBatch` item. */
export function rejection(terms: RequestTerms, reason: bigint = REJECT.NotAnImage) {
  return { terms, reason };
}

/** The treasury's share of `total` fulfilled fees at `bps`, rounded up as the escrow does. */
export function protocolCut(total: bigint, bps: bigint = PROTOCOL_FEE_BPS): bigint {
  return (total * bps + 9_999n) / 10_000n;
}

/** Waits for a transaction and returns its receipt (throws if it was not mined). */
export async function mined(tx: Promise<{ wait(): Promise<ContractTransactionReceipt | null> }>): Promise<ContractTransactionReceipt> {
  const receipt = await (await tx).wait();
  if (!receipt) throw new Error("transaction was not mined");
  return receipt;
}

/** `[eventName, ...args]` of every log `contract` emitted in `receipt`, in order. */
export type EventTuple = [string, ...unknown[]];

export function eventsOf(contract: BaseContract, receipt: { logs: readonly Log[] }): EventTuple[] {
  const address = String(contract.target).toLowerCase();
  const events: EventTuple[] = [];
  for (const log of receipt.logs) {
    if (log.address.toLowerCase() !== address) continue;
    const parsed = contract.interface.parseLog(log);
    if (!parsed) throw new Error(`unparsable log from ${address}`);
    events.push([parsed.name, ...parsed.args.toArray()]);
  }
  return events;
}

/** Terms of a request as `PredictionRequested` carried them, with some fields changed. */
export function withTerms(terms: RequestTerms, changes: Partial<RequestTerms>): RequestTerms {
  return { ...terms, ...changes };
}

/** An EIP-2612 permit by `owner` for `spender` to pull `value` of `token`. */
export async function signPermit(
  token: TestGLM,
  owner: HardhatEthersSigner,
  spender: string,
  value: bigint,
  deadline: bigint,
): Promise<IPredictionEscrow.PermitSignatureStruct & { deadline: bigint; v: number; r: string; s: string }> {
  const [nonce, name, network] = await Promise.all([token.nonces(owner.address), token.name(), owner.provider!.getNetwork()]);
  const signature = await owner.signTypedData(
    { name, version: "1", chainId: network.chainId, verifyingContract: await token.getAddress() },
    { Permit: PERMIT_TYPES.Permit.map((field) => ({ ...field })) },
    { owner: owner.address, spender, value, nonce, deadline },
  );
  const { v, r, s } = Signature.from(signature);
  return { deadline, v, r, s };
}

/** The timestamp of the block a receipt was mined in. */
export async function minedAt(ethers: HardhatEthers, receipt: ContractTransactionReceipt): Promise<bigint> {
  const block = await ethers.provider.getBlock(receipt.blockNumber);
  if (!block) throw new Error(`block ${receipt.blockNumber} not found`);
  return BigInt(block.timestamp);
}

/**
 * Runs `send`, which must only send transactions (each with an explicit gas limit),
 * with automining paused, then mines them all in one block and returns their receipts.
 */
export async function inOneBlock(
  connection: NetworkConnection,
  send: () => Promise<ContractTransactionResponse[]>,
): Promise<ContractTransactionReceipt[]> {
  await connection.provider.request({ method: "evm_setAutomine", params: [false] });
  let sent: ContractTransactionResponse[];
  try {
    sent = await send();
    await connection.provider.request({ method: "evm_mine", params: [] });
  } finally {
    await connection.provider.request({ method: "evm_setAutomine", params: [true] });
  }
  const receipts = await Promise.all(sent.map((tx) => mined(Promise.resolve(tx))));
  if (new Set(receipts.map((r) => r.blockNumber)).size !== 1) throw new Error("the transactions did not share a block");
  return receipts;
}
