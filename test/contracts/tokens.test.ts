/**
 * ERC-20 fees (tGLM): the approve path, the EIP-2612 permit path (including a permit
 * front-run by someone who saw it), refusal of fee-on-transfer tokens, and ETH sent to
 * a token-priced model.
 */
import { expect } from "chai";
import { network } from "hardhat";
import {
  CALLBACK_GAS_PRICE,
  MAX_CALLBACK_GAS_PRICE,
  deployEscrowFixture,
  eventsOf,
  mined,
  minedAt,
  modelConfig,
  NATIVE,
  NO_PERMIT,
  NATIVE_FEE,
  randomImageCid,
  RESPONSE_WINDOW,
  signPermit,
  termsFromReceipt,
  TOKEN_FEE,
  type EscrowFixture,
  ANY_FEE,
  ANY_DEADLINE,
} from "../support/escrow.ts";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";

const connection = await network.create();
const { networkHelpers } = connection;
const { loadFixture, time } = networkHelpers;

/** A funded account that has not approved the escrow (the fixture's users all have). */
async function freshHolder(f: EscrowFixture): Promise<HardhatEthersSigner> {
  const holder = f.users[8]!;
  await mined(f.token.mint(holder.address, 100n * TOKEN_FEE));
  return holder;
}

async function permitDeadline(): Promise<bigint> {
  return BigInt(await time.latest()) + 3_600n;
}

describe("PredictionEscrow token fees", () => {
  describe("approve path", () => {
    it("pulls exactly the quoted fee and escrows it", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const user = f.users[0]!;
      const cid = randomImageCid();
      const fee = TOKEN_FEE + 70_000n * CALLBACK_GAS_PRICE;
      expect(await f.escrow.quote(f.tokenModelId, 70_000n)).to.deep.equal([await f.token.getAddress(), fee]);
      const tx = f.escrow.connect(user).requestPredictionWithCallback(f.tokenModelId, cid, 70_000n, ANY_FEE, ANY_DEADLINE);
      await expect(tx).to.changeTokenBalances(f.ethers, f.token, [user, f.escrow], [-fee, fee]);
      await expect(tx).to.changeEtherBalance(f.ethers, f.escrow, 0n);
      const receipt = await mined(tx);
      const [terms] = termsFromReceipt(f.escrow, receipt);
      expect(eventsOf(f.escrow, receipt)).to.deep.equal([
        [
          "PredictionRequested",
          terms!.requestId,
          user.address,
          f.tokenModelId,
          cid,
          fee,
          (await minedAt(f.ethers, receipt)) + RESPONSE_WINDOW,
          70_000n,
        ],
      ]);
      expect(await f.escrow.isPending(terms!.requestId)).to.equal(true);
    });

    it("reverts IncorrectPayment(0, value) when ETH is sent to a token-priced model", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const user = f.users[0]!;
      await expect(f.escrow.connect(user).requestPrediction(f.tokenModelId, randomImageCid(), ANY_FEE, ANY_DEADLINE, { value: 1n }))
        .to.be.revertedWithCustomError(f.escrow, "IncorrectPayment")
        .withArgs(0n, 1n);
      await expect(
        f.escrow
          .connect(user)
          .requestPredictionWithCallback(f.tokenModelId, randomImageCid(), 1_000n, ANY_FEE, ANY_DEADLINE, { value: TOKEN_FEE }),
      )
        .to.be.revertedWithCustomError(f.escrow, "IncorrectPayment")
        .withArgs(0n, TOKEN_FEE);
    });

    it("bubbles the token's error for a missing allowance or balance, leaving nothing behind", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const holder = await freshHolder(f);
      const escrow = await f.escrow.getAddress();
      await expect(f.escrow.connect(holder).requestPrediction(f.tokenModelId, randomImageCid(), ANY_FEE, ANY_DEADLINE))
        .to.be.revertedWithCustomError(f.token, "ERC20InsufficientAllowance")
        .withArgs(escrow, 0n, TOKEN_FEE);
      await mined(f.token.connect(holder).approve(escrow, TOKEN_FEE - 1n));
      await expect(f.escrow.connect(holder).requestPrediction(f.tokenModelId, randomImageCid(), ANY_FEE, ANY_DEADLINE))
        .to.be.revertedWithCustomError(f.token, "ERC20InsufficientAllowance")
        .withArgs(escrow, TOKEN_FEE - 1n, TOKEN_FEE);
      const broke = f.users[9]!;
      await mined(f.token.connect(broke).approve(escrow, TOKEN_FEE));
      await expect(f.escrow.connect(broke).requestPrediction(f.tokenModelId, randomImageCid(), ANY_FEE, ANY_DEADLINE))
        .to.be.revertedWithCustomError(f.token, "ERC20InsufficientBalance")
        .withArgs(broke.address, 0n, TOKEN_FEE);
      expect(await f.token.balanceOf(escrow)).to.equal(0n);
    });

    it("refuses a fee-on-transfer token with UnsupportedToken, even one the admin listed by mistake", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const taxed = await f.ethers.deployContract("FeeOnTransferToken");
      const taxedAddress = await taxed.getAddress();
      await mined(f.escrow.setFeeToken(taxedAddress, true, MAX_CALLBACK_GAS_PRICE));
      await mined(f.escrow.registerModel(modelConfig({ name: "taxed", feeToken: taxedAddress, fee: 10_000n }), f.oracle.address));
      const user = f.users[0]!;
      await mined(taxed.mint(user.address, 1_000_000n));
      await mined(taxed.connect(user).approve(await f.escrow.getAddress(), 1_000_000n));
      await expect(f.escrow.connect(user).requestPrediction(4n, randomImageCid(), ANY_FEE, ANY_DEADLINE))
        .to.be.revertedWithCustomError(f.escrow, "UnsupportedToken")
        .withArgs(taxedAddress);
      await expect(f.escrow.connect(user).requestPredictionWithPermit(4n, randomImageCid(), 0n, ANY_FEE, ANY_DEADLINE, NO_PERMIT))
        .to.be.revertedWithCustomError(f.escrow, "UnsupportedToken")
        .withArgs(taxedAddress);
      expect(await taxed.balanceOf(await f.escrow.getAddress())).to.equal(0n);
    });
  });

  describe("requestPredictionWithPermit", () => {
    it("pays with a permit for exactly the quote, without a prior approval", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const holder = await freshHolder(f);
      const escrow = await f.escrow.getAddress();
      const fee = TOKEN_FEE + 50_000n * CALLBACK_GAS_PRICE;
      const permit = await signPermit(f.token, holder, escrow, fee, await permitDeadline());
      const tx = f.escrow.connect(holder).requestPredictionWithPermit(f.tokenModelId, randomImageCid(), 50_000n, fee, ANY_DEADLINE, permit);
      await expect(tx).to.changeTokenBalances(f.ethers, f.token, [holder, f.escrow], [-fee, fee]);
      const [terms] = termsFromReceipt(f.escrow, await mined(tx));
      expect([terms!.requester, terms!.fee, terms!.callbackGasLimit]).to.deep.equal([holder.address, fee, 50_000n]);
      expect(await f.token.nonces(holder.address)).to.equal(1n);
      expect(await f.token.allowance(holder.address, escrow)).to.equal(0n);
    });

    it("still succeeds when someone front-ran the permit: the allowance it set counts", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const holder = await freshHolder(f);
      const escrow = await f.escrow.getAddress();
      const permit = await signPermit(f.token, holder, escrow, TOKEN_FEE, await permitDeadline());
      // A watcher of the mempool submits the permit first.
      await mined(f.token.connect(f.users[7]!).permit(holder.address, escrow, TOKEN_FEE, permit.deadline, permit.v, permit.r, permit.s));
      expect(await f.token.allowance(holder.address, escrow)).to.equal(TOKEN_FEE);
      const tx = f.escrow
        .connect(holder)
        .requestPredictionWithPermit(f.tokenModelId, randomImageCid(), 0n, TOKEN_FEE, ANY_DEADLINE, permit);
      await expect(tx).to.changeTokenBalances(f.ethers, f.token, [holder, f.escrow], [-TOKEN_FEE, TOKEN_FEE]);
      expect(termsFromReceipt(f.escrow, await mined(tx))[0]!.requester).to.equal(holder.address);
      expect(await f.token.allowance(holder.address, escrow)).to.equal(0n);
    });

    it("ignores an unusable permit when the allowance already suffices (and with a token without permit)", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const user = f.users[0]!; // approved by the fixture
      await mined(
        f.escrow.connect(user).requestPredictionWithPermit(f.tokenModelId, randomImageCid(), 0n, ANY_FEE, ANY_DEADLINE, NO_PERMIT),
      );
      const plain = await f.ethers.deployContract("PlainToken");
      await mined(f.escrow.setFeeToken(await plain.getAddress(), true, MAX_CALLBACK_GAS_PRICE));
      await mined(f.escrow.registerModel(modelConfig({ name: "plain", feeToken: await plain.getAddress(), fee: 777n }), f.oracle.address));
      await mined(plain.mint(user.address, 1_000n));
      await mined(plain.connect(user).approve(await f.escrow.getAddress(), 777n));
      const tx = f.escrow.connect(user).requestPredictionWithPermit(4n, randomImageCid(), 0n, ANY_FEE, ANY_DEADLINE, NO_PERMIT);
      await expect(tx).to.changeTokenBalances(f.ethers, plain, [user, f.escrow], [-777n, 777n]);
    });

    it("takes a permit signed for maxFee above the fee: pulls the fee, the rest of the allowance stays", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const holder = await freshHolder(f);
      const escrow = await f.escrow.getAddress();
      const maxFee = TOKEN_FEE + 10n;
      const permit = await signPermit(f.token, holder, escrow, maxFee, await permitDeadline());
      const tx = f.escrow.connect(holder).requestPredictionWithPermit(f.tokenModelId, randomImageCid(), 0n, maxFee, ANY_DEADLINE, permit);
      await expect(tx).to.changeTokenBalances(f.ethers, f.token, [holder, f.escrow], [-TOKEN_FEE, TOKEN_FEE]);
      expect(await f.token.allowance(holder.address, escrow)).to.equal(10n);
    });

    it("reverts with the token's allowance error when the permit is unusable and nothing was approved", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const holder = await freshHolder(f);
      const escrow = await f.escrow.getAddress();
      const deadline = await permitDeadline();
      const cases = [
        ["signed for another value than maxFee", await signPermit(f.token, holder, escrow, TOKEN_FEE + 1n, deadline)],
        ["signed for another spender", await signPermit(f.token, holder, f.users[7]!.address, TOKEN_FEE, deadline)],
        ["signed by someone else", await signPermit(f.token, f.users[0]!, escrow, TOKEN_FEE, deadline)],
        ["garbage", NO_PERMIT],
      ] as const;
      for (const [label, permit] of cases) {
        await expect(
          f.escrow.connect(holder).requestPredictionWithPermit(f.tokenModelId, randomImageCid(), 0n, TOKEN_FEE, ANY_DEADLINE, permit),
          label,
        )
          .to.be.revertedWithCustomError(f.token, "ERC20InsufficientAllowance")
          .withArgs(escrow, 0n, TOKEN_FEE);
      }
      // Expired: the permit's own deadline has passed.
      const stale = await signPermit(f.token, holder, escrow, TOKEN_FEE, BigInt(await time.latest()) + 10n);
      await time.increase(60n);
      await expect(
        f.escrow.connect(holder).requestPredictionWithPermit(f.tokenModelId, randomImageCid(), 0n, TOKEN_FEE, ANY_DEADLINE, stale),
      )
        .to.be.revertedWithCustomError(f.token, "ERC20InsufficientAllowance")
        .withArgs(escrow, 0n, TOKEN_FEE);
      expect(await f.token.nonces(holder.address)).to.equal(0n);
    });

    it("reverts NotTokenPriced for a native model, UnknownModel for an unregistered one", async () => {
      const f = await loadFixture(deployEscrowFixture);
      for (const modelId of [f.classifierId, f.detectorId]) {
        await expect(
          f.escrow.connect(f.users[0]!).requestPredictionWithPermit(modelId, randomImageCid(), 0n, ANY_FEE, ANY_DEADLINE, NO_PERMIT),
        )
          .to.be.revertedWithCustomError(f.escrow, "NotTokenPriced")
          .withArgs(modelId);
      }
      for (const modelId of [0n, 4n]) {
        await expect(
          f.escrow.connect(f.users[0]!).requestPredictionWithPermit(modelId, randomImageCid(), 0n, ANY_FEE, ANY_DEADLINE, NO_PERMIT),
        )
          .to.be.revertedWithCustomError(f.escrow, "UnknownModel")
          .withArgs(modelId);
      }
    });

    it("applies every request check: inactive model, pause, CID, callback limit", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const holder = await freshHolder(f);
      const escrow = await f.escrow.getAddress();
      const permit = await signPermit(f.token, holder, escrow, TOKEN_FEE, await permitDeadline());
      const send = (cid = randomImageCid(), limit = 0n) =>
        f.escrow.connect(holder).requestPredictionWithPermit(f.tokenModelId, cid, limit, TOKEN_FEE, ANY_DEADLINE, permit);
      await expect(send("0x01")).to.be.revertedWithCustomError(f.escrow, "InvalidImageCid");
      await expect(send(randomImageCid(), 2_500_001n))
        .to.be.revertedWithCustomError(f.escrow, "CallbackGasLimitTooHigh")
        .withArgs(2_500_001n, 2_500_000n);
      await mined(f.escrow.setModelActive(f.tokenModelId, false));
      await expect(send()).to.be.revertedWithCustomError(f.escrow, "ModelNotActive").withArgs(f.tokenModelId);
      await mined(f.escrow.setModelActive(f.tokenModelId, true));
      await mined(f.escrow.pause());
      await expect(send()).to.be.revertedWithCustomError(f.escrow, "EnforcedPause");
      // None of the failed attempts consumed the permit.
      expect(await f.token.nonces(holder.address)).to.equal(0n);
      await mined(f.escrow.unpause());
      await expect(send()).to.changeTokenBalance(f.ethers, f.token, holder, -TOKEN_FEE);
    });

    it("is not payable", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const data = f.escrow.interface.encodeFunctionData("requestPredictionWithPermit", [
        f.tokenModelId,
        randomImageCid(),
        0n,
        ANY_FEE,
        ANY_DEADLINE,
        NO_PERMIT,
      ]);
      await expect(f.users[0]!.sendTransaction({ to: await f.escrow.getAddress(), data, value: NATIVE_FEE })).to.revert(f.ethers);
      expect(await f.ethers.provider.getBalance(f.escrow)).to.equal(0n);
      expect(await f.escrow.balanceOf(NATIVE, f.users[0]!.address)).to.equal(0n);
    });
  });
});
