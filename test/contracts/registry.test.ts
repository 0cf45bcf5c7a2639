/**
 * Model registry: registration, updates and (de)activation by the model admin, each
 * model's operators, the admin's list of fee currencies with their callback gas price
 * caps, the events of every change, the validation of every config field, the model
 * cap, and that deactivating or updating a model never strands requests already paid for.
 */
import { expect } from "chai";
import { network } from "hardhat";
import {
  deployEscrowFixture,
  eventsOf,
  fulfillment,
  mined,
  modelConfig,
  MAX_MODELS,
  NATIVE,
  NATIVE_FEE,
  protocolCut,
  randomImageCid,
  rejection,
  request,
  RESPONSE_WINDOW,
  TASK,
  TOKEN_FEE,
  CALLBACK_GAS_PRICE,
  MAX_CALLBACK_GAS_PRICE,
  SKIP,
  type EscrowFixture,
  ANY_FEE,
  ANY_DEADLINE,
  fulfil,
} from "../support/escrow.ts";
import type { IModelRegistry } from "../../types/ethers-contracts/PredictionEscrow.ts";

const connection = await network.create();
const { networkHelpers } = connection;
const { loadFixture, time } = networkHelpers;

/** Asserts every field `getModel` returns. */
async function expectModel(f: EscrowFixture, modelId: bigint, active: boolean, config: IModelRegistry.ModelConfigStruct): Promise<void> {
  const model = await f.escrow.getModel(modelId);
  expect({
    id: model.id,
    active: model.active,
    name: model.name,
    task: model.task,
    feeToken: model.feeToken,
    fee: model.fee,
    callbackGasPrice: model.callbackGasPrice,
    responseWindow: model.responseWindow,
    weightsSha256: model.weightsSha256,
    providerImageHash: model.providerImageHash,
    manifestCid: model.manifestCid,
  }).to.deep.equal({
    id: modelId,
    active,
    name: config.name,
    task: BigInt(config.task),
    feeToken: config.feeToken,
    fee: BigInt(config.fee),
    callbackGasPrice: BigInt(config.callbackGasPrice),
    responseWindow: BigInt(config.responseWindow),
    weightsSha256: config.weightsSha256,
    providerImageHash: config.providerImageHash,
    manifestCid: config.manifestCid,
  });
}

function configuredEvent(modelId: bigint, config: IModelRegistry.ModelConfigStruct) {
  return [
    "ModelConfigured",
    modelId,
    BigInt(config.fee),
    BigInt(config.callbackGasPrice),
    BigInt(config.responseWindow),
    config.weightsSha256,
    config.providerImageHash,
    config.manifestCid,
    config.name,
  ];
}

/** The field-by-field validation both `registerModel` and `updateModel` apply. */
const INVALID_CONFIGS: [string, Partial<IModelRegistry.ModelConfigStruct>][] = [
  ["name", { name: "" }],
  ["name", { name: "m".repeat(65) }],
  ["responseWindow", { responseWindow: 0 }],
  ["responseWindow", { responseWindow: 7n * 86_400n + 1n }],
  ["callbackGasPrice", { callbackGasPrice: MAX_CALLBACK_GAS_PRICE + 1n }],
  ["weightsSha256", { weightsSha256: `0x${"00".repeat(32)}` }],
  ["manifestCid", { manifestCid: "0x" }],
  ["manifestCid", { manifestCid: `0x${"01".repeat(129)}` }],
];

describe("ModelRegistry", () => {
  describe("fixture models", () => {
    it("registers the three fixture models with their configs, active", async () => {
      const f = await loadFixture(deployEscrowFixture);
      expect(await f.escrow.modelCount()).to.equal(3n);
      await expectModel(f, 1n, true, modelConfig());
      await expectModel(f, 2n, true, modelConfig({ name: "fastestdet-coco80", task: TASK.Detection }));
      await expectModel(f, 3n, true, modelConfig({ name: "squeezenet1.1-fp16", feeToken: await f.token.getAddress(), fee: TOKEN_FEE }));
    });
  });

  describe("registerModel", () => {
    it("assigns the next id and emits ModelRegistered, ModelConfigured, ModelActivationChanged, ModelOperatorChanged in that order", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const config = modelConfig({
        name: "resnet50-v1-12",
        task: TASK.Detection,
        fee: 123_456n,
        callbackGasPrice: 7n,
        responseWindow: 60n,
        providerImageHash: `0x${"00".repeat(32)}`,
      });
      const modelId = await f.escrow.registerModel.staticCall(config, f.oracle.address);
      expect(modelId).to.equal(4n);
      const receipt = await mined(f.escrow.registerModel(config, f.oracle.address));
      expect(eventsOf(f.escrow, receipt)).to.deep.equal([
        ["ModelRegistered", 4n, config.name, BigInt(TASK.Detection), NATIVE],
        configuredEvent(4n, config),
        ["ModelActivationChanged", 4n, true],
        ["ModelOperatorChanged", 4n, f.oracle.address, true],
      ]);
      expect(await f.escrow.modelCount()).to.equal(4n);
      expect(await f.escrow.isModelOperator(4n, f.oracle.address)).to.equal(true);
      await expectModel(f, 4n, true, config);
    });

    it("accepts the boundary sizes: a 64-byte name, a 128-byte manifest CID, a zero fee and a zero provider image, the longest window and the dearest callback gas", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const config = modelConfig({
        name: "n".repeat(64),
        manifestCid: `0x${"ab".repeat(128)}`,
        fee: 0n,
        callbackGasPrice: 0n,
        responseWindow: 1n,
        providerImageHash: `0x${"00".repeat(32)}`,
      });
      await mined(f.escrow.registerModel(config, f.oracle.address));
      await expectModel(f, 4n, true, config);
      expect(await f.escrow.quote(4n, 2_500_000n)).to.deep.equal([NATIVE, 0n]);
      const longest = modelConfig({ responseWindow: 7n * 86_400n, callbackGasPrice: MAX_CALLBACK_GAS_PRICE });
      await mined(f.escrow.registerModel(longest, f.oracle.address));
      await expectModel(f, 5n, true, longest);
      expect(await f.escrow.MAX_RESPONSE_WINDOW()).to.equal(7n * 86_400n);
    });

    for (const [field, change] of INVALID_CONFIGS) {
      it(`reverts InvalidModelConfig("${field}") for ${JSON.stringify(change, (_, v) => (typeof v === "bigint" ? String(v) : v)).slice(0, 60)}`, async () => {
        const f = await loadFixture(deployEscrowFixture);
        await expect(f.escrow.registerModel(modelConfig(change), f.oracle.address))
          .to.be.revertedWithCustomError(f.escrow, "InvalidModelConfig")
          .withArgs(field);
        expect(await f.escrow.modelCount()).to.equal(3n);
      });
    }

    it("reverts TooManyModels once MAX_MODELS models exist, and pausing them all fits in a block", async () => {
      const f = await loadFixture(deployEscrowFixture);
      expect(await f.escrow.MAX_MODELS()).to.equal(MAX_MODELS);
      const config = modelConfig({ name: "filler" });
      const filler = await f.ethers.deployContract("ModelFiller");
      await mined(f.escrow.grantRole(await f.escrow.MODEL_ADMIN_ROLE(), await filler.getAddress()));
      for (let left = MAX_MODELS - 3n; left > 0n; left -= 50n) {
        await mined(filler.fill(f.escrow, config, f.oracle.address, left < 50n ? left : 50n));
      }
      expect(await f.escrow.modelCount()).to.equal(MAX_MODELS);
      await expect(f.escrow.registerModel(config, f.oracle.address))
        .to.be.revertedWithCustomError(f.escrow, "TooManyModels")
        .withArgs(MAX_MODELS);

      // The cap exists so that pausing (which writes every model's slot) fits in a block.
      const pause = await mined(f.escrow.pause());
      expect(pause.gasUsed).to.be.lessThan(10_000_000n);
      await expect(
        f.escrow.connect(f.users[0]!).requestPrediction(MAX_MODELS, randomImageCid(), ANY_FEE, ANY_DEADLINE, { value: NATIVE_FEE }),
      ).to.be.revertedWithCustomError(f.escrow, "EnforcedPause");
      await mined(f.escrow.unpause());
      const last = await request(f, f.users[0]!, MAX_MODELS);
      expect(last.modelId).to.equal(MAX_MODELS);
    });
  });

  describe("updateModel", () => {
    it("replaces the mutable fields, emits ModelConfigured and keeps the activation state", async () => {
      const f = await loadFixture(deployEscrowFixture);
      await mined(f.escrow.setModelActive(1n, false));
      const config = modelConfig({
        name: "mobilenetv2-12-fp32",
        fee: NATIVE_FEE * 3n,
        callbackGasPrice: 2n * CALLBACK_GAS_PRICE,
        responseWindow: 7_200n,
        weightsSha256: `0x${"11".repeat(32)}`,
        providerImageHash: `0x${"22".repeat(32)}`,
        manifestCid: `0x01551220${"33".repeat(32)}`,
      });
      const receipt = await mined(f.escrow.updateModel(1n, config));
      expect(eventsOf(f.escrow, receipt)).to.deep.equal([configuredEvent(1n, config)]);
      await expectModel(f, 1n, false, config);
      expect(await f.escrow.modelCount()).to.equal(3n);
    });

    it("reverts ImmutableModelField for a changed task or fee token", async () => {
      const f = await loadFixture(deployEscrowFixture);
      await expect(f.escrow.updateModel(1n, modelConfig({ task: TASK.Detection })))
        .to.be.revertedWithCustomError(f.escrow, "ImmutableModelField")
        .withArgs("task");
      await expect(f.escrow.updateModel(1n, modelConfig({ feeToken: await f.token.getAddress() })))
        .to.be.revertedWithCustomError(f.escrow, "ImmutableModelField")
        .withArgs("feeToken");
      await expect(f.escrow.updateModel(3n, modelConfig({ feeToken: NATIVE })))
        .to.be.revertedWithCustomError(f.escrow, "ImmutableModelField")
        .withArgs("feeToken");
    });

    for (const [field, change] of INVALID_CONFIGS) {
      it(`reverts InvalidModelConfig("${field}") for ${JSON.stringify(change, (_, v) => (typeof v === "bigint" ? String(v) : v)).slice(0, 60)}`, async () => {
        const f = await loadFixture(deployEscrowFixture);
        await expect(f.escrow.updateModel(1n, modelConfig(change)))
          .to.be.revertedWithCustomError(f.escrow, "InvalidModelConfig")
          .withArgs(field);
        await expectModel(f, 1n, true, modelConfig());
      });
    }

    it("reverts UnknownModel for id 0 and for an id past modelCount", async () => {
      const f = await loadFixture(deployEscrowFixture);
      for (const modelId of [0n, 4n, 2n ** 32n - 1n]) {
        await expect(f.escrow.updateModel(modelId, modelConfig()))
          .to.be.revertedWithCustomError(f.escrow, "UnknownModel")
          .withArgs(modelId);
      }
    });

    it("leaves pending requests on the terms they paid for; new requests get the new terms", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const [user] = f.users;
      const before = await request(f, user!, 1n, { callbackGasLimit: 50_000n });
      expect(before.fee).to.equal(NATIVE_FEE + 50_000n * CALLBACK_GAS_PRICE);

      await mined(f.escrow.updateModel(1n, modelConfig({ fee: 5n, callbackGasPrice: 1n, responseWindow: 10n })));
      expect(await f.escrow.quote(1n, 50_000n)).to.deep.equal([NATIVE, 50_005n]);
      const after = await request(f, user!, 1n, { callbackGasLimit: 50_000n });
      expect(after.fee).to.equal(50_005n);
      expect(after.deadline - before.deadline).to.be.lessThan(RESPONSE_WINDOW);

      // Both settle on their own terms: the old request's fee is the old quote.
      const receipt = await mined(fulfil(f, [fulfillment(before), fulfillment(after)]));
      const total = before.fee + after.fee;
      expect(eventsOf(f.escrow, receipt).filter(([name]) => name === "FeesCredited")).to.deep.equal([
        ["FeesCredited", f.oracle.address, NATIVE, total - protocolCut(total), f.treasury.address, protocolCut(total)],
      ]);
    });
  });

  describe("setModelActive", () => {
    it("emits ModelActivationChanged on every call and gates new requests only", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const user = f.users[0]!;
      expect(eventsOf(f.escrow, await mined(f.escrow.setModelActive(2n, false)))).to.deep.equal([["ModelActivationChanged", 2n, false]]);
      // Repeating a state is allowed and still announced.
      expect(eventsOf(f.escrow, await mined(f.escrow.setModelActive(2n, false)))).to.deep.equal([["ModelActivationChanged", 2n, false]]);
      expect((await f.escrow.getModel(2n)).active).to.equal(false);
      await expect(f.escrow.connect(user).requestPrediction(2n, randomImageCid(), ANY_FEE, ANY_DEADLINE, { value: NATIVE_FEE }))
        .to.be.revertedWithCustomError(f.escrow, "ModelNotActive")
        .withArgs(2n);
      await expect(
        f.escrow
          .connect(user)
          .requestPredictionWithCallback(2n, randomImageCid(), 1n, ANY_FEE, ANY_DEADLINE, { value: NATIVE_FEE + CALLBACK_GAS_PRICE }),
      )
        .to.be.revertedWithCustomError(f.escrow, "ModelNotActive")
        .withArgs(2n);
      // The quote is still available: a front end can show the price of an inactive model.
      expect(await f.escrow.quote(2n, 0n)).to.deep.equal([NATIVE, NATIVE_FEE]);

      expect(eventsOf(f.escrow, await mined(f.escrow.setModelActive(2n, true)))).to.deep.equal([["ModelActivationChanged", 2n, true]]);
      const terms = await request(f, user, 2n);
      expect(terms.modelId).to.equal(2n);
    });

    it("reverts UnknownModel for unregistered ids", async () => {
      const f = await loadFixture(deployEscrowFixture);
      for (const modelId of [0n, 4n]) {
        await expect(f.escrow.setModelActive(modelId, true)).to.be.revertedWithCustomError(f.escrow, "UnknownModel").withArgs(modelId);
      }
    });

    it("never strands paid requests: a deactivated model's requests are still fulfilled, rejected and reclaimed", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const [a, b, c] = f.users;
      const toFulfil = await request(f, a!, 3n);
      const toReject = await request(f, b!, 3n);
      const toReclaim = await request(f, c!, 3n);
      const nativeToReclaim = await request(f, c!, 1n);
      await mined(f.escrow.setModelActive(3n, false));
      await mined(f.escrow.setModelActive(1n, false));
      await mined(f.escrow.updateModel(3n, modelConfig({ name: "squeezenet1.1-fp16", feeToken: await f.token.getAddress(), fee: 1n })));

      await mined(fulfil(f, [fulfillment(toFulfil)]));
      await mined(f.escrow.connect(f.oracle).rejectBatch([rejection(toReject)]));
      await time.increaseTo(toReclaim.deadline + 1n);
      await mined(f.escrow.connect(a!).reclaim(toReclaim));
      await mined(f.escrow.connect(a!).reclaim(nativeToReclaim));

      const token = await f.token.getAddress();
      expect(await f.escrow.balanceOf(token, f.oracle.address)).to.equal(TOKEN_FEE - protocolCut(TOKEN_FEE));
      expect(await f.escrow.balanceOf(token, f.treasury.address)).to.equal(protocolCut(TOKEN_FEE));
      expect(await f.escrow.balanceOf(token, b!.address)).to.equal(TOKEN_FEE);
      expect(await f.escrow.balanceOf(token, c!.address)).to.equal(TOKEN_FEE);
      expect(await f.escrow.balanceOf(NATIVE, c!.address)).to.equal(NATIVE_FEE);
      for (const terms of [toFulfil, toReject, toReclaim, nativeToReclaim]) {
        expect(await f.escrow.isPending(terms.requestId)).to.equal(false);
      }
      // And the refunds can be withdrawn.
      await expect(f.escrow.connect(c!).withdraw(token, c!.address)).to.changeTokenBalances(
        f.ethers,
        f.token,
        [f.escrow, c!],
        [-TOKEN_FEE, TOKEN_FEE],
      );
    });
  });

  describe("operators", () => {
    it("the model admin adds and removes them, with ModelOperatorChanged; only they settle the model's requests", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const [second] = [f.users[6]!];
      expect(eventsOf(f.escrow, await mined(f.escrow.setModelOperator(1n, second.address, true)))).to.deep.equal([
        ["ModelOperatorChanged", 1n, second.address, true],
      ]);
      expect(await f.escrow.isModelOperator(1n, second.address)).to.equal(true);
      expect(await f.escrow.isModelOperator(2n, second.address)).to.equal(false);
      const t1 = await request(f, f.users[0]!, 1n);
      const t2 = await request(f, f.users[0]!, 2n);
      // A batch spanning two models: the second operator settles the one it runs only.
      const receipt = await mined(f.escrow.connect(second).fulfillBatch([fulfillment(t1), fulfillment(t2)]));
      expect(
        eventsOf(f.escrow, receipt).map(([name, , reason]) => (name === "SettlementSkipped" ? `${name} ${reason}` : name)),
      ).to.deep.equal(["PredictionFulfilled", `SettlementSkipped ${SKIP.NotOperator}`, "FeesCredited"]);
      expect(eventsOf(f.escrow, await mined(f.escrow.setModelOperator(1n, second.address, false)))).to.deep.equal([
        ["ModelOperatorChanged", 1n, second.address, false],
      ]);
      const t3 = await request(f, f.users[0]!, 1n);
      const refused = await mined(f.escrow.connect(second).rejectBatch([rejection(t3), rejection(t2)]));
      expect(eventsOf(f.escrow, refused)).to.deep.equal([
        ["SettlementSkipped", t3.requestId, SKIP.NotOperator],
        ["SettlementSkipped", t2.requestId, SKIP.NotOperator],
      ]);
      expect(await f.escrow.isPending(t3.requestId)).to.equal(true);
    });

    it("reverts InvalidOperator for the zero address, UnknownModel for unregistered ids", async () => {
      const f = await loadFixture(deployEscrowFixture);
      await expect(f.escrow.setModelOperator(1n, NATIVE, true))
        .to.be.revertedWithCustomError(f.escrow, "InvalidOperator")
        .withArgs(NATIVE);
      await expect(f.escrow.registerModel(modelConfig(), NATIVE))
        .to.be.revertedWithCustomError(f.escrow, "InvalidOperator")
        .withArgs(NATIVE);
      await expect(f.escrow.setModelOperator(4n, f.users[0]!.address, true))
        .to.be.revertedWithCustomError(f.escrow, "UnknownModel")
        .withArgs(4n);
    });
  });

  describe("fee currencies", () => {
    it("the admin lists them with a callback gas price cap, with FeeTokenChanged; registration and updates obey the list", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const token = await f.token.getAddress();
      expect(await f.escrow.feeTokenTerms(NATIVE)).to.deep.equal([true, MAX_CALLBACK_GAS_PRICE]);
      expect(await f.escrow.feeTokenTerms(token)).to.deep.equal([true, MAX_CALLBACK_GAS_PRICE]);
      const other = await f.ethers.deployContract("PlainToken");
      const otherAddress = await other.getAddress();
      expect(await f.escrow.feeTokenTerms(otherAddress)).to.deep.equal([false, 0n]);
      await expect(f.escrow.registerModel(modelConfig({ feeToken: otherAddress }), f.oracle.address))
        .to.be.revertedWithCustomError(f.escrow, "FeeTokenNotAllowed")
        .withArgs(otherAddress);
      expect(eventsOf(f.escrow, await mined(f.escrow.setFeeToken(otherAddress, true, 5n)))).to.deep.equal([
        ["FeeTokenChanged", otherAddress, true, 5n],
      ]);
      await expect(f.escrow.registerModel(modelConfig({ feeToken: otherAddress, callbackGasPrice: 6n }), f.oracle.address))
        .to.be.revertedWithCustomError(f.escrow, "InvalidModelConfig")
        .withArgs("callbackGasPrice");
      await mined(f.escrow.registerModel(modelConfig({ feeToken: otherAddress, callbackGasPrice: 5n }), f.oracle.address));
      // Refused later: its models can no longer be updated, nor (see the review tests) take requests.
      await mined(f.escrow.setFeeToken(otherAddress, false, 5n));
      await expect(f.escrow.updateModel(4n, modelConfig({ feeToken: otherAddress, callbackGasPrice: 5n })))
        .to.be.revertedWithCustomError(f.escrow, "FeeTokenNotAllowed")
        .withArgs(otherAddress);
      // Only the admin lists currencies.
      await expect(f.escrow.connect(f.users[0]!).setFeeToken(otherAddress, true, 5n))
        .to.be.revertedWithCustomError(f.escrow, "AccessControlUnauthorizedAccount")
        .withArgs(f.users[0]!.address, await f.escrow.DEFAULT_ADMIN_ROLE());
    });
  });

  describe("views", () => {
    it("getModel reverts UnknownModel for unregistered ids", async () => {
      const f = await loadFixture(deployEscrowFixture);
      for (const modelId of [0n, 4n]) {
        await expect(f.escrow.getModel(modelId)).to.be.revertedWithCustomError(f.escrow, "UnknownModel").withArgs(modelId);
      }
    });
  });
});
