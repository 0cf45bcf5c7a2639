/**
 * Requests paid by a signed EIP-3009 authorization (`requestPredictionWithAuthorization`):
 * a payer holding tUSDC and no ETH gets a request of its own through a relayer; the
 * authorization is spent once, only on the request its nonce commits to, only by the
 * escrow, for exactly the fee; rejection and expiry refund the payer, never the relayer;
 * and the client's nonce helper computes what the contract's library does.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { getAddress, keccak256, toUtf8Bytes, Wallet } from "ethers";
import type { Address, Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import {
  REQUEST_AUTHORIZATION_TYPES,
  receiveAuthorizationArgument,
  receiveAuthorizationMessage,
  receiveAuthorizationTypedData,
  requestAuthorizationNonce,
} from "@argus/escrow/request-authorization";
import {
  ANY_DEADLINE,
  eventsOf,
  fulfil,
  fulfillment,
  mined,
  minedAt,
  modelConfig,
  protocolCut,
  randomImageCid,
  REJECT,
  rejection,
  RESPONSE_WINDOW,
  STATUS,
  TASK,
  TOKEN_FEE,
  termsFromReceipt,
} from "../support/escrow.ts";
import {
  type AuthorizationFixture,
  authorizedCall,
  deployAuthorizationFixture,
  nonceOf,
  relay,
  signAuthorization,
  USDC,
  USDC_CALLBACK_GAS_PRICE,
  USDC_FEE,
} from "../support/authorization.ts";
import type { RequestAuthorizationProbe, TestUSDC } from "../../types/ethers-contracts/index.ts";

const connection = await network.create();
const { loadFixture, time } = connection.networkHelpers;

/** A second tUSDC model (a detector, same fee): somewhere a relayer might redirect a payment to. */
async function secondUsdcModel(f: AuthorizationFixture): Promise<bigint> {
  await mined(
    f.escrow.registerModel(
      modelConfig({
        name: "fastestdet-coco80",
        task: TASK.Detection,
        feeToken: await f.usdc.getAddress(),
        fee: USDC_FEE,
        callbackGasPrice: USDC_CALLBACK_GAS_PRICE,
      }),
      f.oracle.address,
    ),
  );
  return f.escrow.modelCount();
}

describe("PredictionEscrow requests paid by EIP-3009 authorization", () => {
  describe("a payer without ETH, through a relayer", () => {
    it("records the request as the payer's, pulls exactly the fee from it, and leaves the relayer's tokens alone", async () => {
      const f = await loadFixture(deployAuthorizationFixture);
      expect(await f.ethers.provider.getBalance(f.payer.address)).to.equal(0n);
      const call = await authorizedCall(f);
      const authorization = await signAuthorization(f, f.payer, call);
      const tx = relay(f, call, authorization);
      await expect(tx).to.changeTokenBalances(f.ethers, f.usdc, [f.payer.address, f.escrow, f.relayer], [-USDC_FEE, USDC_FEE, 0n]);
      const receipt = await mined(tx);
      const [terms] = termsFromReceipt(f.escrow, receipt);
      expect(eventsOf(f.escrow, receipt)).to.deep.equal([
        [
          "PredictionRequested",
          terms!.requestId,
          f.payer.address,
          f.usdcModelId,
          call.imageCid,
          USDC_FEE,
          (await minedAt(f.ethers, receipt)) + RESPONSE_WINDOW,
          0n,
        ],
      ]);
      expect(eventsOf(f.usdc, receipt).map(([name]) => name)).to.deep.equal(["AuthorizationUsed", "Transfer"]);
      expect(await f.usdc.authorizationState(f.payer.address, authorization.nonce)).to.equal(true);
      expect(await f.escrow.statusOf(terms!.requestId)).to.equal(STATUS.Pending);
      expect(await f.ethers.provider.getBalance(f.payer.address)).to.equal(0n);

      // Settled like any request: the operator is paid in tUSDC.
      await mined(fulfil(f, [fulfillment(terms!)]));
      expect(await f.escrow.statusOf(terms!.requestId)).to.equal(STATUS.Fulfilled);
      expect(await f.escrow.balanceOf(await f.usdc.getAddress(), f.oracle.address)).to.equal(USDC_FEE - protocolCut(USDC_FEE));
    });

    it("charges the callback gas too, the payer being the callback's consumer", async () => {
      const f = await loadFixture(deployAuthorizationFixture);
      const call = await authorizedCall(f, { callbackGasLimit: 50_000n });
      const fee = USDC_FEE + 50_000n * USDC_CALLBACK_GAS_PRICE;
      expect(call.maxFee).to.equal(fee);
      const authorization = await signAuthorization(f, f.payer, call);
      expect(authorization.value).to.equal(fee);
      const tx = relay(f, call, authorization);
      await expect(tx).to.changeTokenBalances(f.ethers, f.usdc, [f.payer.address, f.escrow], [-fee, fee]);
      const [terms] = termsFromReceipt(f.escrow, await mined(tx));
      expect([terms!.requester, terms!.fee, terms!.callbackGasLimit]).to.deep.equal([f.payer.address, fee, 50_000n]);
    });

    it("lets the payer relay its own authorization (the payment is still by authorization, not allowance)", async () => {
      const f = await loadFixture(deployAuthorizationFixture);
      const holder = f.users[0]!; // holds ETH; has approved tGLM only
      await mined(f.usdc.mint(holder.address, USDC));
      const call = await authorizedCall(f);
      const authorization = await signAuthorization(f, holder, call);
      await expect(relay(f, call, authorization, holder)).to.changeTokenBalance(f.ethers, f.usdc, holder, -USDC_FEE);
      expect(await f.usdc.allowance(holder.address, await f.escrow.getAddress())).to.equal(0n);
    });
  });

  describe("one payment, one request", () => {
    it("refuses a replay of the same authorization (the token's authorizationState), by any relayer", async () => {
      const f = await loadFixture(deployAuthorizationFixture);
      const call = await authorizedCall(f);
      const authorization = await signAuthorization(f, f.payer, call);
      await mined(relay(f, call, authorization));
      for (const relayer of [f.relayer, f.users[6]!]) {
        await expect(relay(f, call, authorization, relayer))
          .to.be.revertedWithCustomError(f.usdc, "ERC3009UsedAuthorization")
          .withArgs(f.payer.address, authorization.nonce);
      }
      expect(await f.usdc.balanceOf(await f.escrow.getAddress())).to.equal(USDC_FEE);
      // The same request again needs a nonce of its own: another latestDeadline gives it one.
      const again = { ...call, latestDeadline: call.latestDeadline - 1n };
      await expect(relay(f, again, await signAuthorization(f, f.payer, again))).to.changeTokenBalance(
        f.ethers,
        f.usdc,
        f.payer.address,
        -USDC_FEE,
      );
    });

    it("refuses an authorization whose nonce commits to another request with AuthorizationNonceMismatch", async () => {
      const f = await loadFixture(deployAuthorizationFixture);
      const otherModel = await secondUsdcModel(f);
      const call = await authorizedCall(f);
      const authorization = await signAuthorization(f, f.payer, call);
      const redirections = [
        ["another model", { ...call, modelId: otherModel }],
        ["another image", { ...call, imageCid: randomImageCid() }],
        ["a higher maxFee", { ...call, maxFee: call.maxFee + 1n }],
        ["a callback", { ...call, callbackGasLimit: 1n, maxFee: call.maxFee + 1n }],
        ["a later latestDeadline", { ...call, latestDeadline: call.latestDeadline - 1n }],
      ] as const;
      for (const [label, other] of redirections) {
        await expect(relay(f, other, authorization), label)
          .to.be.revertedWithCustomError(f.escrow, "AuthorizationNonceMismatch")
          .withArgs(await nonceOf(f, other), authorization.nonce);
      }
      // Nonces of the same request at another escrow or on another chain do not pass either.
      const { chainId } = await f.ethers.provider.getNetwork();
      const elsewhere = [
        await nonceOf(f, call, f.users[5]!.address),
        requestAuthorizationNonce({
          escrow: (await f.escrow.getAddress()) as Address,
          chainId: chainId + 1n,
          modelId: Number(call.modelId),
          imageCid: call.imageCid as Hex,
          maxFee: call.maxFee,
          callbackGasLimit: 0,
          latestDeadline: call.latestDeadline,
        }),
      ];
      for (const nonce of elsewhere) {
        await expect(relay(f, call, await signAuthorization(f, f.payer, call, { nonce })))
          .to.be.revertedWithCustomError(f.escrow, "AuthorizationNonceMismatch")
          .withArgs(authorization.nonce, nonce);
      }
      expect(await f.usdc.balanceOf(f.payer.address)).to.equal(1_000n * USDC);
      // Presented with its own request, it still pays.
      await expect(relay(f, call, authorization)).to.changeTokenBalance(f.ethers, f.usdc, f.payer.address, -USDC_FEE);
    });

    it("cannot be made to name the relayer as the requester: the token checks the signature against `from`", async () => {
      const f = await loadFixture(deployAuthorizationFixture);
      await mined(f.usdc.mint(f.relayer.address, USDC));
      const call = await authorizedCall(f);
      const authorization = await signAuthorization(f, f.payer, call);
      await expect(relay(f, call, { ...authorization, from: f.relayer.address })).to.be.revertedWithCustomError(
        f.usdc,
        "ERC3009InvalidSignature",
      );
      // Signed by someone else for the payer's account: refused the same way.
      const forged = await signAuthorization(f, f.users[0]!, call);
      await expect(relay(f, call, { ...forged, from: f.payer.address })).to.be.revertedWithCustomError(f.usdc, "ERC3009InvalidSignature");
    });

    it("cannot be spent by a front-runner calling the token directly", async () => {
      const f = await loadFixture(deployAuthorizationFixture);
      const attacker = f.users[6]!;
      const escrow = await f.escrow.getAddress();
      const call = await authorizedCall(f);
      const a = await signAuthorization(f, f.payer, call);
      const token = f.usdc.connect(attacker);
      // receiveWithAuthorization only by its `to`, the escrow.
      await expect(token.receiveWithAuthorization(a.from, escrow, a.value, a.validAfter, a.validBefore, a.nonce, a.v, a.r, a.s))
        .to.be.revertedWithCustomError(f.usdc, "ERC20InvalidReceiver")
        .withArgs(escrow);
      // Redirected to the attacker, or replayed as a transferWithAuthorization: the signature does not match.
      await expect(
        token.receiveWithAuthorization(a.from, attacker.address, a.value, a.validAfter, a.validBefore, a.nonce, a.v, a.r, a.s),
      ).to.be.revertedWithCustomError(f.usdc, "ERC3009InvalidSignature");
      await expect(
        token.transferWithAuthorization(a.from, escrow, a.value, a.validAfter, a.validBefore, a.nonce, a.v, a.r, a.s),
      ).to.be.revertedWithCustomError(f.usdc, "ERC3009InvalidSignature");
      expect(await f.usdc.authorizationState(f.payer.address, a.nonce)).to.equal(false);
      await expect(relay(f, call, a)).to.changeTokenBalance(f.ethers, f.usdc, f.payer.address, -USDC_FEE);
    });

    it("takes exactly the fee: another value, or a fee changed since signing, reverts and nothing moves", async () => {
      const f = await loadFixture(deployAuthorizationFixture);
      const call = await authorizedCall(f, { maxFee: USDC_FEE + 5_000n });
      for (const value of [USDC_FEE + 5_000n, USDC_FEE - 1n]) {
        await expect(relay(f, call, await signAuthorization(f, f.payer, call, { value })))
          .to.be.revertedWithCustomError(f.escrow, "AuthorizationValueMismatch")
          .withArgs(value, USDC_FEE);
      }
      const signed = await signAuthorization(f, f.payer, call);
      const usdc = await f.usdc.getAddress();
      const update = (fee: bigint) =>
        mined(f.escrow.updateModel(f.usdcModelId, modelConfig({ feeToken: usdc, fee, callbackGasPrice: USDC_CALLBACK_GAS_PRICE })));
      await update(USDC_FEE - 1_000n); // cheaper now: the signed value is no longer the fee
      await expect(relay(f, call, signed))
        .to.be.revertedWithCustomError(f.escrow, "AuthorizationValueMismatch")
        .withArgs(USDC_FEE, USDC_FEE - 1_000n);
      await update(USDC_FEE + 5_001n); // dearer than maxFee
      await expect(relay(f, call, signed))
        .to.be.revertedWithCustomError(f.escrow, "FeeAboveMax")
        .withArgs(USDC_FEE + 5_001n, call.maxFee);
      expect(await f.usdc.balanceOf(f.payer.address)).to.equal(1_000n * USDC);
      expect(await f.usdc.authorizationState(f.payer.address, signed.nonce)).to.equal(false);
      await update(USDC_FEE); // back to what was signed: it pays
      await expect(relay(f, call, signed)).to.changeTokenBalance(f.ethers, f.usdc, f.payer.address, -USDC_FEE);
    });
  });

  describe("refunds go to the payer", () => {
    it("credits a rejected request's fee to the payer, not the relayer", async () => {
      const f = await loadFixture(deployAuthorizationFixture);
      const usdc = await f.usdc.getAddress();
      const call = await authorizedCall(f);
      const [terms] = termsFromReceipt(f.escrow, await mined(relay(f, call, await signAuthorization(f, f.payer, call))));
      const receipt = await mined(f.escrow.connect(f.oracle).rejectBatch([rejection(terms!, REJECT.NotAnImage)]));
      expect(eventsOf(f.escrow, receipt)).to.deep.equal([["PredictionRejected", terms!.requestId, REJECT.NotAnImage, USDC_FEE]]);
      expect(await f.escrow.balanceOf(usdc, f.payer.address)).to.equal(USDC_FEE);
      expect(await f.escrow.balanceOf(usdc, f.relayer.address)).to.equal(0n);
      await expect(f.escrow.connect(f.relayer).withdraw(usdc, f.relayer.address)).to.be.revertedWithCustomError(
        f.escrow,
        "NothingToWithdraw",
      );
      // Withdrawing is a transaction of the payer's own: it needs gas money for that.
      await connection.networkHelpers.setBalance(f.payer.address, 10n ** 16n);
      await expect(f.escrow.connect(f.payer).withdraw(usdc, f.payer.address)).to.changeTokenBalance(
        f.ethers,
        f.usdc,
        f.payer.address,
        USDC_FEE,
      );
    });

    it("credits an expired request's fee to the payer, whoever reclaims it", async () => {
      const f = await loadFixture(deployAuthorizationFixture);
      const usdc = await f.usdc.getAddress();
      const call = await authorizedCall(f, { callbackGasLimit: 10_000n });
      const [terms] = termsFromReceipt(f.escrow, await mined(relay(f, call, await signAuthorization(f, f.payer, call))));
      await time.increase(RESPONSE_WINDOW + 1n);
      const receipt = await mined(f.escrow.connect(f.relayer).reclaim(terms!));
      expect(eventsOf(f.escrow, receipt)).to.deep.equal([["PredictionExpired", terms!.requestId, call.maxFee]]);
      expect(await f.escrow.balanceOf(usdc, f.payer.address)).to.equal(call.maxFee);
      expect(await f.escrow.balanceOf(usdc, f.relayer.address)).to.equal(0n);
    });
  });

  describe("the checks every request passes, and the token's own", () => {
    it("reverts NotTokenPriced for a native model and UnknownModel for an unregistered one", async () => {
      const f = await loadFixture(deployAuthorizationFixture);
      const native = await authorizedCall(f, { modelId: f.classifierId });
      await expect(relay(f, native, await signAuthorization(f, f.payer, native)))
        .to.be.revertedWithCustomError(f.escrow, "NotTokenPriced")
        .withArgs(f.classifierId);
      const unknown = { ...native, modelId: 99n };
      await expect(relay(f, unknown, await signAuthorization(f, f.payer, unknown, { value: USDC_FEE })))
        .to.be.revertedWithCustomError(f.escrow, "UnknownModel")
        .withArgs(99n);
    });

    it("applies the request checks (CID, pause, inactive model, deadline) before the token is called", async () => {
      const f = await loadFixture(deployAuthorizationFixture);
      const attempt = async (changes: Parameters<typeof authorizedCall>[1]) => {
        const call = await authorizedCall(f, changes);
        return relay(f, call, await signAuthorization(f, f.payer, call));
      };
      await expect(attempt({ imageCid: "0x01" })).to.be.revertedWithCustomError(f.escrow, "InvalidImageCid");
      await expect(attempt({ latestDeadline: BigInt(await time.latest()) })).to.be.revertedWithCustomError(f.escrow, "DeadlineTooLate");
      await expect(attempt({ callbackGasLimit: 2_500_001n }))
        .to.be.revertedWithCustomError(f.escrow, "CallbackGasLimitTooHigh")
        .withArgs(2_500_001n, 2_500_000n);
      await mined(f.escrow.setModelActive(f.usdcModelId, false));
      await expect(attempt({})).to.be.revertedWithCustomError(f.escrow, "ModelNotActive").withArgs(f.usdcModelId);
      await mined(f.escrow.setModelActive(f.usdcModelId, true));
      await mined(f.escrow.pause());
      await expect(attempt({})).to.be.revertedWithCustomError(f.escrow, "EnforcedPause");
      await mined(f.escrow.unpause());
      expect(await f.usdc.balanceOf(f.payer.address)).to.equal(1_000n * USDC);
    });

    it("refuses a currency the admin no longer allows, and a token that does not arrive in full", async () => {
      const f = await loadFixture(deployAuthorizationFixture);
      const usdc = await f.usdc.getAddress();
      await mined(f.escrow.setFeeToken(usdc, false, 0n));
      const call = await authorizedCall(f);
      await expect(relay(f, call, await signAuthorization(f, f.payer, call)))
        .to.be.revertedWithCustomError(f.escrow, "FeeTokenNotAllowed")
        .withArgs(usdc);

      const taxed = (await f.ethers.deployContract("FeeOnTransferUSDC")) as unknown as TestUSDC;
      const taxedAddress = await taxed.getAddress();
      await mined(f.escrow.setFeeToken(taxedAddress, true, 0n));
      await mined(
        f.escrow.registerModel(
          modelConfig({ name: "taxed", feeToken: taxedAddress, fee: 10_000n, callbackGasPrice: 0n }),
          f.oracle.address,
        ),
      );
      await mined(taxed.mint(f.payer.address, USDC));
      const taxedCall = await authorizedCall(f, { modelId: await f.escrow.modelCount() });
      await expect(relay(f, taxedCall, await signAuthorization(f, f.payer, taxedCall, { token: taxed })))
        .to.be.revertedWithCustomError(f.escrow, "UnsupportedToken")
        .withArgs(taxedAddress);
    });

    it("fails with the token: outside the validity window, without the balance, or without EIP-3009 at all", async () => {
      const f = await loadFixture(deployAuthorizationFixture);
      const now = BigInt(await time.latest());
      const call = await authorizedCall(f);
      for (const window of [{ validBefore: now }, { validAfter: now + 600n }]) {
        await expect(relay(f, call, await signAuthorization(f, f.payer, call, window))).to.be.revertedWithCustomError(
          f.usdc,
          "ERC3009InvalidAuthorizationTime",
        );
      }
      const broke = new Wallet(keccak256(toUtf8Bytes("argus: a payer without tUSDC")));
      await expect(relay(f, call, await signAuthorization(f, broke, call)))
        .to.be.revertedWithCustomError(f.usdc, "ERC20InsufficientBalance")
        .withArgs(broke.address, 0n, USDC_FEE);
      // tGLM has a permit but no receiveWithAuthorization.
      const glmCall = await authorizedCall(f, { modelId: f.tokenModelId });
      expect(glmCall.maxFee).to.equal(TOKEN_FEE);
      await expect(relay(f, glmCall, await signAuthorization(f, f.payer, glmCall))).to.revert(f.ethers);
    });

    it("is not payable", async () => {
      const f = await loadFixture(deployAuthorizationFixture);
      const call = await authorizedCall(f);
      const authorization = await signAuthorization(f, f.payer, call);
      const data = f.escrow.interface.encodeFunctionData("requestPredictionWithAuthorization", [
        call.modelId,
        call.imageCid,
        call.callbackGasLimit,
        call.maxFee,
        call.latestDeadline,
        authorization,
      ]);
      await expect(f.relayer.sendTransaction({ to: await f.escrow.getAddress(), data, value: 1n })).to.revert(f.ethers);
    });
  });

  describe("the nonce: one definition in Solidity, one in TypeScript", () => {
    it("RequestAuthorizationLib and requestAuthorizationNonce agree, field by field, at each field's extremes", async () => {
      const probe = (await connection.ethers.deployContract("RequestAuthorizationProbe")) as unknown as RequestAuthorizationProbe;
      const type = `ArgusPredictionRequest(${REQUEST_AUTHORIZATION_TYPES.ArgusPredictionRequest.map((m) => `${m.type} ${m.name}`).join(",")})`;
      expect(await probe.requestTypehash()).to.equal(keccak256(toUtf8Bytes(type)));

      const base = {
        escrow: getAddress(`0x${"12".repeat(20)}`) as Address,
        chainId: 31_337n,
        modelId: 4,
        imageCid: randomImageCid() as Hex,
        maxFee: USDC_FEE,
        callbackGasLimit: 100_000,
        latestDeadline: 1_900_000_000n,
      };
      const cases = [
        base,
        { ...base, escrow: "0x0000000000000000000000000000000000000000" as Address, chainId: 0n, modelId: 0, imageCid: "0x" as Hex },
        { ...base, maxFee: 0n, callbackGasLimit: 0, latestDeadline: 0n },
        {
          escrow: "0xFFfFfFffFFfffFFfFFfFFFFFffFFFffffFfFFFfF" as Address,
          chainId: 2n ** 256n - 1n,
          modelId: 2 ** 32 - 1,
          imageCid: `0x${"ff".repeat(128)}` as Hex,
          maxFee: 2n ** 256n - 1n,
          callbackGasLimit: 2 ** 32 - 1,
          latestDeadline: ANY_DEADLINE,
        },
      ];
      const seen = new Set<string>();
      for (const c of cases) {
        const onChain = await probe.nonce(c.escrow, c.chainId, c.modelId, c.imageCid, c.maxFee, c.callbackGasLimit, c.latestDeadline);
        expect(requestAuthorizationNonce(c)).to.equal(onChain);
        seen.add(onChain);
      }
      expect(seen.size).to.equal(cases.length);
    });

    it("the client's message, typed data and argument, signed with viem, pay for the request", async () => {
      const f = await loadFixture(deployAuthorizationFixture);
      const call = await authorizedCall(f, { callbackGasLimit: 20_000n });
      const escrow = (await f.escrow.getAddress()) as Address;
      const { chainId } = await f.ethers.provider.getNetwork();
      const [, name, version] = await f.usdc.eip712Domain();
      const request = {
        escrow,
        chainId,
        modelId: Number(call.modelId),
        imageCid: call.imageCid as Hex,
        maxFee: call.maxFee,
        callbackGasLimit: Number(call.callbackGasLimit),
        latestDeadline: call.latestDeadline,
      };
      const payer = privateKeyToAccount(f.payer.privateKey as Hex);
      const message = receiveAuthorizationMessage(request, {
        from: payer.address,
        fee: call.maxFee,
        validBefore: BigInt(await time.latest()) + 600n,
      });
      expect(message).to.deep.include({ to: escrow, value: call.maxFee, validAfter: 0n, nonce: await nonceOf(f, call) });
      const token = { address: (await f.usdc.getAddress()) as Address, name, version, chainId };
      const signature = await payer.signTypedData(receiveAuthorizationTypedData(token, message));
      await expect(relay(f, call, receiveAuthorizationArgument(message, signature))).to.changeTokenBalance(
        f.ethers,
        f.usdc,
        f.payer.address,
        -call.maxFee,
      );
    });

    it("the escrow computes it with its own address and chain id: the helper's nonce is the one it accepts", async () => {
      const f = await loadFixture(deployAuthorizationFixture);
      const call = await authorizedCall(f, { callbackGasLimit: 7n, latestDeadline: ANY_DEADLINE - 12_345n });
      const wrong = `0x${"00".repeat(31)}01`;
      // The escrow's error names the nonce it expected: exactly the helper's.
      await expect(relay(f, call, await signAuthorization(f, f.payer, call, { nonce: wrong })))
        .to.be.revertedWithCustomError(f.escrow, "AuthorizationNonceMismatch")
        .withArgs(await nonceOf(f, call), wrong);
    });
  });
});
