/**
 * The packed `fulfillBatch` item has two encoders: the oracle's TypeScript packer
 * (`@argus/escrow/request-terms`) and the contracts' FulfillmentLib. Items packed off-chain
 * must read back on-chain field for field, at every field's boundaries, and the library's
 * own constructors must produce the same words. Read through a probe that exposes the
 * library (contracts/mocks/FulfillmentLayoutProbe.sol), then through the escrow itself.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { getAddress } from "ethers";
import type { Address, Hex } from "viem";
import { packFulfillment, unpackFulfillment, type PackedFulfillment } from "@argus/escrow/request-terms";
import {
  CALLBACK_GAS_PRICE,
  deployEscrowFixture,
  eventsOf,
  fulfillment,
  mined,
  NATIVE_FEE,
  randomImageCid,
  termsFromReceipt,
  fulfil,
} from "../support/escrow.ts";
import type { FulfillmentLayoutProbe } from "../../types/ethers-contracts/index.ts";

const connection = await network.create();
const { loadFixture } = connection.networkHelpers;

/** Every field of one item, as the packer takes them and the probe returns them. */
interface Fields {
  requestId: bigint;
  requester: Address;
  fee: bigint;
  modelId: number;
  deadline: bigint;
  callbackGasLimit: number;
  topClass: number;
  topScore: number;
  resultDigest: Hex;
}

const max = (bits: number) => (1n << BigInt(bits)) - 1n;
/** The largest score the packer accepts: 100% in basis points. */
const MAX_SCORE = 10_000;
/** The top class meaning "nothing detected", and the largest a uint16 holds. */
const NO_CLASS = 0xffff;

const ZERO: Fields = {
  requestId: 0n,
  requester: "0x0000000000000000000000000000000000000000",
  fee: 0n,
  modelId: 0,
  deadline: 0n,
  callbackGasLimit: 0,
  topClass: 0,
  topScore: 0,
  resultDigest: `0x${"00".repeat(32)}`,
};

const MAXIMA: Fields = {
  requestId: max(256),
  requester: "0xffffffffffffffffffffffffffffffffffffffff",
  fee: max(96),
  modelId: Number(max(32)),
  deadline: max(40),
  callbackGasLimit: Number(max(32)),
  topClass: NO_CLASS,
  topScore: MAX_SCORE,
  resultDigest: `0x${"ff".repeat(32)}`,
};

const CASES: [string, Fields][] = [
  [
    "a typical answer",
    {
      requestId: (19_876_543n << 96n) | 0x5a17c0ffee00000000abcdefn,
      requester: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
      fee: 10n ** 15n + 150_000n * 10n ** 9n,
      modelId: 3,
      deadline: 1_767_225_600n,
      callbackGasLimit: 150_000,
      topClass: 281,
      topScore: 9_000,
      resultDigest: "0x9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    },
  ],
  ["every field zero", ZERO],
  ["every field at its maximum", MAXIMA],
  // One field at its maximum and the rest zero: a field that bled into a neighbour shows.
  ...(Object.keys(MAXIMA) as (keyof Fields)[]).map((field): [string, Fields] => [
    `only ${field} at its maximum`,
    { ...ZERO, [field]: MAXIMA[field] },
  ]),
  ["a request id with only its top bit set", { ...ZERO, requestId: 1n << 255n }],
  ["a request id as issued: the block number over 96 hash bits", { ...ZERO, requestId: (max(64) << 96n) | max(96) }],
];

function pack(fields: Fields): PackedFulfillment {
  const { resultDigest, topClass, topScore, ...terms } = fields;
  return packFulfillment(terms, resultDigest, { topClass, topScore });
}

/** The probe's answer, in the shape of `Fields` (addresses checksummed). */
function fieldsOf(result: Awaited<ReturnType<FulfillmentLayoutProbe["read"]>>): Fields {
  return {
    requestId: result.requestId,
    requester: getAddress(result.requester) as Address,
    fee: result.fee,
    modelId: Number(result.modelId),
    deadline: result.deadline,
    callbackGasLimit: Number(result.callbackGasLimit),
    topClass: Number(result.topClass),
    topScore: Number(result.topScore),
    resultDigest: result.resultDigest as Hex,
  };
}

const normalised = (fields: Fields): Fields => ({ ...fields, requester: getAddress(fields.requester) as Address });

async function deployProbe(): Promise<FulfillmentLayoutProbe> {
  return (await connection.ethers.deployContract("FulfillmentLayoutProbe")) as unknown as FulfillmentLayoutProbe;
}

describe("Fulfilment layout: the TypeScript packer and FulfillmentLib agree", () => {
  for (const [name, fields] of CASES) {
    it(`reads back every field packed off-chain: ${name}`, async () => {
      const probe = await loadFixture(deployProbe);
      const item = pack(fields);
      expect(fieldsOf(await probe.read(item)), "multi-field accessors").to.deep.equal(normalised(fields));
      expect(fieldsOf(await probe.readEach(item)), "one-field accessors").to.deep.equal(normalised(fields));
    });

    it(`packs the same words as the TypeScript packer: ${name}`, async () => {
      const probe = await loadFixture(deployProbe);
      const [requestId, requesterAndFee, details, resultDigest] = await probe.pack(fields);
      const onChain: PackedFulfillment = { requestId, requesterAndFee, details, resultDigest: resultDigest as Hex };
      expect(onChain).to.deep.equal(pack(fields));
      const { requester, ...rest } = unpackFulfillment(onChain);
      expect({ ...rest, requester: getAddress(requester) }).to.deep.equal(normalised(fields));
    });
  }

  it("ignores the unused bits between the terms and the top result", async () => {
    const probe = await loadFixture(deployProbe);
    for (const fields of [ZERO, MAXIMA]) {
      const item = pack(fields);
      const dirty = { ...item, details: item.details | (max(120) << 32n) };
      expect(fieldsOf(await probe.read(dirty))).to.deep.equal(normalised(fields));
      expect(fieldsOf(await probe.readEach(dirty))).to.deep.equal(normalised(fields));
    }
  });

  it("the packer refuses a top result the layout cannot carry", () => {
    expect(() => pack({ ...ZERO, topClass: NO_CLASS + 1 })).to.throw(RangeError);
    expect(() => pack({ ...ZERO, topScore: MAX_SCORE + 1 })).to.throw(RangeError);
    expect(() => pack({ ...ZERO, topClass: -1 })).to.throw(RangeError);
  });

  it("the escrow settles an item packed off-chain and hands its consumer the maximal class and score", async () => {
    const f = await loadFixture(deployEscrowFixture);
    const consumer = await f.ethers.deployContract("RecordingConsumer", [f.escrow]);
    const callbackGasLimit = 150_000n;
    const receipt = await mined(
      consumer.request(f.classifierId, randomImageCid(), callbackGasLimit, { value: NATIVE_FEE + callbackGasLimit * CALLBACK_GAS_PRICE }),
    );
    const [terms] = termsFromReceipt(f.escrow, receipt);
    // The commitment matches only if requester, fee, modelId, deadline and callback gas
    // limit were all read back as packed; the callback shows the top result was.
    const item = fulfillment(terms!, NO_CLASS, MAX_SCORE);
    const settled = await mined(fulfil(f, [item]));
    expect(eventsOf(f.escrow, settled)[0]).to.deep.equal(["PredictionFulfilled", terms!.requestId, item.resultDigest]);
    expect(await consumer.lastRequestId()).to.equal(terms!.requestId);
    expect(await consumer.lastDigest()).to.equal(item.resultDigest);
    expect(await consumer.lastTopClass()).to.equal(BigInt(NO_CLASS));
    expect(await consumer.lastTopScore()).to.equal(BigInt(MAX_SCORE));
    expect(await f.escrow.isPending(terms!.requestId)).to.equal(false);
  });
});
