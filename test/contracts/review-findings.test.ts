/**
 * Regression tests for the external review of the escrow (issue 17): one group per
 * finding. Each was first written against the code the review read (main at c2f5315)
 * and failed there (commit 7e050ab holds that version); where the fix changed the API
 * (maxFee and latestDeadline, per-model operators, statusOf) the tests now use it.
 * The oracle's side of finding 1 is test/oracle/hostile-callbacks.test.ts; finding 7 is
 * readme-example.test.ts.
 */
import { expect } from "chai";
import { network } from "hardhat";
import type { BaseContract, ContractTransactionResponse } from "ethers";
import {
  ADMIN_DELAY,
  ANY_DEADLINE,
  ANY_FEE,
  CALLBACK_GAS_PRICE,
  deployEscrowFixture,
  eventsOf,
  fulfil,
  fulfillment,
  mined,
  modelConfig,
  NATIVE,
  NATIVE_FEE,
  protocolCut,
  RESPONSE_WINDOW,
  randomImageCid,
  REJECT,
  rejection,
  request,
  SKIP,
  STATUS,
  signPermit,
  termsFromReceipt,
  TOKEN_FEE,
  type EscrowFixture,
} from "../support/escrow.ts";
import type { CatBadge, GasMeteringConsumer, RecordingConsumer } from "../../types/ethers-contracts/index.ts";

const connection = await network.create();
const { networkHelpers } = connection;
const { loadFixture, time } = networkHelpers;

type TestConsumer = Pick<RecordingConsumer, "request">;

async function consumerRequest(f: EscrowFixture, name: string, callbackGasLimit: bigint) {
  const consumer = (await f.ethers.deployContract(name, [f.escrow])) as unknown as TestConsumer & BaseContract;
  const fee = NATIVE_FEE + callbackGasLimit * CALLBACK_GAS_PRICE;
  const receipt = await mined(consumer.request(f.classifierId, randomImageCid(), callbackGasLimit, { value: fee }));
  return termsFromReceipt(f.escrow, receipt)[0]!;
}

/**
 * Sends the transactions `send` makes (each with an explicit gas limit) with automining
 * off, mines them in one block, and returns whether each succeeded.
 */
async function sameBlock(send: () => Promise<ContractTransactionResponse[]>): Promise<boolean[]> {
  await connection.provider.request({ method: "evm_setAutomine", params: [false] });
  let sent: ContractTransactionResponse[];
  try {
    sent = await send();
    await connection.provider.request({ method: "evm_mine", params: [] });
  } finally {
    await connection.provider.request({ method: "evm_setAutomine", params: [true] });
  }
  const receipts = await Promise.all(sent.map((tx) => connection.ethers.provider.getTransactionReceipt(tx.hash)));
  if (new Set(receipts.map((receipt) => receipt!.blockNumber)).size !== 1) throw new Error("the transactions did not share a block");
  return receipts.map((receipt) => receipt!.status === 1);
}

describe("escrow review (issue 17)", () => {
  describe("finding 1: a callback the batch cannot fund", () => {
    it("is skipped and left pending; the rest of the batch settles, and the skipped one later", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const first = await consumerRequest(f, "GasBurningConsumer", 2_500_000n);
      const honest = await request(f, f.users[0]!, f.classifierId);
      const second = await consumerRequest(f, "GasBurningConsumer", 2_500_000n);
      const items = [fulfillment(first), fulfillment(honest), fulfillment(second)];
      // Enough for the first burner's 2.5M and the honest item, not for the second burner.
      const receipt = await mined(f.escrow.connect(f.oracle).fulfillBatch(items, { gasLimit: 3_500_000n }));
      expect(
        eventsOf(f.escrow, receipt).map(([name, id, reason]) => [name, id, ...(name === "SettlementSkipped" ? [reason] : [])]),
      ).to.deep.equal([
        ["PredictionFulfilled", first.requestId],
        ["CallbackFailed", first.requestId],
        ["PredictionFulfilled", honest.requestId],
        ["SettlementSkipped", second.requestId, SKIP.InsufficientCallbackGas],
        ["FeesCredited", f.oracle.address],
      ]);
      expect(await f.escrow.statusOf(second.requestId)).to.equal(STATUS.Pending);
      expect(await f.escrow.statusOf(honest.requestId)).to.equal(STATUS.Fulfilled);
      // Alone and with its budget, the burner is answered too (and its fee earned).
      const retried = await mined(fulfil(f, [items[2]!]));
      expect(eventsOf(f.escrow, retried).map(([name]) => name)).to.deep.equal(["PredictionFulfilled", "CallbackFailed", "FeesCredited"]);
    });
  });

  describe("finding 2: requesters bound what they pay and how long it is locked", () => {
    it("a fee raised in the request's own block pulls nothing: the request names the quoted fee as its maxFee", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const user = f.users[0]!; // holds an unlimited approval
      const [, quoted] = await f.escrow.quote(f.tokenModelId, 0n);
      const before = await f.token.balanceOf(user.address);
      const raised = modelConfig({ name: "squeezenet1.1-fp16", feeToken: await f.token.getAddress(), fee: TOKEN_FEE * 50n });
      const [updated, requested] = await sameBlock(async () => [
        await f.escrow.updateModel(f.tokenModelId, raised, { gasLimit: 500_000n }),
        await f.escrow.connect(user).requestPrediction(f.tokenModelId, randomImageCid(), quoted, ANY_DEADLINE, { gasLimit: 500_000n }),
      ]);
      expect([updated, requested]).to.deep.equal([true, false]);
      expect(await f.token.balanceOf(user.address)).to.equal(before);
      await expect(f.escrow.connect(user).requestPrediction(f.tokenModelId, randomImageCid(), quoted, ANY_DEADLINE))
        .to.be.revertedWithCustomError(f.escrow, "FeeAboveMax")
        .withArgs(TOKEN_FEE * 50n, quoted);
    });

    it("a response window lengthened in the request's own block does not lock the fee past the deadline it accepted", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const user = f.users[0]!;
      const latestDeadline = BigInt(await time.latest()) + RESPONSE_WINDOW + 3_600n;
      const week = modelConfig({ responseWindow: 7n * 86_400n });
      const [updated, requested] = await sameBlock(async () => [
        await f.escrow.updateModel(f.classifierId, week, { gasLimit: 500_000n }),
        await f.escrow
          .connect(user)
          .requestPrediction(f.classifierId, randomImageCid(), NATIVE_FEE, latestDeadline, { value: NATIVE_FEE, gasLimit: 500_000n }),
      ]);
      expect([updated, requested]).to.deep.equal([true, false]);
      await expect(
        f.escrow.connect(user).requestPrediction(f.classifierId, randomImageCid(), NATIVE_FEE, latestDeadline, { value: NATIVE_FEE }),
      ).to.be.revertedWithCustomError(f.escrow, "DeadlineTooLate");
    });

    it("a response window longer than 7 days is refused", async () => {
      const f = await loadFixture(deployEscrowFixture);
      await expect(f.escrow.registerModel(modelConfig({ name: "forever", responseWindow: 2n ** 32n - 1n }), f.oracle.address))
        .to.be.revertedWithCustomError(f.escrow, "InvalidModelConfig")
        .withArgs("responseWindow");
    });

    it("a callback gas price above the currency's cap is refused", async () => {
      const f = await loadFixture(deployEscrowFixture);
      await expect(f.escrow.registerModel(modelConfig({ name: "dear", callbackGasPrice: 2n ** 64n - 1n }), f.oracle.address))
        .to.be.revertedWithCustomError(f.escrow, "InvalidModelConfig")
        .withArgs("callbackGasPrice");
    });
  });

  describe("finding 3: only a model's operator settles its requests", () => {
    it("another operator copying a batch settles nothing and takes no fee; the model's operator then settles it", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const rogue = f.users[6]!;
      // An operator of another model: Argus is a market, and it runs a model of its own.
      await mined(f.escrow.registerModel(modelConfig({ name: "rogue-model" }), rogue.address));
      const terms = await request(f, f.users[0]!, f.classifierId);
      const copied = await mined(f.escrow.connect(rogue).fulfillBatch([fulfillment(terms)]));
      expect(eventsOf(f.escrow, copied)).to.deep.equal([["SettlementSkipped", terms.requestId, SKIP.NotOperator]]);
      const rejected = await mined(f.escrow.connect(rogue).rejectBatch([rejection(terms)]));
      expect(eventsOf(f.escrow, rejected)).to.deep.equal([["SettlementSkipped", terms.requestId, SKIP.NotOperator]]);
      expect(await f.escrow.balanceOf(NATIVE, rogue.address)).to.equal(0n);
      expect(await f.escrow.isPending(terms.requestId)).to.equal(true);
      await mined(fulfil(f, [fulfillment(terms)]));
      expect(await f.escrow.balanceOf(NATIVE, f.oracle.address)).to.equal(NATIVE_FEE - protocolCut(NATIVE_FEE));
    });
  });

  describe("finding 4: an EIP-7702 delegated requester", () => {
    it("gets its whole callback gas whenever its request is fulfilled", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const limit = 100_000n;
      const meter = (await f.ethers.deployContract("GasMeteringConsumer", [f.escrow])) as unknown as GasMeteringConsumer;
      const eoa = f.users[7]!;
      // Sponsored by another account, so the delegation's own call does not run the consumer.
      const authorization = await eoa.authorize({ address: await meter.getAddress() });
      await (
        await f.admin.sendTransaction({ to: f.admin.address, type: 4, authorizationList: [authorization], gasLimit: 100_000n })
      ).wait();
      const terms = await request(f, eoa, f.classifierId, { callbackGasLimit: limit });
      const delegated = meter.attach(eoa.address) as GasMeteringConsumer;
      const batch = [fulfillment(terms)];
      const snapshot = await networkHelpers.takeSnapshot();
      await mined(f.escrow.connect(f.oracle).fulfillBatch(batch, { gasLimit: 5_000_000n }));
      const reference = await delegated.gasAtEntry();
      // The least gas a batch is mined with that fulfils the request.
      const fulfils = async (gasLimit: bigint) => {
        await snapshot.restore();
        return mined(f.escrow.connect(f.oracle).fulfillBatch(batch, { gasLimit })).then(
          (receipt) => eventsOf(f.escrow, receipt).some(([name]) => name === "PredictionFulfilled"),
          () => false,
        );
      };
      let [low, high] = [21_000n, 5_000_000n];
      while (high - low > 1n) {
        const mid = (low + high) / 2n;
        if (await fulfils(mid)) high = mid;
        else low = mid;
      }
      await fulfils(high);
      expect(await delegated.gasAtEntry()).to.equal(reference);
    });
  });

  describe("finding 5: fee tokens", () => {
    it("a token the admin has not allowed cannot price a model (a rebasing one least of all)", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const rebasing = await f.ethers.deployContract("RebasingToken");
      const address = await rebasing.getAddress();
      await expect(f.escrow.registerModel(modelConfig({ name: "rebasing", feeToken: address, fee: TOKEN_FEE }), f.oracle.address))
        .to.be.revertedWithCustomError(f.escrow, "FeeTokenNotAllowed")
        .withArgs(address);
    });

    it("a token the admin stops allowing takes no new requests; what it escrowed still settles and withdraws", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const token = await f.token.getAddress();
      const paid = await request(f, f.users[0]!, f.tokenModelId);
      await mined(f.escrow.setFeeToken(token, false, 0n));
      await expect(f.escrow.connect(f.users[0]!).requestPrediction(f.tokenModelId, randomImageCid(), ANY_FEE, ANY_DEADLINE))
        .to.be.revertedWithCustomError(f.escrow, "FeeTokenNotAllowed")
        .withArgs(token);
      await mined(f.escrow.connect(f.oracle).rejectBatch([rejection(paid)]));
      await expect(f.escrow.connect(f.users[0]!).withdraw(token, f.users[0]!.address)).to.changeTokenBalance(
        f.ethers,
        f.token,
        f.users[0]!,
        TOKEN_FEE,
      );
    });
  });

  describe("finding 6: fulfilled and refunded are told apart", () => {
    it("statusOf says none, pending, fulfilled, rejected or expired", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const [fulfilled, rejected, expired, pending] = [
        await request(f, f.users[0]!, f.classifierId),
        await request(f, f.users[0]!, f.classifierId),
        await request(f, f.users[0]!, f.classifierId),
        await request(f, f.users[0]!, f.classifierId, { callbackGasLimit: 10_000n }),
      ];
      await mined(fulfil(f, [fulfillment(fulfilled)]));
      await mined(f.escrow.connect(f.oracle).rejectBatch([rejection(rejected)]));
      await time.increaseTo(expired.deadline + 1n);
      await mined(f.escrow.reclaim(expired));
      expect(await f.escrow.statusOf(fulfilled.requestId)).to.equal(STATUS.Fulfilled);
      expect(await f.escrow.statusOf(rejected.requestId)).to.equal(STATUS.Rejected);
      expect(await f.escrow.statusOf(expired.requestId)).to.equal(STATUS.Expired);
      expect(await f.escrow.statusOf(pending.requestId)).to.equal(STATUS.Pending);
      // Ids that cannot have been issued: none, or of a block not mined yet.
      const next = BigInt((await f.ethers.provider.getBlockNumber()) + 1) << 96n;
      for (const id of [0n, 5n, next, next + 77n]) expect(await f.escrow.statusOf(id)).to.equal(STATUS.None);
    });

    it("CatBadge refunds no fulfilled request whose callback failed, so other submitters' refunds stay theirs", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const badge = (await f.ethers.deployContract("CatBadge", [f.escrow, f.classifierId, 6_000n])) as unknown as CatBadge;
      const submit = async (who: (typeof f.users)[number]) => {
        const fee = await badge.quote();
        return termsFromReceipt(f.escrow, await mined(badge.connect(who).submit(randomImageCid(), ANY_DEADLINE, { value: fee })))[0]!;
      };
      const [a, b] = f.users;
      const answered = await submit(a!);
      const refused = await submit(b!);
      // Make the badge's next mint overflow its counter: its callback reverts.
      await networkHelpers.setStorageAt(await badge.getAddress(), 6n, 2n ** 256n - 1n);
      const receipt = await mined(fulfil(f, [fulfillment(answered, 281, 9_000)]));
      expect(eventsOf(f.escrow, receipt).map(([name]) => name)).to.include("CallbackFailed");
      await mined(f.escrow.connect(f.oracle).rejectBatch([rejection(refused, REJECT.NotAnImage)]));
      await expect(badge.connect(a!).claimExpired(answered, a!.address))
        .to.be.revertedWithCustomError(badge, "AlreadyAnswered")
        .withArgs(answered.requestId);
      await expect(badge.connect(b!).claimExpired(refused, b!.address)).to.changeEtherBalance(f.ethers, b!, refused.fee, {
        includeFee: false,
      });
    });
  });

  describe("finding 8: details", () => {
    it("the protocol fee rounds up", async () => {
      const f = await loadFixture(deployEscrowFixture);
      await mined(f.escrow.registerModel(modelConfig({ name: "odd", fee: 19n, callbackGasPrice: 0n }), f.oracle.address));
      const terms = await request(f, f.users[0]!, await f.escrow.modelCount());
      await mined(fulfil(f, [fulfillment(terms)]));
      expect(await f.escrow.balanceOf(NATIVE, f.treasury.address)).to.equal(1n); // 5% of 19 wei, rounded up
      expect(await f.escrow.balanceOf(NATIVE, f.oracle.address)).to.equal(18n);
    });

    it("a permit is not used when the allowance already covers the fee: an unlimited approval stays unlimited", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const user = f.users[0]!;
      const [, fee] = await f.escrow.quote(f.tokenModelId, 0n);
      const escrowAddress = await f.escrow.getAddress();
      const permit = await signPermit(f.token, user, escrowAddress, fee, BigInt(await time.latest()) + 3_600n);
      await mined(f.escrow.connect(user).requestPredictionWithPermit(f.tokenModelId, randomImageCid(), 0n, fee, ANY_DEADLINE, permit));
      expect(await f.token.allowance(user.address, escrowAddress)).to.equal(f.ethers.MaxUint256);
      expect(await f.token.nonces(user.address)).to.equal(0n);
    });

    it("refund events name the amount credited; FeesCredited names the treasury", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const rejected = await request(f, f.users[0]!, f.classifierId);
      const expired = await request(f, f.users[1]!, f.classifierId);
      const fulfilled = await request(f, f.users[2]!, f.classifierId);
      const rejectReceipt = await mined(f.escrow.connect(f.oracle).rejectBatch([rejection(rejected)]));
      expect(eventsOf(f.escrow, rejectReceipt)[0]).to.deep.equal([
        "PredictionRejected",
        rejected.requestId,
        REJECT.NotAnImage,
        rejected.fee,
      ]);
      const fulfilReceipt = await mined(fulfil(f, [fulfillment(fulfilled)]));
      expect(eventsOf(f.escrow, fulfilReceipt).at(-1)).to.deep.equal([
        "FeesCredited",
        f.oracle.address,
        NATIVE,
        fulfilled.fee - protocolCut(fulfilled.fee),
        f.treasury.address,
        protocolCut(fulfilled.fee),
      ]);
      await time.increaseTo(expired.deadline + 1n);
      const reclaimReceipt = await mined(f.escrow.reclaim(expired));
      expect(eventsOf(f.escrow, reclaimReceipt)[0]).to.deep.equal(["PredictionExpired", expired.requestId, expired.fee]);
    });

    it("withdraw refuses the zero address and the escrow itself as recipient", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const terms = await request(f, f.users[0]!, f.classifierId);
      await mined(f.escrow.connect(f.oracle).rejectBatch([rejection(terms)]));
      const escrow = await f.escrow.getAddress();
      for (const to of [NATIVE, escrow]) {
        await expect(f.escrow.connect(f.users[0]!).withdraw(NATIVE, to))
          .to.be.revertedWithCustomError(f.escrow, "InvalidRecipient")
          .withArgs(to);
      }
      expect(await f.escrow.balanceOf(NATIVE, f.users[0]!.address)).to.equal(terms.fee);
    });

    it("the admin role moves only by a delayed two-step transfer", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const adminRole = await f.escrow.DEFAULT_ADMIN_ROLE();
      const successor = f.users[0]!;
      await expect(f.escrow.grantRole(adminRole, successor.address)).to.be.revertedWithCustomError(
        f.escrow,
        "AccessControlEnforcedDefaultAdminRules",
      );
      await mined(f.escrow.beginDefaultAdminTransfer(successor.address));
      const [, schedule] = await f.escrow.pendingDefaultAdmin();
      await expect(f.escrow.connect(successor).acceptDefaultAdminTransfer())
        .to.be.revertedWithCustomError(f.escrow, "AccessControlEnforcedDefaultAdminDelay")
        .withArgs(schedule);
      await time.increaseTo(BigInt(schedule) + 1n);
      await mined(f.escrow.connect(successor).acceptDefaultAdminTransfer());
      expect(await f.escrow.defaultAdmin()).to.equal(successor.address);
      expect(await f.escrow.hasRole(adminRole, f.admin.address)).to.equal(false);
      expect(schedule).to.be.at.least(ADMIN_DELAY);
    });

    it("a model without a callback gas price takes no callback requests", async () => {
      const f = await loadFixture(deployEscrowFixture);
      await mined(f.escrow.registerModel(modelConfig({ name: "free-callbacks", callbackGasPrice: 0n }), f.oracle.address));
      const modelId = await f.escrow.modelCount();
      await expect(
        f.escrow
          .connect(f.users[0]!)
          .requestPredictionWithCallback(modelId, randomImageCid(), 100_000n, ANY_FEE, ANY_DEADLINE, { value: NATIVE_FEE }),
      )
        .to.be.revertedWithCustomError(f.escrow, "CallbacksNotOffered")
        .withArgs(modelId);
      // Without a callback it is an ordinary model.
      expect((await request(f, f.users[0]!, modelId)).modelId).to.equal(modelId);
    });
  });
});
