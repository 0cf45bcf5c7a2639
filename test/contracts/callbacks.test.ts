/**
 * Callbacks: a consumer gets exactly the gas it paid for and its answer; one that
 * reverts, burns all its gas, returns or reverts with a huge blob, re-enters the escrow
 * or cannot receive ETH never fails the oracle's batch, the failure is recorded as
 * `CallbackFailed` and the result stays in `PredictionFulfilled`. Then the example
 * consumer, CatBadge.
 */
import { expect } from "chai";
import { network } from "hardhat";
import type { BaseContract } from "ethers";
import {
  CALLBACK_GAS_PRICE,
  deployEscrowFixture,
  eventsOf,
  fulfillment,
  mined,
  NATIVE,
  NATIVE_FEE,
  protocolCut,
  randomImageCid,
  REJECT,
  rejection,
  request,
  SKIP,
  ANY_DEADLINE,
  fulfilmentGas,
  termsFromReceipt,
  type EscrowFixture,
  type RequestTerms,
  fulfil,
} from "../support/escrow.ts";
import { CALLBACK_GAS_OVERHEAD } from "@argus/escrow/request-terms";
import type { CatBadge, RecordingConsumer } from "../../types/ethers-contracts/index.ts";

const connection = await network.create();
const { networkHelpers } = connection;
const { loadFixture, time } = networkHelpers;

/** Every test consumer (contracts/mocks/HostileConsumers.sol) requests the same way. */
type TestConsumer = Pick<RecordingConsumer, "request">;

/** Deploys the test consumer `name` and makes one native request with a callback from it. */
async function consumerRequest(f: EscrowFixture, name: string, callbackGasLimit: bigint, extraArgs: unknown[] = []) {
  const consumer = (await f.ethers.deployContract(name, [f.escrow, ...extraArgs])) as unknown as TestConsumer & BaseContract;
  return { consumer, terms: await requestFrom(f, consumer, callbackGasLimit) };
}

async function requestFrom(f: EscrowFixture, consumer: TestConsumer, callbackGasLimit: bigint): Promise<RequestTerms> {
  const fee = NATIVE_FEE + callbackGasLimit * CALLBACK_GAS_PRICE;
  const receipt = await mined(consumer.request(f.classifierId, randomImageCid(), callbackGasLimit, { value: fee }));
  return termsFromReceipt(f.escrow, receipt)[0]!;
}

const fulfilled = (t: RequestTerms, item: ReturnType<typeof fulfillment>) => ["PredictionFulfilled", t.requestId, item.resultDigest];

function feesCredited(f: EscrowFixture, total: bigint) {
  return ["FeesCredited", f.oracle.address, NATIVE, total - protocolCut(total), f.treasury.address, protocolCut(total)];
}

describe("PredictionEscrow callbacks", () => {
  it("deliver the request id, digest, top class and score to the consumer, once", async () => {
    const f = await loadFixture(deployEscrowFixture);
    const consumer = await f.ethers.deployContract("RecordingConsumer", [f.escrow]);
    const terms = await requestFrom(f, consumer, 150_000n);
    const item = fulfillment(terms, 283, 7_777);
    const receipt = await mined(fulfil(f, [item, item]));
    expect(eventsOf(f.escrow, receipt)).to.deep.equal([
      ["PredictionFulfilled", terms.requestId, item.resultDigest],
      ["SettlementSkipped", terms.requestId, SKIP.NotPending],
      feesCredited(f, terms.fee),
    ]);
    expect(await consumer.lastRequestId()).to.equal(terms.requestId);
    expect(await consumer.lastDigest()).to.equal(item.resultDigest);
    expect(await consumer.lastTopClass()).to.equal(283n);
    expect(await consumer.lastTopScore()).to.equal(7_777n);
    expect(await consumer.calls()).to.equal(1n);
  });

  it("are made to EOAs too, harmlessly", async () => {
    const f = await loadFixture(deployEscrowFixture);
    const terms = await request(f, f.users[0]!, f.classifierId, { callbackGasLimit: 30_000n });
    const item = fulfillment(terms);
    const receipt = await mined(fulfil(f, [item]));
    expect(eventsOf(f.escrow, receipt)).to.deep.equal([fulfilled(terms, item), feesCredited(f, terms.fee)]);
  });

  describe("hostile consumers never fail the batch", () => {
    for (const [name, limit, extra] of [
      ["RevertingConsumer", 100_000n, []],
      ["GasBurningConsumer", 1_000_000n, []],
      ["GasBurningConsumer", 2_500_000n, []],
      ["ReturnDataBombConsumer", 2_500_000n, [true]],
    ] as const) {
      it(`${name}${extra.length ? " (reverting)" : ""} with ${limit} gas: CallbackFailed, the result and fees stand`, async () => {
        const f = await loadFixture(deployEscrowFixture);
        const { terms } = await consumerRequest(f, name, limit, [...extra]);
        const good = await request(f, f.users[0]!, f.classifierId);
        const items = [fulfillment(terms), fulfillment(good)];
        const receipt = await mined(f.escrow.connect(f.oracle).fulfillBatch(items, { gasLimit: 10_000_000n }));
        expect(eventsOf(f.escrow, receipt)).to.deep.equal([
          fulfilled(terms, items[0]!),
          ["CallbackFailed", terms.requestId],
          fulfilled(good, items[1]!),
          feesCredited(f, terms.fee + good.fee),
        ]);
        // The callee can spend its limit and no more.
        expect(receipt.gasUsed).to.be.lessThan(limit + 150_000n);
        expect(await f.escrow.isPending(terms.requestId)).to.equal(false);
      });
    }

    for (const revertInstead of [false, true]) {
      it(`a ${revertInstead ? "reverting" : "returning"} 200 kB return-data bomb costs the batch no more than its callback limit`, async () => {
        const f = await loadFixture(deployEscrowFixture);
        // 120k covers the bomb's own 200 kB memory (~95k gas) but not a copy of it in the escrow.
        const limit = 120_000n;
        const { terms: quiet } = await consumerRequest(f, "EthRejectingRequester", limit);
        const { terms: bomb } = await consumerRequest(f, "ReturnDataBombConsumer", limit, [revertInstead]);
        const reference = await mined(fulfil(f, [fulfillment(quiet)]));
        const item = fulfillment(bomb);
        const receipt = await mined(fulfil(f, [item]));
        expect(eventsOf(f.escrow, receipt)).to.deep.equal([
          fulfilled(bomb, item),
          ...(revertInstead ? [["CallbackFailed", bomb.requestId]] : []),
          feesCredited(f, bomb.fee),
        ]);
        expect(receipt.gasUsed - reference.gasUsed).to.be.lessThan(limit);
      });
    }

    it("an ETH-rejecting requester blocks nothing: it withdraws elsewhere, everyone else as usual", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const consumer = await f.ethers.deployContract("EthRejectingRequester", [f.escrow]);
      const terms = await requestFrom(f, consumer, 50_000n);
      const other = await request(f, f.users[0]!, f.classifierId);
      const receipt = await mined(f.escrow.connect(f.oracle).rejectBatch([rejection(terms), rejection(other, REJECT.TooLarge)]));
      expect(eventsOf(f.escrow, receipt)).to.deep.equal([
        ["PredictionRejected", terms.requestId, REJECT.NotAnImage, terms.fee],
        ["PredictionRejected", other.requestId, REJECT.TooLarge, other.fee],
      ]);
      const self = await consumer.getAddress();
      await expect(consumer.withdrawTo(self)).to.be.revertedWith("no ETH");
      expect(await f.escrow.balanceOf(NATIVE, self)).to.equal(terms.fee);
      await expect(f.escrow.connect(f.users[0]!).withdraw(NATIVE, f.users[0]!.address)).to.changeEtherBalance(
        f.ethers,
        f.users[0]!,
        other.fee,
        { includeFee: false },
      );
      await expect(consumer.withdrawTo(f.users[1]!.address)).to.changeEtherBalances(
        f.ethers,
        [f.escrow, f.users[1]!],
        [-terms.fee, terms.fee],
      );
    });
  });

  describe("re-entry from a callback", () => {
    const TARGET = { RejectBatch: 0, FulfillBatch: 1, Reclaim: 2, Withdraw: 3, Request: 4 } as const;

    /** A ReentrantConsumer with a refund to withdraw and an expired request of its own as the victim. */
    async function reentrant(f: EscrowFixture, target: number, strict: boolean, oracle: boolean) {
      const consumer = await f.ethers.deployContract("ReentrantConsumer", [f.escrow]);
      const victim = await requestFrom(f, consumer, 0n);
      const refunded = await requestFrom(f, consumer, 0n);
      await mined(f.escrow.connect(f.oracle).rejectBatch([rejection(refunded)]));
      await time.increaseTo(victim.deadline + 1n);
      const attacker = await requestFrom(f, consumer, 500_000n);
      await mined(consumer.setAttack(target, strict, victim));
      if (oracle) await mined(f.escrow.setModelOperator(f.classifierId, await consumer.getAddress(), true));
      return { consumer, victim, attacker };
    }

    const guard = (f: EscrowFixture) => f.escrow.interface.encodeErrorResult("ReentrancyGuardReentrantCall", []);

    for (const [label, target, oracle] of [
      ["rejectBatch (as the model's operator)", TARGET.RejectBatch, true],
      ["fulfillBatch (as the model's operator)", TARGET.FulfillBatch, true],
      ["rejectBatch (as a stranger)", TARGET.RejectBatch, false],
      ["reclaim", TARGET.Reclaim, false],
      ["withdraw", TARGET.Withdraw, false],
    ] as const) {
      it(`into ${label} is refused by the guard; the victim is untouched`, async () => {
        const f = await loadFixture(deployEscrowFixture);
        const { consumer, victim, attacker } = await reentrant(f, target, false, oracle);
        const item = fulfillment(attacker);
        const receipt = await mined(fulfil(f, [item]));
        expect(eventsOf(f.escrow, receipt)).to.deep.equal([fulfilled(attacker, item), feesCredited(f, attacker.fee)]);
        expect(await consumer.reentered()).to.equal(false);
        expect(await consumer.lastError()).to.equal(guard(f));
        expect(await f.escrow.isPending(victim.requestId)).to.equal(true);
        expect(await f.escrow.balanceOf(NATIVE, await consumer.getAddress())).to.equal(NATIVE_FEE);
      });
    }

    it("that reverts on refusal is recorded as CallbackFailed and the result stands", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const { consumer, victim, attacker } = await reentrant(f, TARGET.Reclaim, true, false);
      const item = fulfillment(attacker);
      const receipt = await mined(fulfil(f, [item]));
      expect(eventsOf(f.escrow, receipt)).to.deep.equal([
        fulfilled(attacker, item),
        ["CallbackFailed", attacker.requestId],
        feesCredited(f, attacker.fee),
      ]);
      expect(await consumer.lastError()).to.equal("0x");
      expect(await f.escrow.isPending(victim.requestId)).to.equal(true);
    });

    it("into a new request is allowed: a consumer may chain requests", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const { consumer, attacker } = await reentrant(f, TARGET.Request, false, false);
      await f.users[0]!.sendTransaction({ to: await consumer.getAddress(), value: NATIVE_FEE });
      const receipt = await mined(fulfil(f, [fulfillment(attacker)]));
      const [chained] = termsFromReceipt(f.escrow, receipt);
      expect(await consumer.reentered()).to.equal(true);
      expect(chained!.requestId).to.equal(await consumer.lastRequestId());
      expect(chained!.requester).to.equal(await consumer.getAddress());
      expect(await f.escrow.isPending(chained!.requestId)).to.equal(true);
    });
  });

  describe("callback gas", () => {
    it("a callback gets exactly its limit, or is skipped with InsufficientCallbackGas and stays pending", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const limit = 100_000n;
      const consumer = await f.ethers.deployContract("GasMeteringConsumer", [f.escrow]);
      const terms = await requestFrom(f, consumer, limit);
      const batch = [fulfillment(terms)];
      const oracleEscrow = f.escrow.connect(f.oracle);
      const snapshot = await networkHelpers.takeSnapshot();

      await mined(oracleEscrow.fulfillBatch(batch, { gasLimit: 5_000_000n }));
      const reference = await consumer.gasAtEntry();
      expect(reference).to.be.within(limit - 500n, limit);

      /** What a batch mined with `gasLimit` did: reverted (out of gas), skipped the item, or fulfilled it. */
      const outcome = async (gasLimit: bigint) => {
        await snapshot.restore();
        const receipt = await mined(oracleEscrow.fulfillBatch(batch, { gasLimit })).catch(() => undefined);
        if (!receipt) return "reverted";
        return eventsOf(f.escrow, receipt)[0]![0] === "PredictionFulfilled" ? "fulfilled" : "skipped";
      };
      // The least gas a mined batch fulfils the item with (eth_call's gas accounting differs slightly).
      let [low, high] = [21_000n, 5_000_000n];
      while (high - low > 1n) {
        const mid = (low + high) / 2n;
        if ((await outcome(mid)) === "fulfilled") high = mid;
        else low = mid;
      }
      // Below that threshold the item is skipped and stays pending; at and above it, every
      // mined batch gave the callback its whole limit.
      expect(await outcome(high - 1n)).to.equal("skipped");
      for (const gasLimit of [high - 2_000n, high - 1n, high, high + 1n, high + 1_000n, high + 100_000n]) {
        await snapshot.restore();
        const receipt = await mined(oracleEscrow.fulfillBatch(batch, { gasLimit }));
        if (gasLimit < high) {
          expect(eventsOf(f.escrow, receipt)).to.deep.equal([["SettlementSkipped", terms.requestId, SKIP.InsufficientCallbackGas]]);
          expect(await f.escrow.isPending(terms.requestId)).to.equal(true);
          continue;
        }
        expect(eventsOf(f.escrow, receipt).map(([name]) => name)).to.deep.equal(["PredictionFulfilled", "FeesCredited"]);
        expect(await consumer.gasAtEntry()).to.equal(reference);
      }
      // What an operator budgets (callbackGasReserve) is enough on top of the batch without its callback.
      await snapshot.restore();
      expect(high).to.be.at.most(fulfilmentGas(batch));
    });

    it("a later callback the remaining gas cannot fund is skipped and stays pending; the earlier ones stand", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const { terms: first } = await consumerRequest(f, "GasBurningConsumer", 1_000_000n);
      const { terms: second } = await consumerRequest(f, "GasBurningConsumer", 1_000_000n);
      const items = [fulfillment(first), fulfillment(second)];
      const receipt = await mined(f.escrow.connect(f.oracle).fulfillBatch(items, { gasLimit: 1_500_000n }));
      expect(eventsOf(f.escrow, receipt)).to.deep.equal([
        fulfilled(first, items[0]!),
        ["CallbackFailed", first.requestId],
        ["SettlementSkipped", second.requestId, SKIP.InsufficientCallbackGas],
        feesCredited(f, first.fee),
      ]);
      expect(await f.escrow.isPending(second.requestId)).to.equal(true);
      // Posted again with its budget, it settles.
      const retried = await mined(fulfil(f, [items[1]!]));
      expect(eventsOf(f.escrow, retried).map(([name]) => name)).to.deep.equal(["PredictionFulfilled", "CallbackFailed", "FeesCredited"]);
    });

    it("the escrow's CALLBACK_GAS_OVERHEAD is the one the client budgets with", async () => {
      const f = await loadFixture(deployEscrowFixture);
      expect(await f.escrow.CALLBACK_GAS_OVERHEAD()).to.equal(CALLBACK_GAS_OVERHEAD);
    });
  });
});

describe("CatBadge", () => {
  const MIN_SCORE = 6_000n;
  const CALLBACK_GAS = 120_000n;

  async function catBadgeFixture(connection_: typeof connection) {
    const f = await deployEscrowFixture(connection_);
    const badge = (await f.ethers.deployContract("CatBadge", [f.escrow, f.classifierId, MIN_SCORE])) as unknown as CatBadge;
    return { ...f, badge };
  }

  async function submit(f: EscrowFixture & { badge: CatBadge }, submitter = f.users[0]!) {
    const fee = await f.badge.quote();
    const receipt = await mined(f.badge.connect(submitter).submit(randomImageCid(), ANY_DEADLINE, { value: fee }));
    return termsFromReceipt(f.escrow, receipt)[0]!;
  }

  it("quotes the classifier's fee with its callback gas and submits it as its own request", async () => {
    const f = await loadFixture(catBadgeFixture);
    expect(await f.badge.CALLBACK_GAS_LIMIT()).to.equal(CALLBACK_GAS);
    const fee = NATIVE_FEE + CALLBACK_GAS * CALLBACK_GAS_PRICE;
    expect(await f.badge.quote()).to.equal(fee);
    const submitter = f.users[0]!;
    const tx = f.badge.connect(submitter).submit(randomImageCid(), ANY_DEADLINE, { value: fee });
    await expect(tx).to.changeEtherBalances(f.ethers, [submitter, f.badge, f.escrow], [-fee, 0n, fee]);
    const [terms] = termsFromReceipt(f.escrow, await mined(tx));
    expect(terms!.requester).to.equal(await f.badge.getAddress());
    expect(terms!.modelId).to.equal(f.classifierId);
    expect(terms!.callbackGasLimit).to.equal(CALLBACK_GAS);
    expect(await f.badge.submissions(terms!.requestId)).to.deep.equal([submitter.address, fee]);
    // What the submitter pays is also the most the request may cost.
    await expect(f.badge.connect(submitter).submit(randomImageCid(), ANY_DEADLINE, { value: fee - 1n }))
      .to.be.revertedWithCustomError(f.escrow, "FeeAboveMax")
      .withArgs(fee, fee - 1n);
    await expect(f.badge.connect(submitter).submit(randomImageCid(), ANY_DEADLINE, { value: fee + 1n }))
      .to.be.revertedWithCustomError(f.escrow, "IncorrectPayment")
      .withArgs(fee, fee + 1n);
  });

  for (const [topClass, topScore, isCat] of [
    [281, 6_000, true],
    [285, 10_000, true],
    [283, 5_999, false],
    [280, 9_900, false],
    [286, 9_900, false],
    [65_535, 0, false],
  ] as const) {
    it(`class ${topClass} at ${topScore} bps ${isCat ? "mints a badge to the submitter" : "mints nothing"}`, async () => {
      const f = await loadFixture(catBadgeFixture);
      const submitter = f.users[1]!;
      const terms = await submit(f, submitter);
      const receipt = await mined(fulfil(f, [fulfillment(terms, topClass, topScore)]));
      expect(eventsOf(f.escrow, receipt).map(([name]) => name)).to.deep.equal(["PredictionFulfilled", "FeesCredited"]);
      expect(eventsOf(f.badge, receipt)).to.deep.equal([
        ...(isCat ? [["Transfer", NATIVE, submitter.address, 1n]] : []),
        ["CatJudged", terms.requestId, submitter.address, isCat, BigInt(topClass), BigInt(topScore)],
      ]);
      expect(await f.badge.badgeCount()).to.equal(isCat ? 1n : 0n);
      expect(await f.badge.balanceOf(submitter.address)).to.equal(isCat ? 1n : 0n);
      if (isCat) expect(await f.badge.ownerOf(1n)).to.equal(submitter.address);
      expect(await f.badge.submissions(terms.requestId)).to.deep.equal([NATIVE, 0n]);
    });
  }

  it("numbers badges in order across submitters", async () => {
    const f = await loadFixture(catBadgeFixture);
    const terms = [await submit(f, f.users[0]!), await submit(f, f.users[1]!), await submit(f, f.users[0]!)];
    await mined(
      fulfil(
        f,
        terms.map((t) => fulfillment(t, 282, 9_000)),
      ),
    );
    expect(await f.badge.badgeCount()).to.equal(3n);
    expect([await f.badge.ownerOf(1n), await f.badge.ownerOf(2n), await f.badge.ownerOf(3n)]).to.deep.equal([
      f.users[0]!.address,
      f.users[1]!.address,
      f.users[0]!.address,
    ]);
  });

  it("judges within its callback gas with room to spare, even minting the first badge", async () => {
    const f = await loadFixture(catBadgeFixture);
    const terms = await submit(f, f.users[3]!);
    // The least gas the callback succeeds with, for the costliest case: the first badge
    // (every storage slot it writes is new), to a first-time holder.
    const needed = await f.ethers.provider.estimateGas({
      from: await f.escrow.getAddress(),
      to: await f.badge.getAddress(),
      data: f.badge.interface.encodeFunctionData("onPredictionResult", [terms.requestId, `0x${"00".repeat(32)}`, 281, 9_000]),
    });
    const intrinsic = 21_000n + 16n * 132n;
    expect(needed - intrinsic).to.be.lessThan((CALLBACK_GAS * 3n) / 4n);
    const receipt = await mined(fulfil(f, [fulfillment(terms, 281, 9_000)]));
    expect(eventsOf(f.escrow, receipt).map(([name]) => name)).to.deep.equal(["PredictionFulfilled", "FeesCredited"]);
    expect(await f.badge.ownerOf(1n)).to.equal(f.users[3]!.address);
    // Fulfilled: nothing left to claim.
    await expect(f.badge.connect(f.users[3]!).claimExpired(terms, f.users[3]!.address))
      .to.be.revertedWithCustomError(f.badge, "UnknownSubmission")
      .withArgs(terms.requestId);
  });

  it("accepts results from the escrow only, and for its own submissions only", async () => {
    const f = await loadFixture(catBadgeFixture);
    const terms = await submit(f);
    await expect(
      f.badge.connect(f.users[0]!).onPredictionResult(terms.requestId, `0x${"00".repeat(32)}`, 281, 9_000),
    ).to.be.revertedWithCustomError(f.badge, "NotEscrow");
    // A badge whose "escrow" is an account we control, to reach the submission check.
    const fakeEscrow = f.users[5]!;
    const other = (await f.ethers.deployContract("CatBadge", [fakeEscrow.address, 1n, MIN_SCORE])) as unknown as CatBadge;
    await expect(other.connect(fakeEscrow).onPredictionResult(77n, `0x${"00".repeat(32)}`, 281, 9_000))
      .to.be.revertedWithCustomError(other, "UnknownSubmission")
      .withArgs(77n);
  });

  it("receives ETH from the escrow only", async () => {
    const f = await loadFixture(catBadgeFixture);
    await expect(f.users[0]!.sendTransaction({ to: await f.badge.getAddress(), value: 1n })).to.be.revertedWithCustomError(
      f.badge,
      "NotEscrow",
    );
  });

  describe("claimExpired", () => {
    it("refunds the submitter after the deadline, exactly the fee paid, once", async () => {
      const f = await loadFixture(catBadgeFixture);
      const submitter = f.users[2]!;
      const terms = await submit(f, submitter);
      await time.increaseTo(terms.deadline + 1n);
      const tx = f.badge.connect(submitter).claimExpired(terms, submitter.address);
      await expect(tx).to.changeEtherBalances(f.ethers, [submitter, f.badge, f.escrow], [terms.fee, 0n, -terms.fee], {
        includeFee: false,
      });
      expect(eventsOf(f.escrow, await mined(tx))).to.deep.equal([
        ["PredictionExpired", terms.requestId, terms.fee],
        ["Withdrawn", await f.badge.getAddress(), NATIVE, await f.badge.getAddress(), terms.fee],
      ]);
      expect(await f.badge.submissions(terms.requestId)).to.deep.equal([NATIVE, 0n]);
      await expect(f.badge.connect(submitter).claimExpired(terms, submitter.address))
        .to.be.revertedWithCustomError(f.badge, "UnknownSubmission")
        .withArgs(terms.requestId);
    });

    it("reverts UnknownSubmission, NotSubmitter and NotExpired for the wrong request, caller or time", async () => {
      const f = await loadFixture(catBadgeFixture);
      const [submitter, stranger] = f.users;
      const terms = await submit(f, submitter);
      const unknown = { ...terms, requestId: terms.requestId + 1n };
      await expect(f.badge.connect(submitter!).claimExpired(unknown, submitter!.address))
        .to.be.revertedWithCustomError(f.badge, "UnknownSubmission")
        .withArgs(unknown.requestId);
      await expect(f.badge.connect(stranger!).claimExpired(terms, stranger!.address))
        .to.be.revertedWithCustomError(f.badge, "NotSubmitter")
        .withArgs(terms.requestId);
      // Reverted transactions are mined too: pin the time of this one to the deadline.
      await time.setNextBlockTimestamp(terms.deadline);
      await expect(f.badge.connect(submitter!).claimExpired(terms, submitter!.address))
        .to.be.revertedWithCustomError(f.badge, "NotExpired")
        .withArgs(terms.requestId);
      // Wrong terms cannot refund either, even after the deadline.
      await time.increase(1n);
      await expect(f.badge.connect(submitter!).claimExpired({ ...terms, fee: terms.fee + 1n }, submitter!.address))
        .to.be.revertedWithCustomError(f.badge, "NotExpired")
        .withArgs(terms.requestId);
    });

    it("refunds the submitter even after a stranger reclaimed the request on the escrow", async () => {
      const f = await loadFixture(catBadgeFixture);
      const [submitter, stranger] = f.users;
      const terms = await submit(f, submitter);
      await time.increaseTo(terms.deadline + 1n);
      await mined(f.escrow.connect(stranger!).reclaim(terms));
      expect(await f.escrow.balanceOf(NATIVE, await f.badge.getAddress())).to.equal(terms.fee);
      await expect(f.badge.connect(submitter!).claimExpired(terms, submitter!.address)).to.changeEtherBalances(
        f.ethers,
        [submitter!, f.badge, f.escrow],
        [terms.fee, 0n, -terms.fee],
        { includeFee: false },
      );
    });

    it("lets a submitter that cannot take ETH send the refund elsewhere; a refusing recipient reverts RefundFailed, and nothing moves", async () => {
      const f = await loadFixture(catBadgeFixture);
      const submitter = await f.ethers.deployContract("BadgeSubmitter", [f.badge]);
      const submitterAddress = await submitter.getAddress();
      const fee = await f.badge.quote();
      const [terms] = termsFromReceipt(f.escrow, await mined(submitter.submit(randomImageCid(), { value: fee })));
      await time.increaseTo(terms!.deadline + 1n);
      await expect(submitter.claim(terms!, submitterAddress))
        .to.be.revertedWithCustomError(f.badge, "RefundFailed")
        .withArgs(terms!.requestId, submitterAddress);
      expect(await f.escrow.isPending(terms!.requestId)).to.equal(true);
      expect(await f.badge.submissions(terms!.requestId)).to.deep.equal([submitterAddress, fee]);
      const wallet = f.users[4]!;
      await expect(submitter.claim(terms!, wallet.address)).to.changeEtherBalances(f.ethers, [wallet, f.badge, f.escrow], [fee, 0n, -fee], {
        includeFee: false,
      });
      expect(await f.badge.submissions(terms!.requestId)).to.deep.equal([NATIVE, 0n]);
    });

    it("refunds a rejected submission, and each of several submitters exactly their own fee", async () => {
      const f = await loadFixture(catBadgeFixture);
      const [a, b, c] = f.users;
      const ta = await submit(f, a);
      const tb = await submit(f, b);
      const tc = await submit(f, c);
      await mined(f.escrow.connect(f.oracle).rejectBatch([rejection(ta), rejection(tb, REJECT.DecodeFailed)]));
      await expect(f.badge.connect(a!).claimExpired(ta, a!.address)).to.changeEtherBalances(f.ethers, [a!, f.badge], [ta.fee, tb.fee], {
        includeFee: false,
      });
      await expect(f.badge.connect(c!).claimExpired(tc, c!.address)).to.be.revertedWithCustomError(f.badge, "NotExpired");
      await time.increaseTo(tc.deadline + 1n);
      await expect(f.badge.connect(c!).claimExpired(tc, c!.address)).to.changeEtherBalances(f.ethers, [c!, f.badge], [tc.fee, 0n], {
        includeFee: false,
      });
      await expect(f.badge.connect(b!).claimExpired(tb, b!.address)).to.changeEtherBalances(f.ethers, [b!, f.badge], [tb.fee, -tb.fee], {
        includeFee: false,
      });
      expect(await f.ethers.provider.getBalance(f.badge)).to.equal(0n);
      expect(await f.escrow.balanceOf(NATIVE, await f.badge.getAddress())).to.equal(0n);
    });
  });
});
