/**
 * Shared fixture for the contract suites and the gas benchmark: the escrow deployed
 * through the real Ignition module, three models (native classifier, native detector,
 * token-priced classifier) and helpers that turn a request receipt back into the terms
 * a settlement must present.
 */
import { randomBytes } from "node:crypto";
import type { HardhatEthers, HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { NetworkConnection } from "hardhat/types/network";
import type { ContractTransactionReceipt } from "ethers";
import type { Address, Hex } from "viem";
import { packFulfillment } from "@argus/oracle-requestor/chain/request-terms";
import ArgusModule from "../../scripts/ignition/modules/Argus.ts";
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

/** A random 36-byte CIDv1 (dag-pb, sha2-256), the shape of a pinned image's CID. */
export function randomImageCid(): string {
  return "0x01701220" + randomBytes(32).toString("hex");
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
    providerImageHash: "0x" + "ab".repeat(28) + "00000000",
    manifestCid: "0x01551220" + "cd".repeat(32),
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
    parameters: { Argus: { treasury: treasury.address, protocolFeeBps: PROTOCOL_FEE_BPS, oracle: oracle.address } },
  });
  const typedEscrow = escrow as unknown as PredictionEscrow;
  const token = (await ethers.deployContract("TestGLM")) as unknown as TestGLM;

  await (await typedEscrow.registerModel(modelConfig())).wait();
  await (await typedEscrow.registerModel(modelConfig({ name: "fastestdet-coco80", task: TASK.Detection }))).wait();
  await (await typedEscrow.registerModel(
    modelConfig({ name: "squeezenet1.1-fp16", feeToken: await token.getAddress(), fee: TOKEN_FEE }),
  )).wait();

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

/** Makes one native- or token-priced request as `signer` and returns its terms. */
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
  const tx = callbackGasLimit === 0n
    ? await escrow.connect(signer).requestPrediction(modelId, imageCid, { value })
    : await escrow.connect(signer).requestPredictionWithCallback(modelId, imageCid, callbackGasLimit, { value });
  const [terms] = termsFromReceipt(escrow, await tx.wait());
  if (!terms) throw new Error("no PredictionRequested event");
  return terms;
}

/** A `fulfillBatch` item for `terms`, packed by the oracle's own encoder. */
export function fulfillment(terms: RequestTerms, topClass = 281, topScore = 9_000, digest?: string) {
  return packFulfillment(
    { ...terms, requester: terms.requester as Address, modelId: Number(terms.modelId), callbackGasLimit: Number(terms.callbackGasLimit) },
    (digest ?? "0x" + randomBytes(32).toString("hex")) as Hex,
    { topClass, topScore },
  );
}
