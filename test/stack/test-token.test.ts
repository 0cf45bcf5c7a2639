/**
 * What `npm start` deploys for payers without ETH: `deployArgus` with `testToken` (the
 * ArgusLocal Ignition module) puts tUSDC beside the escrow, allows it, mints it to the
 * named holders and sells the first classifier in it as a second model of the same name;
 * registering again changes nothing; and a holder with 0 ETH pays for a request on that
 * live node with the client's own helpers, a relayer sending it.
 */
import { expect } from "chai";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { createPublicClient, createWalletClient, erc20Abi, type Hex, http, keccak256, parseAbi, parseEventLogs, toHex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { hardhat } from "viem/chains";
import { predictionEscrowAbi } from "@argus/escrow/abi";
import { listModels } from "@argus/escrow/escrow-reads";
import { DEFAULT_MODEL_TERMS, registerManifests } from "@argus/escrow/model-registration";
import {
  receiveAuthorizationArgument,
  receiveAuthorizationMessage,
  receiveAuthorizationTypedData,
} from "@argus/escrow/request-authorization";
import { BUILTIN_MANIFESTS_DIR, listManifests } from "@argus/provider-image/catalog";
import {
  type DeployedArgus,
  deployArgus,
  hardhatAccountKey,
  IGNITION_DEPLOYMENTS_DIR,
  type LocalChain,
  modelAdminContext,
  startChain,
  TEST_TOKEN_GRANT,
  TEST_TOKEN_MODEL_TERMS,
} from "@argus/devchain";

const EIP712_DOMAIN_ABI = parseAbi(["function eip712Domain() view returns (bytes1, string, string, uint256, address, bytes32, uint256[])"]);

describe("the local chain's test stablecoin (tUSDC) and the model sold in it", function () {
  this.timeout(120_000);
  let chain: LocalChain;
  let deployed: DeployedArgus;
  const deploymentId = `test-token-${process.pid}`;
  const payer = privateKeyToAccount(keccak256(toHex("argus: a local payer without ETH")));

  before(async function () {
    chain = await startChain();
    deployed = await deployArgus({
      rpcUrl: chain.rpcUrl,
      deploymentId,
      fresh: true,
      manifestsDirs: [BUILTIN_MANIFESTS_DIR],
      testToken: { holders: [payer.address] },
    });
  });

  after(async function () {
    await chain?.close();
    await rm(join(IGNITION_DEPLOYMENTS_DIR, deploymentId), { recursive: true, force: true });
  });

  const client = () => createPublicClient({ chain: hardhat, transport: http(chain.rpcUrl) });

  it("deploys tUSDC (6 decimals), allows it, funds the holders, and sells the first classifier in it", async function () {
    const token = deployed.testToken!;
    expect(token).to.deep.include({ symbol: "tUSDC", decimals: 6 });
    const read = client();
    expect(await read.readContract({ address: token.address, abi: erc20Abi, functionName: "balanceOf", args: [payer.address] })).to.equal(
      TEST_TOKEN_GRANT,
    );
    const [allowed] = await read.readContract({
      address: deployed.escrow,
      abi: predictionEscrowAbi,
      functionName: "feeTokenTerms",
      args: [token.address],
    });
    expect(allowed).to.equal(true);

    const manifests = await listManifests([BUILTIN_MANIFESTS_DIR]);
    const classifier = manifests.find((manifest) => manifest.task === "classification")!;
    const models = await listModels({ client: read, escrow: deployed.escrow });
    expect(models).to.have.length(manifests.length + 1);
    expect(deployed.models.map((model) => model.modelId)).to.deep.equal(models.map((model) => model.id));
    const sold = models.at(-1)!;
    expect(token.model).to.deep.include({ modelId: sold.id, name: classifier.id, action: "registered" });
    expect(sold).to.deep.include({ name: classifier.id, feeToken: token.address, ...TEST_TOKEN_MODEL_TERMS, active: true });
    const native = models.find((model) => model.name === classifier.id && model.id !== sold.id)!;
    expect(native.feeToken).to.equal(DEFAULT_MODEL_TERMS.feeToken);
    expect(sold.manifestCid).to.equal(native.manifestCid);
  });

  it("registers idempotently per name and currency: a second run changes nothing", async function () {
    const token = deployed.testToken!;
    const context = modelAdminContext(chain.rpcUrl, deployed.escrow);
    const manifests = await listManifests([BUILTIN_MANIFESTS_DIR]);
    const again = await registerManifests(context, manifests, DEFAULT_MODEL_TERMS);
    expect(again.map((model) => model.action)).to.deep.equal(manifests.map(() => "unchanged"));
    const sold = await registerManifests(context, [manifests.find((m) => m.id === token.model!.name)!], {
      ...DEFAULT_MODEL_TERMS,
      ...TEST_TOKEN_MODEL_TERMS,
      feeToken: token.address,
    });
    expect(sold).to.deep.equal([{ ...token.model!, action: "unchanged" }]);
  });

  it("takes a request from a holder with 0 ETH, signed with the client's helpers and sent by a relayer", async function () {
    const token = deployed.testToken!;
    const modelId = token.model!.modelId;
    const read = client();
    expect(await read.getBalance({ address: payer.address })).to.equal(0n);
    const [, fee] = await read.readContract({
      address: deployed.escrow,
      abi: predictionEscrowAbi,
      functionName: "quote",
      args: [modelId, 0],
    });
    const [, name, version] = await read.readContract({ address: token.address, abi: EIP712_DOMAIN_ABI, functionName: "eip712Domain" });
    const now = (await read.getBlock()).timestamp;
    const request = {
      escrow: deployed.escrow,
      chainId: deployed.chainId,
      modelId,
      imageCid: `0x01701220${"5a".repeat(32)}` as Hex,
      maxFee: fee,
      callbackGasLimit: 0,
      latestDeadline: now + 2n * 3_600n,
    };
    const message = receiveAuthorizationMessage(request, { from: payer.address, fee, validBefore: now + 600n });
    const signature = await payer.signTypedData(
      receiveAuthorizationTypedData({ address: token.address, name, version, chainId: deployed.chainId }, message),
    );

    const relayer = createWalletClient({
      account: privateKeyToAccount(hardhatAccountKey(4)),
      chain: hardhat,
      transport: http(chain.rpcUrl),
    });
    const hash = await relayer.writeContract({
      address: deployed.escrow,
      abi: predictionEscrowAbi,
      functionName: "requestPredictionWithAuthorization",
      args: [modelId, request.imageCid, 0, fee, Number(request.latestDeadline), receiveAuthorizationArgument(message, signature)],
    });
    const receipt = await read.waitForTransactionReceipt({ hash });
    expect(receipt.status).to.equal("success");
    const [requested] = parseEventLogs({ abi: predictionEscrowAbi, logs: receipt.logs, eventName: "PredictionRequested" });
    expect(requested!.args).to.deep.include({ requester: payer.address, modelId, imageCid: request.imageCid, fee });
    expect(await read.readContract({ address: token.address, abi: erc20Abi, functionName: "balanceOf", args: [payer.address] })).to.equal(
      TEST_TOKEN_GRANT - fee,
    );
    expect(await read.getBalance({ address: payer.address })).to.equal(0n);
  });
});
