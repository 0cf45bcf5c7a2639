/**
 * Roles (admin, model admin, several oracles) on every restricted function, the
 * deployment's role wiring, the protocol fee setting, and pause: it stops new requests
 * on every model and entry point, and never settlement, refunds or withdrawals.
 */
import { expect } from "chai";
import { network } from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { NetworkConnection } from "hardhat/types/network";
import ArgusModule from "@argus/devchain/ignition-module";
import {
  deployEscrowFixture,
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
} from "../support/escrow.ts";
import type { PredictionEscrow } from "../../types/ethers-contracts/index.ts";

const connection = await network.create();
const { networkHelpers } = connection;
const { loadFixture, time } = networkHelpers;

async function roles(escrow: PredictionEscrow) {
  return {
    admin: await escrow.DEFAULT_ADMIN_ROLE(),
    modelAdmin: await escrow.MODEL_ADMIN_ROLE(),
    oracle: await escrow.ORACLE_ROLE(),
  };
}

/** Every restricted function, the role it needs, and a call of it as `who`. */
async function restricted(f: EscrowFixture) {
  const r = await roles(f.escrow);
  const t = await request(f, f.users[0]!, f.classifierId);
  return [
    ["registerModel", r.modelAdmin, (who: HardhatEthersSigner) => f.escrow.connect(who).registerModel(modelConfig())],
    ["updateModel", r.modelAdmin, (who: HardhatEthersSigner) => f.escrow.connect(who).updateModel(1n, modelConfig())],
    ["setModelActive", r.modelAdmin, (who: HardhatEthersSigner) => f.escrow.connect(who).setModelActive(1n, false)],
    ["fulfillBatch", r.oracle, (who: HardhatEthersSigner) => f.escrow.connect(who).fulfillBatch([fulfillment(t)])],
    ["rejectBatch", r.oracle, (who: HardhatEthersSigner) => f.escrow.connect(who).rejectBatch([rejection(t)])],
    ["setProtocolFee", r.admin, (who: HardhatEthersSigner) => f.escrow.connect(who).setProtocolFee(who.address, 1)],
    ["pause", r.admin, (who: HardhatEthersSigner) => f.escrow.connect(who).pause()],
    ["unpause", r.admin, (who: HardhatEthersSigner) => f.escrow.connect(who).unpause()],
    ["grantRole", r.admin, (who: HardhatEthersSigner) => f.escrow.connect(who).grantRole(r.oracle, who.address)],
    ["revokeRole", r.admin, (who: HardhatEthersSigner) => f.escrow.connect(who).revokeRole(r.oracle, f.oracle.address)],
  ] as const;
}

describe("PredictionEscrow access control", () => {
  it("the deployment grants admin, model admin and oracle as configured, each administered by the admin", async () => {
    const f = await loadFixture(deployEscrowFixture);
    const r = await roles(f.escrow);
    expect(await f.escrow.hasRole(r.admin, f.admin.address)).to.equal(true);
    expect(await f.escrow.hasRole(r.modelAdmin, f.admin.address)).to.equal(true);
    expect(await f.escrow.hasRole(r.oracle, f.oracle.address)).to.equal(true);
    expect(await f.escrow.hasRole(r.oracle, f.admin.address)).to.equal(false);
    for (const role of [r.admin, r.modelAdmin, r.oracle]) expect(await f.escrow.getRoleAdmin(role)).to.equal(r.admin);
    expect(await f.escrow.protocolFee()).to.deep.equal([f.treasury.address, PROTOCOL_FEE_BPS]);
  });

  it("the Ignition module wires a separate model admin and oracle", async () => {
    async function separateRoles(c: NetworkConnection) {
      const [, , , modelAdmin, oracle] = await c.ethers.getSigners();
      const { escrow } = await c.ignition.deploy(ArgusModule, {
        parameters: { Argus: { modelAdmin: modelAdmin!.address, oracle: oracle!.address, protocolFeeBps: 0 } },
      });
      return { escrow: escrow as unknown as PredictionEscrow, modelAdmin: modelAdmin!, oracle: oracle! };
    }
    const { escrow, modelAdmin, oracle } = await loadFixture(separateRoles);
    const [deployer] = await connection.ethers.getSigners();
    const r = await roles(escrow);
    expect(await escrow.hasRole(r.admin, deployer!.address)).to.equal(true);
    expect(await escrow.hasRole(r.modelAdmin, deployer!.address)).to.equal(false);
    expect(await escrow.hasRole(r.modelAdmin, modelAdmin.address)).to.equal(true);
    expect(await escrow.hasRole(r.oracle, oracle.address)).to.equal(true);
    // The default treasury is the deployer.
    expect(await escrow.protocolFee()).to.deep.equal([deployer!.address, 0n]);
    await expect(escrow.connect(deployer!).registerModel(modelConfig()))
      .to.be.revertedWithCustomError(escrow, "AccessControlUnauthorizedAccount")
      .withArgs(deployer!.address, r.modelAdmin);
    await mined(escrow.connect(modelAdmin).registerModel(modelConfig()));
    expect(await escrow.modelCount()).to.equal(1n);
  });

  it("every restricted function reverts AccessControlUnauthorizedAccount(caller, role) for anyone without the role", async () => {
    const f = await loadFixture(deployEscrowFixture);
    const stranger = f.users[5]!;
    const r = await roles(f.escrow);
    for (const [name, role, call] of await restricted(f)) {
      // A stranger, and the holders of the other roles, are all refused.
      const refused = [stranger, ...(role === r.oracle ? [f.admin] : [f.oracle])];
      for (const who of refused) {
        await expect(call(who), `${name} by ${who.address}`)
          .to.be.revertedWithCustomError(f.escrow, "AccessControlUnauthorizedAccount")
          .withArgs(who.address, role);
      }
    }
  });

  it("the admin grants and revokes roles, with events; a revoked oracle can no longer settle", async () => {
    const f = await loadFixture(deployEscrowFixture);
    const r = await roles(f.escrow);
    const [newOracle, newModelAdmin] = [f.users[5]!, f.users[6]!];
    expect(eventsOf(f.escrow, await mined(f.escrow.grantRole(r.oracle, newOracle.address)))).to.deep.equal([
      ["RoleGranted", r.oracle, newOracle.address, f.admin.address],
    ]);
    await mined(f.escrow.grantRole(r.modelAdmin, newModelAdmin.address));
    await mined(f.escrow.connect(newModelAdmin).setModelActive(2n, false));

    const t1 = await request(f, f.users[0]!, f.classifierId);
    const t2 = await request(f, f.users[0]!, f.classifierId);
    await mined(f.escrow.connect(newOracle).fulfillBatch([fulfillment(t1)]));
    await mined(f.escrow.connect(f.oracle).rejectBatch([rejection(t2)]));
    expect(await f.escrow.balanceOf(NATIVE, newOracle.address)).to.equal(NATIVE_FEE - protocolCut(NATIVE_FEE));

    expect(eventsOf(f.escrow, await mined(f.escrow.revokeRole(r.oracle, newOracle.address)))).to.deep.equal([
      ["RoleRevoked", r.oracle, newOracle.address, f.admin.address],
    ]);
    await expect(f.escrow.connect(newOracle).fulfillBatch([]))
      .to.be.revertedWithCustomError(f.escrow, "AccessControlUnauthorizedAccount")
      .withArgs(newOracle.address, r.oracle);
    // Its earned balance stays its own to withdraw.
    await expect(f.escrow.connect(newOracle).withdraw(NATIVE, newOracle.address)).to.changeEtherBalance(
      f.ethers,
      newOracle,
      NATIVE_FEE - protocolCut(NATIVE_FEE),
      { includeFee: false },
    );
  });

  it("a role holder may renounce only its own role", async () => {
    const f = await loadFixture(deployEscrowFixture);
    const r = await roles(f.escrow);
    await expect(f.escrow.connect(f.users[0]!).renounceRole(r.oracle, f.oracle.address)).to.be.revertedWithCustomError(
      f.escrow,
      "AccessControlBadConfirmation",
    );
    await mined(f.escrow.connect(f.oracle).renounceRole(r.oracle, f.oracle.address));
    expect(await f.escrow.hasRole(r.oracle, f.oracle.address)).to.equal(false);
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
      await expect(factory.deploy(f.admin.address, f.treasury.address, 2_001)).to.be.revertedWithCustomError(factory, "InvalidProtocolFee");
      await expect(factory.deploy(f.admin.address, NATIVE, 1)).to.be.revertedWithCustomError(factory, "InvalidProtocolFee");
      const escrow = await factory.deploy(f.users[1]!.address, NATIVE, 0);
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
        f.escrow.connect(user).requestPrediction(modelId, randomImageCid(), { value: NATIVE_FEE }),
      ).to.be.revertedWithCustomError(f.escrow, "EnforcedPause");
      await expect(
        f.escrow.connect(user).requestPredictionWithCallback(modelId, randomImageCid(), 0n, { value: NATIVE_FEE }),
      ).to.be.revertedWithCustomError(f.escrow, "EnforcedPause");
    }
    await expect(f.escrow.connect(user).requestPrediction(f.tokenModelId, randomImageCid())).to.be.revertedWithCustomError(
      f.escrow,
      "EnforcedPause",
    );
    await expect(
      f.escrow.connect(user).requestPredictionWithPermit(f.tokenModelId, randomImageCid(), 0n, NO_PERMIT),
    ).to.be.revertedWithCustomError(f.escrow, "EnforcedPause");
    // Pause takes precedence over inactivity; prices stay readable.
    await mined(f.escrow.setModelActive(f.detectorId, false));
    await expect(
      f.escrow.connect(user).requestPrediction(f.detectorId, randomImageCid(), { value: NATIVE_FEE }),
    ).to.be.revertedWithCustomError(f.escrow, "EnforcedPause");
    expect(await f.escrow.quote(f.classifierId, 0n)).to.deep.equal([NATIVE, NATIVE_FEE]);

    expect(eventsOf(f.escrow, await mined(f.escrow.unpause()))).to.deep.equal([["Unpaused", f.admin.address]]);
    expect(await f.escrow.paused()).to.equal(false);
    for (const modelId of [f.classifierId, f.tokenModelId]) expect((await request(f, user, modelId)).modelId).to.equal(modelId);
    await expect(f.escrow.connect(user).requestPrediction(f.detectorId, randomImageCid(), { value: NATIVE_FEE }))
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
    await mined(f.escrow.registerModel(modelConfig({ name: "late" })));
    await expect(
      f.escrow.connect(f.users[0]!).requestPrediction(4n, randomImageCid(), { value: NATIVE_FEE }),
    ).to.be.revertedWithCustomError(f.escrow, "EnforcedPause");
    await mined(f.escrow.unpause());
    expect((await request(f, f.users[0]!, 4n)).modelId).to.equal(4n);
    // And one registered after the unpause is open at once.
    await mined(f.escrow.registerModel(modelConfig({ name: "later" })));
    expect((await request(f, f.users[0]!, 5n)).modelId).to.equal(5n);
  });

  it("never blocks settlement, refunds, withdrawals or model administration", async () => {
    const f = await loadFixture(deployEscrowFixture);
    const [a, b, c] = f.users;
    const toFulfil = await request(f, a!, f.tokenModelId);
    const toReject = await request(f, b!, f.classifierId);
    const toReclaim = await request(f, c!, f.detectorId);
    await mined(f.escrow.pause());

    await mined(f.escrow.connect(f.oracle).fulfillBatch([fulfillment(toFulfil)]));
    await mined(f.escrow.connect(f.oracle).rejectBatch([rejection(toReject)]));
    await time.increaseTo(toReclaim.deadline + 1n);
    expect(eventsOf(f.escrow, await mined(f.escrow.connect(a!).reclaim(toReclaim)))).to.deep.equal([
      ["PredictionExpired", toReclaim.requestId],
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
