/**
 * Roles (admin, model admin) on every restricted function, operators losing a model,
 * the deployment's role wiring, the protocol fee setting, and pause: it stops new
 * requests on every model and entry point, and never settlement, refunds or withdrawals.
 * (Operators in full: registry.test.ts; the two-step admin transfer: review-findings.test.ts.)
 */
import { expect } from "chai";
import { network } from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { NetworkConnection } from "hardhat/types/network";
import ArgusModule from "@argus/devchain/ignition-module";
import {
  ADMIN_DELAY,
  deployEscrowFixture,
  MAX_CALLBACK_GAS_PRICE,
  SKIP,
  eventsOf,
  fulfillment,
  MAX_PROTOCOL_FEE_BPS,
  mined,
  modelConfig,
  NATIVE,
  NO_PERMIT,
  NATIVE_FEE,
  PROTOCOL_FEE_BPS,
  protocolCut,
  randomImageCid,
  rejection,
  request,
  TOKEN_FEE,
  type EscrowFixture,
  ANY_FEE,
  ANY_DEADLINE,
  fulfil,
} from "../support/escrow.ts";
import type { PredictionEscrow } from "../../types/ethers-contracts/index.ts";

const connection = await network.create();
const { networkHelpers } = connection;
const { loadFixture, time } = networkHelpers;

async function roles(escrow: PredictionEscrow) {
  return { admin: await escrow.DEFAULT_ADMIN_ROLE(), modelAdmin: await escrow.MODEL_ADMIN_ROLE() };
}

/** Every restricted function, the role it needs, and a call of it as `who`. */
async function restricted(f: EscrowFixture) {
  const r = await roles(f.escrow);
  return [
    ["registerModel", r.modelAdmin, (who: HardhatEthersSigner) => f.escrow.connect(who).registerModel(modelConfig(), who.address)],
    ["updateModel", r.modelAdmin, (who: HardhatEthersSigner) => f.escrow.connect(who).updateModel(1n, modelConfig())],
    ["setModelActive", r.modelAdmin, (who: HardhatEthersSigner) => f.escrow.connect(who).setModelActive(1n, false)],
    ["setModelOperator", r.modelAdmin, (who: HardhatEthersSigner) => f.escrow.connect(who).setModelOperator(1n, who.address, true)],
    ["setFeeToken", r.admin, (who: HardhatEthersSigner) => f.escrow.connect(who).setFeeToken(who.address, true, 1n)],
    ["setProtocolFee", r.admin, (who: HardhatEthersSigner) => f.escrow.connect(who).setProtocolFee(who.address, 1)],
    ["pause", r.admin, (who: HardhatEthersSigner) => f.escrow.connect(who).pause()],
    ["unpause", r.admin, (who: HardhatEthersSigner) => f.escrow.connect(who).unpause()],
    ["grantRole", r.admin, (who: HardhatEthersSigner) => f.escrow.connect(who).grantRole(r.modelAdmin, who.address)],
    ["revokeRole", r.admin, (who: HardhatEthersSigner) => f.escrow.connect(who).revokeRole(r.modelAdmin, f.admin.address)],
  ] as const;
}

describe("PredictionEscrow access control", () => {
  it("the deployment grants admin and model admin as configured, each administered by the admin, and lists the native currency", async () => {
    const f = await loadFixture(deployEscrowFixture);
    const r = await roles(f.escrow);
    expect(await f.escrow.hasRole(r.admin, f.admin.address)).to.equal(true);
    expect(await f.escrow.defaultAdmin()).to.equal(f.admin.address);
    expect(await f.escrow.defaultAdminDelay()).to.equal(ADMIN_DELAY);
    expect(await f.escrow.hasRole(r.modelAdmin, f.admin.address)).to.equal(true);
    expect(await f.escrow.hasRole(r.modelAdmin, f.oracle.address)).to.equal(false);
    for (const role of [r.admin, r.modelAdmin]) expect(await f.escrow.getRoleAdmin(role)).to.equal(r.admin);
    expect(await f.escrow.protocolFee()).to.deep.equal([f.treasury.address, PROTOCOL_FEE_BPS]);
    expect(await f.escrow.feeTokenTerms(NATIVE)).to.deep.equal([true, MAX_CALLBACK_GAS_PRICE]);
    // The fixture's models are operated by its oracle, and by nobody else.
    for (const modelId of [f.classifierId, f.detectorId, f.tokenModelId]) {
      expect(await f.escrow.isModelOperator(modelId, f.oracle.address)).to.equal(true);
      expect(await f.escrow.isModelOperator(modelId, f.admin.address)).to.equal(false);
    }
  });

  it("the Ignition module wires a separate model admin, and its admin delay", async () => {
    async function separateRoles(c: NetworkConnection) {
      const [, , , modelAdmin] = await c.ethers.getSigners();
      const { escrow } = await c.ignition.deploy(ArgusModule, {
        parameters: { Argus: { modelAdmin: modelAdmin!.address, protocolFeeBps: 0, adminDelaySeconds: 60 } },
      });
      return { escrow: escrow as unknown as PredictionEscrow, modelAdmin: modelAdmin! };
    }
    const { escrow, modelAdmin } = await loadFixture(separateRoles);
    const [deployer] = await connection.ethers.getSigners();
    const r = await roles(escrow);
    expect(await escrow.hasRole(r.admin, deployer!.address)).to.equal(true);
    expect(await escrow.defaultAdminDelay()).to.equal(60n);
    expect(await escrow.hasRole(r.modelAdmin, deployer!.address)).to.equal(false);
    expect(await escrow.hasRole(r.modelAdmin, modelAdmin.address)).to.equal(true);
    // The default treasury is the deployer.
    expect(await escrow.protocolFee()).to.deep.equal([deployer!.address, 0n]);
    await expect(escrow.connect(deployer!).registerModel(modelConfig(), modelAdmin.address))
      .to.be.revertedWithCustomError(escrow, "AccessControlUnauthorizedAccount")
      .withArgs(deployer!.address, r.modelAdmin);
    await mined(escrow.connect(modelAdmin).registerModel(modelConfig(), modelAdmin.address));
    expect(await escrow.modelCount()).to.equal(1n);
  });

  it("every restricted function reverts AccessControlUnauthorizedAccount(caller, role) for anyone without the role", async () => {
    const f = await loadFixture(deployEscrowFixture);
    const stranger = f.users[5]!;
    const r = await roles(f.escrow);
    await mined(f.escrow.grantRole(r.modelAdmin, f.users[6]!.address));
    for (const [name, role, call] of await restricted(f)) {
      // A stranger, an operator, and for the admin's functions a model admin, are all refused.
      const refused = [stranger, f.oracle, ...(role === r.admin ? [f.users[6]!] : [])];
      for (const who of refused) {
        await expect(call(who), `${name} by ${who.address}`)
          .to.be.revertedWithCustomError(f.escrow, "AccessControlUnauthorizedAccount")
          .withArgs(who.address, role);
      }
    }
  });

  it("the admin grants and revokes the model admin role, with events; a revoked model admin can no longer act", async () => {
    const f = await loadFixture(deployEscrowFixture);
    const r = await roles(f.escrow);
    const newModelAdmin = f.users[6]!;
    expect(eventsOf(f.escrow, await mined(f.escrow.grantRole(r.modelAdmin, newModelAdmin.address)))).to.deep.equal([
      ["RoleGranted", r.modelAdmin, newModelAdmin.address, f.admin.address],
    ]);
    await mined(f.escrow.connect(newModelAdmin).setModelActive(2n, false));
    expect(eventsOf(f.escrow, await mined(f.escrow.revokeRole(r.modelAdmin, newModelAdmin.address)))).to.deep.equal([
      ["RoleRevoked", r.modelAdmin, newModelAdmin.address, f.admin.address],
    ]);
    await expect(f.escrow.connect(newModelAdmin).setModelActive(2n, true))
      .to.be.revertedWithCustomError(f.escrow, "AccessControlUnauthorizedAccount")
      .withArgs(newModelAdmin.address, r.modelAdmin);
  });

  it("a role holder may renounce only its own role", async () => {
    const f = await loadFixture(deployEscrowFixture);
    const r = await roles(f.escrow);
    await mined(f.escrow.grantRole(r.modelAdmin, f.users[6]!.address));
    await expect(f.escrow.connect(f.users[0]!).renounceRole(r.modelAdmin, f.users[6]!.address)).to.be.revertedWithCustomError(
      f.escrow,
      "AccessControlBadConfirmation",
    );
    await mined(f.escrow.connect(f.users[6]!).renounceRole(r.modelAdmin, f.users[6]!.address));
    expect(await f.escrow.hasRole(r.modelAdmin, f.users[6]!.address)).to.equal(false);
  });

  it("an operator removed from a model can no longer settle it; what it earned stays its own", async () => {
    const f = await loadFixture(deployEscrowFixture);
    const t1 = await request(f, f.users[0]!, f.classifierId);
    const t2 = await request(f, f.users[0]!, f.classifierId);
    await mined(fulfil(f, [fulfillment(t1)]));
    await mined(f.escrow.setModelOperator(f.classifierId, f.oracle.address, false));
    const refused = await mined(f.escrow.connect(f.oracle).rejectBatch([rejection(t2)]));
    expect(eventsOf(f.escrow, refused)).to.deep.equal([["SettlementSkipped", t2.requestId, SKIP.NotOperator]]);
    await expect(f.escrow.connect(f.oracle).withdraw(NATIVE, f.oracle.address)).to.changeEtherBalance(
      f.ethers,
      f.oracle,
      NATIVE_FEE - protocolCut(NATIVE_FEE),
      { includeFee: false },
    );
  });

  describe("protocol fee", () => {
    it("the admin sets it up to MAX_PROTOCOL_FEE_BPS, with ProtocolFeeChanged", async () => {
      const f = await loadFixture(deployEscrowFixture);
      expect(await f.escrow.MAX_PROTOCOL_FEE_BPS()).to.equal(MAX_PROTOCOL_FEE_BPS);
      const treasury = f.users[4]!.address;
      for (const [to, bps] of [
        [treasury, MAX_PROTOCOL_FEE_BPS],
        [NATIVE, 0n],
        [treasury, 1n],
      ] as const) {
        const receipt = await mined(f.escrow.setProtocolFee(to, bps));
        expect(eventsOf(f.escrow, receipt)).to.deep.equal([["ProtocolFeeChanged", to, bps]]);
        expect(await f.escrow.protocolFee()).to.deep.equal([to, bps]);
      }
    });

    it("reverts InvalidProtocolFee above the maximum or without a treasury", async () => {
      const f = await loadFixture(deployEscrowFixture);
      await expect(f.escrow.setProtocolFee(f.treasury.address, MAX_PROTOCOL_FEE_BPS + 1n)).to.be.revertedWithCustomError(
        f.escrow,
        "InvalidProtocolFee",
      );
      await expect(f.escrow.setProtocolFee(NATIVE, 1)).to.be.revertedWithCustomError(f.escrow, "InvalidProtocolFee");
      expect(await f.escrow.protocolFee()).to.deep.equal([f.treasury.address, PROTOCOL_FEE_BPS]);
    });

    it("the constructor validates it too, grants the admin role and announces the fee", async () => {
      const f = await loadFixture(deployEscrowFixture);
      const factory = await f.ethers.getContractFactory("PredictionEscrow");
      await expect(factory.deploy(f.admin.address, ADMIN_DELAY, f.treasury.address, 2_001)).to.be.revertedWithCustomError(
        factory,
        "InvalidProtocolFee",
      );
      await expect(factory.deploy(f.admin.address, ADMIN_DELAY, NATIVE, 1)).to.be.revertedWithCustomError(factory, "InvalidProtocolFee");
      await expect(factory.deploy(NATIVE, ADMIN_DELAY, NATIVE, 0))
        .to.be.revertedWithCustomError(factory, "AccessControlInvalidDefaultAdmin")
        .withArgs(NATIVE);
      const escrow = await factory.deploy(f.users[1]!.address, ADMIN_DELAY, NATIVE, 0);
      const receipt = await escrow.deploymentTransaction()!.wait();
      expect(eventsOf(escrow, receipt!)).to.deep.equal([
        ["RoleGranted", await escrow.DEFAULT_ADMIN_ROLE(), f.users[1]!.address, f.admin.address],
        ["ProtocolFeeChanged", NATIVE, 0n],
      ]);
      expect(await escrow.modelCount()).to.equal(0n);
      expect(await escrow.paused()).to.equal(false);
    });
  });
});

describe("PredictionEscrow pause", () => {
  it("stops every kind of request on every model, reopens them on unpause, with events", async () => {
    const f = await loadFixture(deployEscrowFixture);
    const user = f.users[0]!;
    expect(eventsOf(f.escrow, await mined(f.escrow.pause()))).to.deep.equal([["Paused", f.admin.address]]);
    expect(await f.escrow.paused()).to.equal(true);
    for (const modelId of [f.classifierId, f.detectorId]) {
      await expect(
        f.escrow.connect(user).requestPrediction(modelId, randomImageCid(), ANY_FEE, ANY_DEADLINE, { value: NATIVE_FEE }),
      ).to.be.revertedWithCustomError(f.escrow, "EnforcedPause");
      await expect(
        f.escrow.connect(user).requestPredictionWithCallback(modelId, randomImageCid(), 0n, ANY_FEE, ANY_DEADLINE, { value: NATIVE_FEE }),
      ).to.be.revertedWithCustomError(f.escrow, "EnforcedPause");
    }
    await expect(
      f.escrow.connect(user).requestPrediction(f.tokenModelId, randomImageCid(), ANY_FEE, ANY_DEADLINE),
    ).to.be.revertedWithCustomError(f.escrow, "EnforcedPause");
    await expect(
      f.escrow.connect(user).requestPredictionWithPermit(f.tokenModelId, randomImageCid(), 0n, ANY_FEE, ANY_DEADLINE, NO_PERMIT),
    ).to.be.revertedWithCustomError(f.escrow, "EnforcedPause");
    // Pause takes precedence over inactivity; prices stay readable.
    await mined(f.escrow.setModelActive(f.detectorId, false));
    await expect(
      f.escrow.connect(user).requestPrediction(f.detectorId, randomImageCid(), ANY_FEE, ANY_DEADLINE, { value: NATIVE_FEE }),
    ).to.be.revertedWithCustomError(f.escrow, "EnforcedPause");
    expect(await f.escrow.quote(f.classifierId, 0n)).to.deep.equal([NATIVE, NATIVE_FEE]);

    expect(eventsOf(f.escrow, await mined(f.escrow.unpause()))).to.deep.equal([["Unpaused", f.admin.address]]);
    expect(await f.escrow.paused()).to.equal(false);
    for (const modelId of [f.classifierId, f.tokenModelId]) expect((await request(f, user, modelId)).modelId).to.equal(modelId);
    await expect(f.escrow.connect(user).requestPrediction(f.detectorId, randomImageCid(), ANY_FEE, ANY_DEADLINE, { value: NATIVE_FEE }))
      .to.be.revertedWithCustomError(f.escrow, "ModelNotActive")
      .withArgs(f.detectorId);
  });

  it("reverts EnforcedPause when already paused and ExpectedPause when not paused", async () => {
    const f = await loadFixture(deployEscrowFixture);
    await expect(f.escrow.unpause()).to.be.revertedWithCustomError(f.escrow, "ExpectedPause");
    await mined(f.escrow.pause());
    await expect(f.escrow.pause()).to.be.revertedWithCustomError(f.escrow, "EnforcedPause");
  });

  it("a model registered while paused starts paused, and is reopened by unpause", async () => {
    const f = await loadFixture(deployEscrowFixture);
    await mined(f.escrow.pause());
    await mined(f.escrow.registerModel(modelConfig({ name: "late" }), f.oracle.address));
    await expect(
      f.escrow.connect(f.users[0]!).requestPrediction(4n, randomImageCid(), ANY_FEE, ANY_DEADLINE, { value: NATIVE_FEE }),
    ).to.be.revertedWithCustomError(f.escrow, "EnforcedPause");
    await mined(f.escrow.unpause());
    expect((await request(f, f.users[0]!, 4n)).modelId).to.equal(4n);
    // And one registered after the unpause is open at once.
    await mined(f.escrow.registerModel(modelConfig({ name: "later" }), f.oracle.address));
    expect((await request(f, f.users[0]!, 5n)).modelId).to.equal(5n);
  });

  it("never blocks settlement, refunds, withdrawals or model administration", async () => {
    const f = await loadFixture(deployEscrowFixture);
    const [a, b, c] = f.users;
    const toFulfil = await request(f, a!, f.tokenModelId);
    const toReject = await request(f, b!, f.classifierId);
    const toReclaim = await request(f, c!, f.detectorId);
    await mined(f.escrow.pause());

    await mined(fulfil(f, [fulfillment(toFulfil)]));
    await mined(f.escrow.connect(f.oracle).rejectBatch([rejection(toReject)]));
    await time.increaseTo(toReclaim.deadline + 1n);
    expect(eventsOf(f.escrow, await mined(f.escrow.connect(a!).reclaim(toReclaim)))).to.deep.equal([
      ["PredictionExpired", toReclaim.requestId, toReclaim.fee],
    ]);
    const token = await f.token.getAddress();
    await expect(f.escrow.connect(f.oracle).withdraw(token, f.oracle.address)).to.changeTokenBalance(
      f.ethers,
      f.token,
      f.oracle,
      TOKEN_FEE - protocolCut(TOKEN_FEE),
    );
    await expect(f.escrow.connect(b!).withdraw(NATIVE, b!.address)).to.changeEtherBalance(f.ethers, b!, NATIVE_FEE, {
      includeFee: false,
    });
    await expect(f.escrow.connect(c!).withdraw(NATIVE, c!.address)).to.changeEtherBalance(f.ethers, c!, NATIVE_FEE, {
      includeFee: false,
    });
    await mined(f.escrow.updateModel(1n, modelConfig({ fee: 1n })));
    await mined(f.escrow.setModelActive(2n, false));
    await mined(f.escrow.setProtocolFee(f.treasury.address, 0));
    expect(await f.escrow.paused()).to.equal(true);
  });
});
