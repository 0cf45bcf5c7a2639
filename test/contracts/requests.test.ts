/**
 * Paid requests: the fee quote, exact escrow of the fee, the request event and its
 * commitment, every validation of the request path, request ids, and the gas budget.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { AbiCoder, keccak256 } from "ethers";
import {
  CALLBACK_GAS_PRICE,
  deployEscrowFixture,
  eventsOf,
  fulfillment,
  inOneBlock,
  MAX_CALLBACK_GAS_LIMIT,
  mined,
  minedAt,
  modelConfig,
  NATIVE,
  NATIVE_FEE,
  randomImageCid,
  rejection,
  request,
  RESPONSE_WINDOW,
  termsFromReceipt,
  TOKEN_FEE,
  type RequestTerms,
  ANY_FEE,
  ANY_DEADLINE,
  fulfil,
} from "../support/escrow.ts";

const connection = await network.create();
const { networkHelpers } = connection;
const { loadFixture } = networkHelpers;

function commitment(terms: RequestTerms): string {
  return keccak256(
    AbiCoder.defaultAbiCoder().encode(
      ["address", "uint32", "uint96", "uint40", "uint32"],
      [terms.requester, terms.modelId, terms.fee, terms.deadline, terms.callbackGasLimit],
    ),
  );
}

describe("PredictionEscrow requests", () => {
  describe("quote", () => {
    it("prices the model fee plus the callback gas at the model's callback gas price, in the model's currency", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const token = await f.token.getAddress();
      expect(await f.escrow.quote(1n, 0n)).to.deep.equal([NATIVE, NATIVE_FEE]);
      expect(await f.escrow.quote(2n, 100_000n)).to.deep.equal([NATIVE, NATIVE_FEE + 100_000n * CALLBACK_GAS_PRICE]);
      expect(await f.escrow.quote(3n, 0n)).to.deep.equal([token, TOKEN_FEE]);
      expect(await f.escrow.quote(3n, MAX_CALLBACK_GAS_LIMIT)).to.deep.equal([
        token,
        TOKEN_FEE + MAX_CALLBACK_GAS_LIMIT * CALLBACK_GAS_PRICE,
      ]);
    });

    it("reverts UnknownModel for unregistered ids", async () => {
      const f = await loadFixture(deployEscrowFixture);
      for (const modelId of [0n, 4n]) {
        await expect(f.escrow.quote(modelId, 0n)).to.be.revertedWithCustomError(f.escrow, "UnknownModel").withArgs(modelId);
      }
    });

    it("reverts FeeOverflow when the price does not fit in a uint96, in the quote and in the request", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const maxFee = 2n ** 96n - 1n;
      await mined(f.escrow.setFeeToken(NATIVE, true, 2n ** 64n - 1n)); // no cap on the callback gas price
      await mined(f.escrow.registerModel(modelConfig({ fee: maxFee, callbackGasPrice: 1n }), f.oracle.address));
      expect(await f.escrow.quote(4n, 0n)).to.deep.equal([NATIVE, maxFee]);
      await expect(f.escrow.quote(4n, 1n)).to.be.revertedWithCustomError(f.escrow, "FeeOverflow");
      await expect(
        f.escrow.connect(f.users[0]!).requestPredictionWithCallback(4n, randomImageCid(), 1n, ANY_FEE, ANY_DEADLINE),
      ).to.be.revertedWithCustomError(f.escrow, "FeeOverflow");
      // The sum is checked, not each part: a fee just below the limit leaves room for little callback gas.
      await mined(
        f.escrow.registerModel(modelConfig({ fee: maxFee - 2n ** 64n + 1n, callbackGasPrice: 2n ** 64n - 1n }), f.oracle.address),
      );
      expect(await f.escrow.quote(5n, 1n)).to.deep.equal([NATIVE, maxFee]);
      await expect(f.escrow.quote(5n, 2n)).to.be.revertedWithCustomError(f.escrow, "FeeOverflow");
    });
  });

  describe("requestPrediction", () => {
    it("escrows exactly the quoted fee, emits the full terms and stores their commitment", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const user = f.users[0]!;
      const imageCid = randomImageCid();
      const tx = f.escrow.connect(user).requestPrediction(1n, imageCid, ANY_FEE, ANY_DEADLINE, { value: NATIVE_FEE });
      await expect(tx).to.changeEtherBalances(f.ethers, [user, f.escrow], [-NATIVE_FEE, NATIVE_FEE]);
      const receipt = await mined(tx);
      const deadline = (await minedAt(f.ethers, receipt)) + RESPONSE_WINDOW;
      const [terms] = termsFromReceipt(f.escrow, receipt);
      const requestId = terms!.requestId;
      expect(eventsOf(f.escrow, receipt)).to.deep.equal([
        ["PredictionRequested", requestId, user.address, 1n, imageCid, NATIVE_FEE, deadline, 0n],
      ]);
      expect(await f.escrow.isPending(requestId)).to.equal(true);
      expect(await f.escrow.commitmentOf(requestId)).to.equal(commitment(terms!));
      expect(await f.escrow.balanceOf(NATIVE, user.address)).to.equal(0n);
      expect(await f.escrow.isPending(requestId + 1n)).to.equal(false);
      expect(await f.escrow.commitmentOf(requestId + 1n)).to.equal(`0x${"00".repeat(32)}`);
    });

    it("returns the id it announces", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const consumer = await f.ethers.deployContract("RecordingConsumer", [f.escrow]);
      const receipt = await mined(consumer.request(1n, randomImageCid(), 0n, { value: NATIVE_FEE }));
      expect(await consumer.requestedId()).to.equal(termsFromReceipt(f.escrow, receipt)[0]!.requestId);
    });

    it("accepts image CIDs of 2 and of 128 bytes", async () => {
      const f = await loadFixture(deployEscrowFixture);
      for (const imageCid of ["0x1220", `0x${"ab".repeat(128)}`]) {
        const receipt = await mined(
          f.escrow.connect(f.users[0]!).requestPrediction(1n, imageCid, ANY_FEE, ANY_DEADLINE, { value: NATIVE_FEE }),
        );
        expect(eventsOf(f.escrow, receipt)[0]![4]).to.equal(imageCid);
      }
    });

    for (const [label, imageCid] of [
      ["empty", "0x"],
      ["1-byte", "0x12"],
      ["129-byte", `0x${"ab".repeat(129)}`],
    ]) {
      it(`reverts InvalidImageCid for an ${label} CID`, async () => {
        const f = await loadFixture(deployEscrowFixture);
        await expect(
          f.escrow.connect(f.users[0]!).requestPrediction(1n, imageCid!, ANY_FEE, ANY_DEADLINE, { value: NATIVE_FEE }),
        ).to.be.revertedWithCustomError(f.escrow, "InvalidImageCid");
      });
    }

    it("reverts IncorrectPayment(expected, paid) for any other value than the quote", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const user = f.users[0]!;
      for (const paid of [0n, NATIVE_FEE - 1n, NATIVE_FEE + 1n, 2n * NATIVE_FEE]) {
        await expect(f.escrow.connect(user).requestPrediction(1n, randomImageCid(), ANY_FEE, ANY_DEADLINE, { value: paid }))
          .to.be.revertedWithCustomError(f.escrow, "IncorrectPayment")
          .withArgs(NATIVE_FEE, paid);
      }
      // With a callback the quote includes its gas.
      await expect(
        f.escrow.connect(user).requestPredictionWithCallback(1n, randomImageCid(), 10n, ANY_FEE, ANY_DEADLINE, { value: NATIVE_FEE }),
      )
        .to.be.revertedWithCustomError(f.escrow, "IncorrectPayment")
        .withArgs(NATIVE_FEE + 10n * CALLBACK_GAS_PRICE, NATIVE_FEE);
    });

    it("reverts UnknownModel for unregistered model ids", async () => {
      const f = await loadFixture(deployEscrowFixture);
      for (const modelId of [0n, 4n, 2n ** 32n - 1n]) {
        await expect(f.escrow.connect(f.users[0]!).requestPrediction(modelId, randomImageCid(), ANY_FEE, ANY_DEADLINE, { value: 0n }))
          .to.be.revertedWithCustomError(f.escrow, "UnknownModel")
          .withArgs(modelId);
      }
    });

    it("takes a fee equal to maxFee and a deadline equal to latestDeadline; reverts FeeAboveMax and DeadlineTooLate one unit below", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const user = f.users[0]!;
      const at = BigInt(await networkHelpers.time.latest()) + 10n;
      const deadline = at + RESPONSE_WINDOW;
      await networkHelpers.time.setNextBlockTimestamp(at);
      await expect(f.escrow.connect(user).requestPrediction(1n, randomImageCid(), NATIVE_FEE - 1n, ANY_DEADLINE, { value: NATIVE_FEE }))
        .to.be.revertedWithCustomError(f.escrow, "FeeAboveMax")
        .withArgs(NATIVE_FEE, NATIVE_FEE - 1n);
      await networkHelpers.time.setNextBlockTimestamp(at + 1n);
      await expect(f.escrow.connect(user).requestPrediction(1n, randomImageCid(), NATIVE_FEE, deadline, { value: NATIVE_FEE }))
        .to.be.revertedWithCustomError(f.escrow, "DeadlineTooLate")
        .withArgs(deadline + 1n, deadline);
      await networkHelpers.time.setNextBlockTimestamp(at + 2n);
      const receipt = await mined(
        f.escrow.connect(user).requestPrediction(1n, randomImageCid(), NATIVE_FEE, deadline + 2n, { value: NATIVE_FEE }),
      );
      expect(termsFromReceipt(f.escrow, receipt)[0]!.deadline).to.equal(deadline + 2n);
      // The bound on the fee is checked before the payment: a request that would cost more says so.
      await expect(
        f.escrow.connect(user).requestPredictionWithCallback(1n, randomImageCid(), 10n, NATIVE_FEE, ANY_DEADLINE, { value: NATIVE_FEE }),
      )
        .to.be.revertedWithCustomError(f.escrow, "FeeAboveMax")
        .withArgs(NATIVE_FEE + 10n * CALLBACK_GAS_PRICE, NATIVE_FEE);
    });

    it("keeps a plain native request within its gas budget (≤ 55,000)", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const receipt = await mined(
        f.escrow.connect(f.users[0]!).requestPrediction(1n, randomImageCid(), ANY_FEE, ANY_DEADLINE, { value: NATIVE_FEE }),
      );
      expect(receipt.gasUsed).to.be.at.most(55_000n);
    });
  });

  describe("requestPredictionWithCallback", () => {
    it("commits the callback gas limit and charges it at the callback gas price", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const user = f.users[1]!;
      const fee = NATIVE_FEE + 123_456n * CALLBACK_GAS_PRICE;
      const tx = f.escrow.connect(user).requestPredictionWithCallback(2n, "0x1220aa", 123_456n, ANY_FEE, ANY_DEADLINE, { value: fee });
      await expect(tx).to.changeEtherBalances(f.ethers, [user, f.escrow], [-fee, fee]);
      const receipt = await mined(tx);
      const [terms] = termsFromReceipt(f.escrow, receipt);
      expect(terms).to.deep.equal({
        requestId: terms!.requestId,
        requester: user.address,
        modelId: 2n,
        fee,
        deadline: (await minedAt(f.ethers, receipt)) + RESPONSE_WINDOW,
        callbackGasLimit: 123_456n,
      });
      expect(await f.escrow.commitmentOf(terms!.requestId)).to.equal(commitment(terms!));
    });

    it("accepts MAX_CALLBACK_GAS_LIMIT and reverts CallbackGasLimitTooHigh above it", async () => {
      const f = await loadFixture(deployEscrowFixture);
      expect(await f.escrow.MAX_CALLBACK_GAS_LIMIT()).to.equal(MAX_CALLBACK_GAS_LIMIT);
      const terms = await request(f, f.users[0]!, 1n, { callbackGasLimit: MAX_CALLBACK_GAS_LIMIT });
      expect(terms.callbackGasLimit).to.equal(MAX_CALLBACK_GAS_LIMIT);
      const over = MAX_CALLBACK_GAS_LIMIT + 1n;
      await expect(
        f.escrow.connect(f.users[0]!).requestPredictionWithCallback(1n, randomImageCid(), over, ANY_FEE, ANY_DEADLINE, {
          value: NATIVE_FEE + over * CALLBACK_GAS_PRICE,
        }),
      )
        .to.be.revertedWithCustomError(f.escrow, "CallbackGasLimitTooHigh")
        .withArgs(over, MAX_CALLBACK_GAS_LIMIT);
    });

    it("with a zero limit is a request without a callback", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const consumer = await f.ethers.deployContract("RecordingConsumer", [f.escrow]);
      const [terms] = termsFromReceipt(f.escrow, await mined(consumer.request(1n, randomImageCid(), 0n, { value: NATIVE_FEE })));
      expect(terms!.callbackGasLimit).to.equal(0n);
      await mined(fulfil(f, [fulfillment(terms!)]));
      expect(await consumer.calls()).to.equal(0n);
    });
  });

  describe("request ids", () => {
    it("are distinct for several requests in one transaction, and each is settled on its own", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const consumer = await f.ethers.deployContract("RecordingConsumer", [f.escrow]);
      const receipt = await mined(consumer.requestMany(1n, randomImageCid(), 0n, 3n, { value: 3n * NATIVE_FEE }));
      const terms = termsFromReceipt(f.escrow, receipt);
      expect(new Set(terms.map((t) => t.requestId)).size).to.equal(3);
      for (const t of terms) expect(await f.escrow.isPending(t.requestId)).to.equal(true);
      await mined(f.escrow.connect(f.oracle).rejectBatch([rejection(terms[1]!)]));
      expect(await f.escrow.isPending(terms[0]!.requestId)).to.equal(true);
      expect(await f.escrow.isPending(terms[1]!.requestId)).to.equal(false);
      expect(await f.escrow.isPending(terms[2]!.requestId)).to.equal(true);
    });

    it("are distinct for identical requests from one sender in one block", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const user = f.users[0]!;
      const imageCid = randomImageCid();
      const receipts = await inOneBlock(connection, async () => {
        const sent = [];
        for (let i = 0; i < 3; i++) {
          sent.push(
            await f.escrow.connect(user).requestPrediction(1n, imageCid, ANY_FEE, ANY_DEADLINE, { value: NATIVE_FEE, gasLimit: 200_000n }),
          );
        }
        return sent;
      });
      const terms = receipts.map((r) => termsFromReceipt(f.escrow, r)[0]!);
      expect(new Set(terms.map((t) => t.requestId)).size).to.equal(3);
      // Identical terms, distinct ids: all three are pending and settle separately.
      expect(new Set(terms.map(commitment)).size).to.equal(1);
      const settled = await mined(
        fulfil(
          f,
          terms.map((t) => fulfillment(t)),
        ),
      );
      expect(eventsOf(f.escrow, settled).map(([name]) => name)).to.deep.equal([
        "PredictionFulfilled",
        "PredictionFulfilled",
        "PredictionFulfilled",
        "FeesCredited",
      ]);
    });

    it("differ for another image even with identical terms, so a settlement replayed after a reorg cannot answer it", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const user = f.users[0]!;
      const forkPoint = await networkHelpers.takeSnapshot();
      const at = BigInt(await networkHelpers.time.latest()) + 100n;
      // The orphaned branch: a request for one image, answered.
      await networkHelpers.time.setNextBlockTimestamp(at);
      const orphanedReceipt = await mined(
        f.escrow.connect(user).requestPrediction(1n, randomImageCid(), ANY_FEE, ANY_DEADLINE, { value: NATIVE_FEE }),
      );
      const [orphaned] = termsFromReceipt(f.escrow, orphanedReceipt);
      const settlement = fulfillment(orphaned!, 281, 9_000);
      // The branch that wins: the same caller, block number and time, another image.
      await forkPoint.restore();
      await networkHelpers.time.setNextBlockTimestamp(at);
      const reissuedReceipt = await mined(
        f.escrow.connect(user).requestPrediction(1n, randomImageCid(), ANY_FEE, ANY_DEADLINE, { value: NATIVE_FEE }),
      );
      const [reissued] = termsFromReceipt(f.escrow, reissuedReceipt);
      expect(reissuedReceipt.blockNumber).to.equal(orphanedReceipt.blockNumber);
      expect(commitment(reissued!)).to.equal(commitment(orphaned!));
      expect(reissued!.requestId).to.not.equal(orphaned!.requestId);
      // The orphaned settlement lands again (from the mempool): it is skipped, the new request stays pending.
      const replayed = await mined(fulfil(f, [settlement]));
      expect(eventsOf(f.escrow, replayed).map(([name]) => name)).to.deep.equal(["SettlementSkipped"]);
      expect(await f.escrow.isPending(reissued!.requestId)).to.equal(true);
    });
  });
});
