/**
 * Regression tests for the external review of the escrow (issue 17): one group per
 * finding, each written to fail on the code the review read (main at c2f5315).
 */
import { expect } from "chai";
import { network } from "hardhat";
import type { BaseContract } from "ethers";
import {
  CALLBACK_GAS_PRICE,
  deployEscrowFixture,
  eventsOf,
  fulfillment,
  inOneBlock,
  mined,
  modelConfig,
  NATIVE,
  NATIVE_FEE,
  randomImageCid,
  REJECT,
  rejection,
  request,
  signPermit,
  termsFromReceipt,
  TOKEN_FEE,
  type EscrowFixture,
  type RequestTerms,
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

describe("escrow review (issue 17)", () => {
  describe("finding 1: a callback the batch cannot fund", () => {
    it("is skipped and left pending; the rest of the batch settles", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const first = await consumerRequest(f, "GasBurningConsumer", 2_500_000n);
      const honest = await request(f, f.users[0]!, f.classifierId);
      const second = await consumerRequest(f, "GasBurningConsumer", 2_500_000n);
      const items = [fulfillment(first), fulfillment(honest), fulfillment(second)];
      // Enough for the first burner's 2.5M and the honest item, not for the second burner.
      const receipt = await mined(f.escrow.connect(f.oracle).fulfillBatch(items, { gasLimit: 3_500_000n }));
      const names = eventsOf(f.escrow, receipt).map(([name, id]) => `${name} ${id}`);
      expect(names).to.include(`PredictionFulfilled ${honest.requestId}`);
      expect(names).to.include(`SettlementSkipped ${second.requestId}`);
      expect(await f.escrow.isPending(second.requestId)).to.equal(true);
      expect(await f.escrow.isPending(honest.requestId)).to.equal(false);
    });
  });

  describe("finding 2: requesters bound what they pay and how long it is locked", () => {
    it("a fee raised in the request's own block pulls no more than the quoted fee", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const user = f.users[0]!; // holds an unlimited approval
      const [, quoted] = await f.escrow.quote(f.tokenModelId, 0n);
      const before = await f.token.balanceOf(user.address);
      const raised = modelConfig({ name: "squeezenet1.1-fp16", feeToken: await f.token.getAddress(), fee: TOKEN_FEE * 50n });
      await inOneBlock(connection, async () => [
        await f.escrow.updateModel(f.tokenModelId, raised, { gasLimit: 500_000n }),
        await f.escrow.connect(user).requestPrediction(f.tokenModelId, randomImageCid(), { gasLimit: 500_000n }),
      ]).catch(() => []);
      expect(before - (await f.token.balanceOf(user.address))).to.be.at.most(quoted);
    });

    it("a response window longer than 7 days is refused", async () => {
      const f = await loadFixture(deployEscrowFixture);
      await expect(f.escrow.registerModel(modelConfig({ name: "forever", responseWindow: 2n ** 32n - 1n }))).to.be.revert(f.ethers);
    });

    it("a callback gas price above the cap is refused", async () => {
      const f = await loadFixture(deployEscrowFixture);
      await expect(f.escrow.registerModel(modelConfig({ name: "dear", callbackGasPrice: 2n ** 64n - 1n }))).to.be.revert(f.ethers);
    });
  });

  describe("finding 3: only a model's operator settles its requests", () => {
    it("a second oracle copying a batch takes no fee", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const rogue = f.users[6]!;
      await mined(f.escrow.grantRole(await f.escrow.ORACLE_ROLE(), rogue.address));
      const terms = await request(f, f.users[0]!, f.classifierId);
      await f.escrow
        .connect(rogue)
        .fulfillBatch([fulfillment(terms)])
        .then((tx) => tx.wait())
        .catch(() => undefined);
      expect(await f.escrow.balanceOf(NATIVE, rogue.address)).to.equal(0n);
      expect(await f.escrow.isPending(terms.requestId)).to.equal(true);
    });
  });

  describe("finding 4: an EIP-7702 delegated requester", () => {
    it("gets its whole callback gas whenever the batch goes through", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const limit = 100_000n;
      const meter = (await f.ethers.deployContract("GasMeteringConsumer", [f.escrow])) as unknown as GasMeteringConsumer;
      const eoa = f.users[7]!;
      // Sponsored by another account, so the delegation's own call does not run the consumer.
      const authorization = await eoa.authorize({ address: await meter.getAddress() });
      await mined(f.admin.sendTransaction({ to: f.admin.address, type: 4, authorizationList: [authorization], gasLimit: 100_000n }));
      const terms = await request(f, eoa, f.classifierId, { callbackGasLimit: limit });
      const delegated = meter.attach(eoa.address) as GasMeteringConsumer;
      const batch = [fulfillment(terms)];
      const snapshot = await networkHelpers.takeSnapshot();
      await mined(f.escrow.connect(f.oracle).fulfillBatch(batch, { gasLimit: 5_000_000n }));
      const reference = await delegated.gasAtEntry();
      // The least gas a batch is mined with successfully.
      const succeeds = async (gasLimit: bigint) => {
        await snapshot.restore();
        return mined(f.escrow.connect(f.oracle).fulfillBatch(batch, { gasLimit })).then(
          (receipt) => eventsOf(f.escrow, receipt).some(([name]) => name === "PredictionFulfilled"),
          () => false,
        );
      };
      let [low, high] = [21_000n, 5_000_000n];
      while (high - low > 1n) {
        const mid = (low + high) / 2n;
        if (await succeeds(mid)) high = mid;
        else low = mid;
      }
      await succeeds(high);
      expect(await delegated.gasAtEntry()).to.equal(reference);
    });
  });

  describe("finding 5: fee tokens", () => {
    it("a token the admin has not allowed cannot price a model (a rebasing one least of all)", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const rebasing = await f.ethers.deployContract("RebasingToken");
      await expect(
        f.escrow.registerModel(modelConfig({ name: "rebasing", feeToken: await rebasing.getAddress(), fee: TOKEN_FEE })),
      ).to.be.revert(f.ethers);
    });
  });

  describe("finding 6: fulfilled and refunded are told apart", () => {
    it("CatBadge refunds no fulfilled request whose callback failed, so other submitters' refunds stay theirs", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const badge = (await f.ethers.deployContract("CatBadge", [f.escrow, f.classifierId, 6_000n])) as unknown as CatBadge;
      const submit = async (who: (typeof f.users)[number]) => {
        const fee = await badge.quote();
        return termsFromReceipt(f.escrow, await mined(badge.connect(who).submit(randomImageCid(), { value: fee })))[0]!;
      };
      const [a, b] = f.users;
      const answered = await submit(a!);
      const refused = await submit(b!);
      // Make the badge's next mint overflow its counter: its callback reverts.
      await networkHelpers.setStorageAt(await badge.getAddress(), 6n, 2n ** 256n - 1n);
      const receipt = await mined(f.escrow.connect(f.oracle).fulfillBatch([fulfillment(answered, 281, 9_000)]));
      expect(eventsOf(f.escrow, receipt).map(([name]) => name)).to.include("CallbackFailed");
      await mined(f.escrow.connect(f.oracle).rejectBatch([rejection(refused, REJECT.NotAnImage)]));
      await expect(badge.connect(a!).claimExpired(answered, a!.address)).to.be.revert(f.ethers);
      await expect(badge.connect(b!).claimExpired(refused, b!.address)).to.changeEtherBalance(f.ethers, b!, refused.fee, {
        includeFee: false,
      });
    });
  });

  describe("finding 8: details", () => {
    it("the protocol fee rounds up", async () => {
      const f = await loadFixture(deployEscrowFixture);
      await mined(f.escrow.registerModel(modelConfig({ name: "odd", fee: 19n, callbackGasPrice: 0n })));
      const terms = await request(f, f.users[0]!, await f.escrow.modelCount());
      await mined(f.escrow.connect(f.oracle).fulfillBatch([fulfillment(terms)]));
      expect(await f.escrow.balanceOf(NATIVE, f.treasury.address)).to.equal(1n); // 5% of 19 wei, rounded up
    });

    it("a permit is not used when the allowance already covers the fee: an unlimited approval stays unlimited", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const user = f.users[0]!;
      const [, fee] = await f.escrow.quote(f.tokenModelId, 0n);
      const escrowAddress = await f.escrow.getAddress();
      const permit = await signPermit(f.token, user, escrowAddress, fee, BigInt(await time.latest()) + 3_600n);
      await mined(f.escrow.connect(user).requestPredictionWithPermit(f.tokenModelId, randomImageCid(), 0n, permit));
      expect(await f.token.allowance(user.address, escrowAddress)).to.equal(f.ethers.MaxUint256);
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
      const fulfilReceipt = await mined(f.escrow.connect(f.oracle).fulfillBatch([fulfillment(fulfilled)]));
      expect(eventsOf(f.escrow, fulfilReceipt).at(-1)).to.include(f.treasury.address);
      await time.increaseTo(expired.deadline + 1n);
      const reclaimReceipt = await mined(f.escrow.reclaim(expired));
      expect(eventsOf(f.escrow, reclaimReceipt)[0]).to.deep.equal(["PredictionExpired", expired.requestId, expired.fee]);
    });

    it("withdraw refuses the zero address and the escrow itself as recipient", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const terms: RequestTerms = await request(f, f.users[0]!, f.classifierId);
      await mined(f.escrow.connect(f.oracle).rejectBatch([rejection(terms)]));
      await expect(f.escrow.connect(f.users[0]!).withdraw(NATIVE, NATIVE)).to.be.revert(f.ethers);
      await expect(f.escrow.connect(f.users[0]!).withdraw(NATIVE, await f.escrow.getAddress())).to.be.revert(f.ethers);
    });

    it("the admin role moves only by a delayed two-step transfer", async () => {
      const f = await loadFixture(deployEscrowFixture);
      await expect(f.escrow.grantRole(await f.escrow.DEFAULT_ADMIN_ROLE(), f.users[0]!.address)).to.be.revert(f.ethers);
    });

    it("a model without a callback gas price takes no callback requests", async () => {
      const f = await loadFixture(deployEscrowFixture);
      await mined(f.escrow.registerModel(modelConfig({ name: "free-callbacks", callbackGasPrice: 0n })));
      const modelId = await f.escrow.modelCount();
      await expect(
        f.escrow.connect(f.users[0]!).requestPredictionWithCallback(modelId, randomImageCid(), 100_000n, { value: NATIVE_FEE }),
      ).to.be.revert(f.ethers);
    });
  });
});
