/**
 * Settlement: batched fulfilment with fees credited per run of one currency minus the
 * protocol fee, rejection with a full refund, refunds after the deadline by anyone,
 * skips (never reverts) for items that are not pending, mismatch or are out of time,
 * request ids that are never issued twice, and pull withdrawals.
 */
import { expect } from "chai";
import { network } from "hardhat";
import {
  deployEscrowFixture,
  eventsOf,
  fulfillment,
  inOneBlock,
  mined,
  modelConfig,
  NATIVE,
  NATIVE_FEE,
  PROTOCOL_FEE_BPS,
  protocolCut,
  randomImageCid,
  REJECT,
  rejection,
  request,
  SKIP,
  STATUS,
  termsFromReceipt,
  TOKEN_FEE,
  withTerms,
  type EscrowFixture,
  type RequestTerms,
  fulfil,
} from "../support/escrow.ts";

const connection = await network.create();
const { networkHelpers } = connection;
const { loadFixture, time } = networkHelpers;

async function credit(f: EscrowFixture, token: string, account: { address: string } | string): Promise<bigint> {
  return f.escrow.balanceOf(token, typeof account === "string" ? account : account.address);
}

/** A native model whose fee makes the protocol fee round down (fee 19,999 wei). */
async function oddFeeModel(f: EscrowFixture): Promise<bigint> {
  await mined(f.escrow.registerModel(modelConfig({ name: "odd", fee: 19_999n, callbackGasPrice: 0n }), f.oracle.address));
  return f.escrow.modelCount();
}

describe("PredictionEscrow settlement", () => {
  describe("fulfillBatch", () => {
    it("emits each result, deletes the commitments and credits the fees once, minus the protocol fee", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const [a, b] = f.users;
      const t1 = await request(f, a!, f.classifierId);
      const t2 = await request(f, b!, f.detectorId, { callbackGasLimit: 40_000n });
      const items = [fulfillment(t1, 285, 9_999), fulfillment(t2, 65_535, 0)];
      const held = await f.ethers.provider.getBalance(f.escrow);

      const receipt = await mined(fulfil(f, items));
      const total = t1.fee + t2.fee;
      const cut = protocolCut(total);
      expect(eventsOf(f.escrow, receipt)).to.deep.equal([
        ["PredictionFulfilled", t1.requestId, items[0]!.resultDigest],
        ["PredictionFulfilled", t2.requestId, items[1]!.resultDigest],
        ["FeesCredited", f.oracle.address, NATIVE, total - cut, f.treasury.address, cut],
      ]);
      expect(cut)
        .to.equal((total * PROTOCOL_FEE_BPS) / 10_000n) // a whole number here: no rounding
        .and.to.be.greaterThan(0n);
      expect(await credit(f, NATIVE, f.oracle)).to.equal(total - cut);
      expect(await credit(f, NATIVE, f.treasury)).to.equal(cut);
      for (const t of [t1, t2]) {
        expect(await f.escrow.isPending(t.requestId)).to.equal(false);
        expect(await f.escrow.commitmentOf(t.requestId)).to.equal(`0x${"00".repeat(32)}`);
        expect(await credit(f, NATIVE, t.requester)).to.equal(0n);
      }
      // Fees are credited, not sent: the contract still holds them.
      expect(await f.ethers.provider.getBalance(f.escrow)).to.equal(held);
    });

    it("credits each run of one currency separately, rounding the protocol fee up per run", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const odd = await oddFeeModel(f);
      const [a] = f.users;
      const n1 = await request(f, a!, odd);
      const n2 = await request(f, a!, odd);
      const tk = await request(f, a!, f.tokenModelId);
      const n3 = await request(f, a!, odd);
      const token = await f.token.getAddress();

      const receipt = await mined(
        fulfil(
          f,
          [n1, n2, tk, n3].map((t) => fulfillment(t)),
        ),
      );
      const credited = eventsOf(f.escrow, receipt).filter(([name]) => name === "FeesCredited");
      // 39,998 * 5% = 1,999.9 -> 2,000; 19,999 * 5% = 999.95 -> 1,000: splitting fees into
      // runs cannot shave the protocol fee.
      expect(credited).to.deep.equal([
        ["FeesCredited", f.oracle.address, NATIVE, 39_998n - 2_000n, f.treasury.address, 2_000n],
        ["FeesCredited", f.oracle.address, token, TOKEN_FEE - protocolCut(TOKEN_FEE), f.treasury.address, protocolCut(TOKEN_FEE)],
        ["FeesCredited", f.oracle.address, NATIVE, 19_999n - 1_000n, f.treasury.address, 1_000n],
      ]);
      expect(await credit(f, NATIVE, f.oracle)).to.equal(39_998n - 2_000n + 19_999n - 1_000n);
      expect(await credit(f, NATIVE, f.treasury)).to.equal(2_000n + 1_000n);
      expect(await credit(f, token, f.oracle)).to.equal(TOKEN_FEE - protocolCut(TOKEN_FEE));
      expect(await credit(f, token, f.treasury)).to.equal(protocolCut(TOKEN_FEE));
    });

    it("skips unknown, settled and duplicated items with NotPending, so a retried batch changes nothing", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const t1 = await request(f, f.users[0]!, f.classifierId);
      const t2 = await request(f, f.users[1]!, f.tokenModelId);
      const unknown = withTerms(t1, { requestId: t1.requestId ^ 1n });
      const batch = [fulfillment(t1), fulfillment(t1), fulfillment(unknown), fulfillment(t2)];

      const first = await mined(fulfil(f, batch));
      const token = await f.token.getAddress();
      expect(eventsOf(f.escrow, first)).to.deep.equal([
        ["PredictionFulfilled", t1.requestId, batch[0]!.resultDigest],
        ["SettlementSkipped", t1.requestId, SKIP.NotPending],
        ["SettlementSkipped", unknown.requestId, SKIP.NotPending],
        // A run's fees are credited when the batch moves on to a model priced in another currency.
        ["FeesCredited", f.oracle.address, NATIVE, NATIVE_FEE - protocolCut(NATIVE_FEE), f.treasury.address, protocolCut(NATIVE_FEE)],
        ["PredictionFulfilled", t2.requestId, batch[3]!.resultDigest],
        ["FeesCredited", f.oracle.address, token, TOKEN_FEE - protocolCut(TOKEN_FEE), f.treasury.address, protocolCut(TOKEN_FEE)],
      ]);

      const retried = await mined(fulfil(f, batch));
      expect(eventsOf(f.escrow, retried)).to.deep.equal([
        ["SettlementSkipped", t1.requestId, SKIP.NotPending],
        ["SettlementSkipped", t1.requestId, SKIP.NotPending],
        ["SettlementSkipped", unknown.requestId, SKIP.NotPending],
        ["SettlementSkipped", t2.requestId, SKIP.NotPending],
      ]);
      expect(await credit(f, NATIVE, f.oracle)).to.equal(NATIVE_FEE - protocolCut(NATIVE_FEE));
      expect(await credit(f, token, f.oracle)).to.equal(TOKEN_FEE - protocolCut(TOKEN_FEE));
    });

    it("skips items whose terms do not match the commitment with TermsMismatch, whichever field differs", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const t = await request(f, f.users[0]!, f.classifierId, { callbackGasLimit: 10_000n });
      const tampered: RequestTerms[] = [
        withTerms(t, { requester: f.users[1]!.address }),
        withTerms(t, { modelId: f.detectorId }),
        withTerms(t, { fee: t.fee - 1n }),
        withTerms(t, { fee: t.fee + 1n }),
        withTerms(t, { deadline: t.deadline + 1n }),
        withTerms(t, { callbackGasLimit: 0n }),
      ];
      const receipt = await mined(
        fulfil(
          f,
          tampered.map((x) => fulfillment(x)),
        ),
      );
      expect(eventsOf(f.escrow, receipt)).to.deep.equal(tampered.map(() => ["SettlementSkipped", t.requestId, SKIP.TermsMismatch]));
      const rejected = await mined(f.escrow.connect(f.oracle).rejectBatch(tampered.map((x) => rejection(x))));
      expect(eventsOf(f.escrow, rejected)).to.deep.equal(tampered.map(() => ["SettlementSkipped", t.requestId, SKIP.TermsMismatch]));
      await time.increaseTo(t.deadline + 1n);
      for (const x of tampered) {
        const reclaimed = await mined(f.escrow.reclaim(x));
        expect(eventsOf(f.escrow, reclaimed)).to.deep.equal([["SettlementSkipped", t.requestId, SKIP.TermsMismatch]]);
      }
      expect(await f.escrow.isPending(t.requestId)).to.equal(true);
      // The true terms still work.
      expect(await f.escrow.reclaim.staticCall(t)).to.equal(true);
    });

    it("fulfils up to the deadline second and skips with Expired after it", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const onTime = await request(f, f.users[0]!, f.classifierId);
      const late = await request(f, f.users[1]!, f.classifierId);
      await time.setNextBlockTimestamp(onTime.deadline);
      const first = await mined(fulfil(f, [fulfillment(onTime)]));
      expect(eventsOf(f.escrow, first)[0]![0]).to.equal("PredictionFulfilled");
      expect(late.deadline).to.equal(onTime.deadline + 1n);
      await time.setNextBlockTimestamp(late.deadline + 1n);
      const second = await mined(fulfil(f, [fulfillment(late)]));
      expect(eventsOf(f.escrow, second)).to.deep.equal([["SettlementSkipped", late.requestId, SKIP.Expired]]);
      expect(await f.escrow.isPending(late.requestId)).to.equal(true);
      expect(await credit(f, NATIVE, f.oracle)).to.equal(NATIVE_FEE - protocolCut(NATIVE_FEE));
    });

    it("credits nothing and emits no FeesCredited for an empty or all-skipped batch", async () => {
      const f = await loadFixture(deployEscrowFixture);
      expect(eventsOf(f.escrow, await mined(fulfil(f, [])))).to.deep.equal([]);
      const t = await request(f, f.users[0]!, f.classifierId);
      await mined(f.escrow.connect(f.oracle).rejectBatch([rejection(t)]));
      const receipt = await mined(fulfil(f, [fulfillment(t)]));
      expect(eventsOf(f.escrow, receipt)).to.deep.equal([["SettlementSkipped", t.requestId, SKIP.NotPending]]);
      expect(await credit(f, NATIVE, f.oracle)).to.equal(0n);
    });

    it("credits the whole fee to the oracle when the protocol fee is zero, and a free model credits nothing", async () => {
      const f = await loadFixture(deployEscrowFixture);
      await mined(f.escrow.setProtocolFee(NATIVE, 0));
      await mined(f.escrow.registerModel(modelConfig({ name: "free", fee: 0n }), f.oracle.address));
      const paid = await request(f, f.users[0]!, f.classifierId);
      const free = await request(f, f.users[0]!, 4n);
      expect(free.fee).to.equal(0n);
      const receipt = await mined(fulfil(f, [fulfillment(paid), fulfillment(free)]));
      expect(eventsOf(f.escrow, receipt).slice(-1)).to.deep.equal([["FeesCredited", f.oracle.address, NATIVE, NATIVE_FEE, NATIVE, 0n]]);
      const onlyFree = await request(f, f.users[0]!, 4n);
      const receipt2 = await mined(fulfil(f, [fulfillment(onlyFree)]));
      expect(eventsOf(f.escrow, receipt2).map(([name]) => name)).to.deep.equal(["PredictionFulfilled"]);
      expect(await credit(f, NATIVE, f.oracle)).to.equal(NATIVE_FEE);
      expect(await credit(f, NATIVE, NATIVE)).to.equal(0n);
    });

    it("applies the protocol fee in force when the batch settles", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const t = await request(f, f.users[0]!, f.classifierId);
      await mined(f.escrow.setProtocolFee(f.users[7]!.address, 2_000));
      await mined(fulfil(f, [fulfillment(t)]));
      expect(await credit(f, NATIVE, f.users[7]!)).to.equal(NATIVE_FEE / 5n);
      expect(await credit(f, NATIVE, f.treasury)).to.equal(0n);
      expect(await credit(f, NATIVE, f.oracle)).to.equal(NATIVE_FEE - NATIVE_FEE / 5n);
    });

    it("credits each of a model's operators for its own batches", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const second = f.users[6]!;
      await mined(f.escrow.setModelOperator(f.classifierId, second.address, true));
      const t1 = await request(f, f.users[0]!, f.classifierId);
      const t2 = await request(f, f.users[0]!, f.classifierId);
      await mined(fulfil(f, [fulfillment(t1)]));
      const receipt = await mined(f.escrow.connect(second).fulfillBatch([fulfillment(t1), fulfillment(t2)]));
      expect(eventsOf(f.escrow, receipt).slice(-1)).to.deep.equal([
        ["FeesCredited", second.address, NATIVE, NATIVE_FEE - protocolCut(NATIVE_FEE), f.treasury.address, protocolCut(NATIVE_FEE)],
      ]);
      expect(await credit(f, NATIVE, f.oracle)).to.equal(NATIVE_FEE - protocolCut(NATIVE_FEE));
      expect(await credit(f, NATIVE, second)).to.equal(NATIVE_FEE - protocolCut(NATIVE_FEE));
      expect(await credit(f, NATIVE, f.treasury)).to.equal(2n * protocolCut(NATIVE_FEE));
    });

    it("keeps a 16-item batch of plain requests cheap per item", async () => {
      const f = await loadFixture(deployEscrowFixture);
      await mined(fulfil(f, [fulfillment(await request(f, f.users[0]!, f.classifierId))]));
      const terms = [];
      for (let i = 0; i < 16; i++) terms.push(await request(f, f.users[i % 4]!, f.classifierId));
      const receipt = await mined(
        fulfil(
          f,
          terms.map((t) => fulfillment(t)),
        ),
      );
      expect(eventsOf(f.escrow, receipt).filter(([name]) => name === "PredictionFulfilled")).to.have.length(16);
      expect(receipt.gasUsed / 16n).to.be.at.most(10_500n);
    });
  });

  describe("rejectBatch", () => {
    it("refunds the whole fee to each requester with the reason code, crediting no fee", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const reasons = Object.values(REJECT);
      const terms: RequestTerms[] = [];
      for (const [i] of reasons.entries()) {
        terms.push(
          await request(f, f.users[i % 3]!, i % 2 === 0 ? f.classifierId : f.tokenModelId, { callbackGasLimit: 1_000n * BigInt(i) }),
        );
      }
      const receipt = await mined(f.escrow.connect(f.oracle).rejectBatch(terms.map((t, i) => rejection(t, reasons[i]!))));
      expect(eventsOf(f.escrow, receipt)).to.deep.equal(terms.map((t, i) => ["PredictionRejected", t.requestId, reasons[i]!, t.fee]));
      const token = await f.token.getAddress();
      for (const [i, user] of f.users.slice(0, 3).entries()) {
        const own = terms.filter((t) => t.requester === user.address);
        const native = own.filter((t) => t.modelId === f.classifierId).reduce((sum, t) => sum + t.fee, 0n);
        const tokens = own.filter((t) => t.modelId === f.tokenModelId).reduce((sum, t) => sum + t.fee, 0n);
        expect([i, await credit(f, NATIVE, user), await credit(f, token, user)]).to.deep.equal([i, native, tokens]);
      }
      for (const t of terms) expect(await f.escrow.isPending(t.requestId)).to.equal(false);
      expect(await credit(f, NATIVE, f.oracle)).to.equal(0n);
      expect(await credit(f, NATIVE, f.treasury)).to.equal(0n);
    });

    it("rejects an expired request too, and skips settled, unknown and mismatching items", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const expired = await request(f, f.users[0]!, f.classifierId);
      const fulfilled = await request(f, f.users[0]!, f.classifierId);
      await mined(fulfil(f, [fulfillment(fulfilled)]));
      await time.increaseTo(expired.deadline + 100n);
      const batch = [
        rejection(expired, REJECT.Unretrievable),
        rejection(expired),
        rejection(fulfilled),
        rejection(withTerms(expired, { requestId: 42n })),
        rejection(withTerms(fulfilled, { fee: 1n })),
      ];
      const receipt = await mined(f.escrow.connect(f.oracle).rejectBatch(batch));
      expect(eventsOf(f.escrow, receipt)).to.deep.equal([
        ["PredictionRejected", expired.requestId, REJECT.Unretrievable, expired.fee],
        ["SettlementSkipped", expired.requestId, SKIP.NotPending],
        ["SettlementSkipped", fulfilled.requestId, SKIP.NotPending],
        ["SettlementSkipped", 42n, SKIP.NotPending],
        ["SettlementSkipped", fulfilled.requestId, SKIP.NotPending],
      ]);
      expect(await credit(f, NATIVE, f.users[0]!)).to.equal(NATIVE_FEE);
    });

    it("reverts for a reason code outside the enum", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const t = await request(f, f.users[0]!, f.classifierId);
      await expect(f.escrow.connect(f.oracle).rejectBatch([rejection(t, 7n)])).to.revert(f.ethers);
      expect(await f.escrow.isPending(t.requestId)).to.equal(true);
    });
  });

  describe("reclaim", () => {
    it("refunds the requester, not the caller, once the deadline has passed; anyone may call it", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const [requester, stranger] = f.users;
      const t = await request(f, requester!, f.tokenModelId, { callbackGasLimit: 5_000n });
      await time.setNextBlockTimestamp(t.deadline);
      const early = await mined(f.escrow.connect(stranger!).reclaim(t));
      expect(eventsOf(f.escrow, early)).to.deep.equal([["SettlementSkipped", t.requestId, SKIP.NotExpired]]);
      expect(await f.escrow.isPending(t.requestId)).to.equal(true);

      await networkHelpers.mine(); // eth_call runs at the latest block's time
      expect(await f.escrow.connect(stranger!).reclaim.staticCall(t)).to.equal(true);
      const receipt = await mined(f.escrow.connect(stranger!).reclaim(t));
      expect(eventsOf(f.escrow, receipt)).to.deep.equal([["PredictionExpired", t.requestId, t.fee]]);
      const token = await f.token.getAddress();
      expect(await credit(f, token, requester!)).to.equal(t.fee);
      expect(await credit(f, token, stranger!)).to.equal(0n);
      expect(await f.escrow.isPending(t.requestId)).to.equal(false);

      // Settled: a second reclaim, a late fulfilment and a rejection are all skipped.
      expect(await f.escrow.reclaim.staticCall(t)).to.equal(false);
      expect(eventsOf(f.escrow, await mined(f.escrow.reclaim(t)))).to.deep.equal([["SettlementSkipped", t.requestId, SKIP.NotPending]]);
      expect(eventsOf(f.escrow, await mined(f.escrow.connect(f.oracle).rejectBatch([rejection(t)])))).to.deep.equal([
        ["SettlementSkipped", t.requestId, SKIP.NotPending],
      ]);
      expect(await credit(f, token, requester!)).to.equal(t.fee);
    });

    it("returns false with NotPending for a fulfilled request, even after its deadline", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const t = await request(f, f.users[0]!, f.classifierId);
      await mined(fulfil(f, [fulfillment(t)]));
      await time.increaseTo(t.deadline + 1n);
      expect(await f.escrow.reclaim.staticCall(t)).to.equal(false);
      expect(eventsOf(f.escrow, await mined(f.escrow.reclaim(t)))).to.deep.equal([["SettlementSkipped", t.requestId, SKIP.NotPending]]);
      expect(await credit(f, NATIVE, f.users[0]!)).to.equal(0n);
    });
  });

  describe("request ids are never issued twice", () => {
    for (const fulfilled of [false, true]) {
      it(`even when a request is ${fulfilled ? "fulfilled" : "rejected"} in its own block: a replayed settlement stays skipped`, async () => {
        const f = await loadFixture(deployEscrowFixture);
        const settler = await f.ethers.deployContract("SameBlockSettler", [f.escrow]);
        await mined(f.escrow.setModelOperator(1n, await settler.getAddress(), true));
        const imageCid = randomImageCid();
        const sender = f.users[0]!;
        const [settled, reissued] = await inOneBlock(connection, async () => [
          await settler.connect(sender).requestAndSettle(1n, imageCid, fulfilled, { value: NATIVE_FEE, gasLimit: 500_000n }),
          await settler.connect(sender).request(1n, imageCid, { value: NATIVE_FEE, gasLimit: 500_000n }),
        ]);
        const [first] = termsFromReceipt(f.escrow, settled!);
        const [second] = termsFromReceipt(f.escrow, reissued!);
        expect(eventsOf(f.escrow, settled!)[1]![0]).to.equal(fulfilled ? "PredictionFulfilled" : "PredictionRejected");
        // Same requester, model, fee, deadline and callback limit: only the id can tell them apart.
        expect(withTerms(second!, { requestId: first!.requestId })).to.deep.equal(first);
        expect(second!.requestId).to.not.equal(first!.requestId);
        expect(await f.escrow.isPending(first!.requestId)).to.equal(false);
        expect(await f.escrow.isPending(second!.requestId)).to.equal(true);

        // The oracle retries the first settlement: it must not settle the second request.
        const replay = fulfilled ? fulfil(f, [fulfillment(first!)]) : f.escrow.connect(f.oracle).rejectBatch([rejection(first!)]);
        expect(eventsOf(f.escrow, await mined(replay))).to.deep.equal([["SettlementSkipped", first!.requestId, SKIP.NotPending]]);
        expect(await f.escrow.isPending(second!.requestId)).to.equal(true);
        expect(await f.escrow.commitmentOf(first!.requestId)).to.equal(`0x${"00".repeat(32)}`);
        expect(await f.escrow.statusOf(first!.requestId)).to.equal(fulfilled ? STATUS.Fulfilled : STATUS.Rejected);
        // The second request settles normally.
        const receipt = await mined(f.escrow.connect(f.oracle).rejectBatch([rejection(second!)]));
        expect(eventsOf(f.escrow, receipt)).to.deep.equal([["PredictionRejected", second!.requestId, REJECT.NotAnImage, second!.fee]]);
      });
    }
  });

  describe("withdraw", () => {
    it("pays the caller's whole balance to the given address and zeroes it", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const [requester, payee] = f.users;
      const t1 = await request(f, requester!, f.classifierId);
      const t2 = await request(f, requester!, f.detectorId, { callbackGasLimit: 1_000n });
      await mined(f.escrow.connect(f.oracle).rejectBatch([rejection(t1), rejection(t2)]));
      const amount = t1.fee + t2.fee;
      const tx = f.escrow.connect(requester!).withdraw(NATIVE, payee!.address);
      await expect(tx).to.changeEtherBalances(f.ethers, [f.escrow, payee!, requester!], [-amount, amount, 0n], { includeFee: false });
      expect(eventsOf(f.escrow, await mined(tx))).to.deep.equal([["Withdrawn", requester!.address, NATIVE, payee!.address, amount]]);
      expect(await credit(f, NATIVE, requester!)).to.equal(0n);
      await expect(f.escrow.connect(requester!).withdraw(NATIVE, payee!.address)).to.be.revertedWithCustomError(
        f.escrow,
        "NothingToWithdraw",
      );
    });

    it("pays tokens out per currency, and reverts NothingToWithdraw for an empty balance", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const token = await f.token.getAddress();
      const t = await request(f, f.users[0]!, f.tokenModelId);
      await mined(fulfil(f, [fulfillment(t)]));
      await expect(f.escrow.connect(f.oracle).withdraw(NATIVE, f.oracle.address)).to.be.revertedWithCustomError(
        f.escrow,
        "NothingToWithdraw",
      );
      const amount = TOKEN_FEE - protocolCut(TOKEN_FEE);
      const tx = f.escrow.connect(f.oracle).withdraw(token, f.oracle.address);
      await expect(tx).to.changeTokenBalances(f.ethers, f.token, [f.escrow, f.oracle], [-amount, amount]);
      expect(eventsOf(f.escrow, await mined(tx))).to.deep.equal([["Withdrawn", f.oracle.address, token, f.oracle.address, amount]]);
      await expect(f.escrow.connect(f.treasury).withdraw(token, f.users[3]!.address)).to.changeTokenBalances(
        f.ethers,
        f.token,
        [f.escrow, f.users[3]!],
        [-protocolCut(TOKEN_FEE), protocolCut(TOKEN_FEE)],
      );
      expect(await f.token.balanceOf(f.escrow)).to.equal(0n);
      await expect(f.escrow.connect(f.treasury).withdraw(token, f.treasury.address)).to.be.revertedWithCustomError(
        f.escrow,
        "NothingToWithdraw",
      );
      await expect(f.escrow.connect(f.users[0]!).withdraw(f.users[1]!.address, f.users[0]!.address)).to.be.revertedWithCustomError(
        f.escrow,
        "NothingToWithdraw",
      );
    });

    it("is protected against re-entry by the recipient", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const receiver = await f.ethers.deployContract("ReentrantReceiver", [f.escrow]);
      const [t] = termsFromReceipt(f.escrow, await mined(receiver.request(1n, randomImageCid(), 0n, { value: NATIVE_FEE })));
      await mined(f.escrow.connect(f.oracle).rejectBatch([rejection(t!)]));
      await expect(receiver.withdrawTo(await receiver.getAddress())).to.be.revertedWithCustomError(
        f.escrow,
        "ReentrancyGuardReentrantCall",
      );
      expect(await credit(f, NATIVE, await receiver.getAddress())).to.equal(NATIVE_FEE);
      await expect(receiver.withdrawTo(f.users[0]!.address)).to.changeEtherBalances(
        f.ethers,
        [f.escrow, f.users[0]!],
        [-NATIVE_FEE, NATIVE_FEE],
      );
    });
  });
});
