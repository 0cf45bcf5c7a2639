import { expect } from "chai";
import { createHash, randomBytes } from "node:crypto";
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encryptKeystoreJson } from "ethers";
import { bytesToHex, createPublicClient, createTestClient, createWalletClient, type Hex, http, parseEther } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { hardhat } from "viem/chains";
import { predictionEscrowAbi } from "@argus/escrow/abi";
import { requestsInLogs } from "@argus/escrow/escrow-reads";
import { packFulfillment } from "@argus/escrow/request-terms";
import type { DeploymentInput } from "@argus/escrow/deployment-record";
import { writeDeploymentFile } from "@argus/escrow/deployment-file";
import { createIpfsClient, pinResult } from "@argus/ipfs-node/client";
import { type EmbeddedIpfs, startEmbeddedIpfs } from "@argus/ipfs-node/embedded";
import { IMAGE_FILE_NAME, writeImageRecord } from "@argus/provider-image/build-output";
import { BUILTIN_MANIFESTS_DIR } from "@argus/provider-image/catalog";
import { manifestBytes, parseManifest } from "@argus/protocol/manifest";
import { resultCidForBytes } from "@argus/protocol/cid";
import {
  type ClassificationResult,
  type InferenceResult,
  isErrorResult,
  onChainSummary,
  resultBytes,
  resultSha256,
} from "@argus/protocol/result";
import { createEngine } from "@argus/provider-image/engine";
import {
  deployArgus,
  type DeployedArgus,
  hardhatAccountAddress,
  hardhatAccountKey,
  IGNITION_DEPLOYMENTS_DIR,
  type LocalChain,
  startChain,
} from "@argus/devchain";
import { requireSharedData, SHARED_IMAGES_DIR, SHARED_MODELS_DIR, sharedImage } from "../support/shared.ts";
import { argus, cleanEnv } from "./support/argus.ts";

/**
 * The commands against a real chain and IPFS node, with no oracle: requests stay
 * pending, so the paths around them — waiting out a timeout, reclaiming after the
 * deadline, withdrawing the refund, querying events, registering a model — are
 * exercised with exact outcomes. Answers that only a test can make (a genuine result
 * of another model) are posted with the oracle's key; the oracle's own answered path
 * runs in test/stack/smoke.test.ts.
 */
describe("argus CLI commands on a local chain (no oracle)", function () {
  this.timeout(180_000);
  let workDir: string;
  let chain: LocalChain;
  let ipfs: EmbeddedIpfs;
  let deployed: DeployedArgus;
  let env: NodeJS.ProcessEnv;
  const deploymentId = `test-cli-${process.pid}`;
  const user = hardhatAccountAddress(4);

  before(async function () {
    requireSharedData(this);
    workDir = await mkdtemp(join(tmpdir(), "argus-cli-"));
    chain = await startChain();
    deployed = await deployArgus({ rpcUrl: chain.rpcUrl, deploymentId, fresh: true, manifestsDirs: [BUILTIN_MANIFESTS_DIR] });
    ipfs = await startEmbeddedIpfs({ apiPort: 0, gatewayPort: 0, dataDir: join(workDir, "ipfs"), readTimeoutMs: 2_000 });
    const record: DeploymentInput = {
      schemaVersion: 1,
      chain: { id: deployed.chainId, name: "test chain", rpcUrl: chain.rpcUrl },
      contracts: { predictionEscrow: { address: deployed.escrow, deployBlock: deployed.deployBlock } },
      ipfs: { apiUrl: ipfs.apiUrl, gatewayUrl: ipfs.gatewayUrl },
    };
    await writeDeploymentFile(join(workDir, "deployment.json"), record);
    env = cleanEnv({ ARGUS_DEPLOYMENT_FILE: join(workDir, "deployment.json"), ARGUS_PRIVATE_KEY: hardhatAccountKey(4) });
  });

  after(async function () {
    await ipfs?.stop();
    await chain?.close();
    await rm(join(IGNITION_DEPLOYMENTS_DIR, deploymentId), { recursive: true, force: true });
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it("models list: the registry, as text and as JSON", async function () {
    const json = await argus(["models", "list", "--json"], env);
    expect(json.code, json.stderr).to.equal(0);
    const models = json.json<{ id: number; name: string; task: string; active: boolean; fee: string; manifestCid: string }[]>();
    expect(models.map((model) => model.name)).to.deep.equal(["fastestdet-coco80", "mobilenetv2-12-int8", "squeezenet1.1-fp16"]);
    expect(models[0]).to.deep.include({ id: 1, task: "detection", active: true, fee: parseEther("0.001").toString() });
    expect(models[0]!.manifestCid).to.match(/^bafkrei/);
    const text = await argus(["models", "list"], env);
    expect(text.stdout).to.match(/2\s+mobilenetv2-12-int8\s+classification\s+0\.001 ETH/);
  });

  it("request without a key: exit 1, naming the variables", async function () {
    const { ARGUS_PRIVATE_KEY: _key, ...keyless } = env;
    const run = await argus(["request", "--model", "2", "--image", sharedImage("wml_cat.jpg")], keyless);
    expect(run.code).to.equal(1);
    expect(run.stderr).to.include("no key to sign with: set ARGUS_PRIVATE_KEY, or ARGUS_KEYSTORE and ARGUS_KEYSTORE_PASSWORD");
  });

  it("request with a keystore: signs with the decrypted key", async function () {
    const keystore = join(workDir, "keystore.json");
    const account = { address: hardhatAccountAddress(5), privateKey: hardhatAccountKey(5) };
    await writeFile(keystore, await encryptKeystoreJson(account, "correct horse", { scrypt: { N: 1024 } }));
    const { ARGUS_PRIVATE_KEY: _key, ...keyless } = env;
    const wrong = await argus(["request", "--model", "2", "--image", sharedImage("wml_cat.jpg")], {
      ...keyless,
      ARGUS_KEYSTORE: keystore,
      ARGUS_KEYSTORE_PASSWORD: "wrong",
    });
    expect(wrong.code).to.equal(1);
    expect(wrong.stderr).to.include(`cannot decrypt the keystore ${keystore}`);
    const run = await argus(["request", "--model", "2", "--image", sharedImage("wml_cat.jpg"), "--json"], {
      ...keyless,
      ARGUS_KEYSTORE: keystore,
      ARGUS_KEYSTORE_PASSWORD: "correct horse",
    });
    expect(run.code, run.stderr).to.equal(0);
    expect(run.json().requester).to.equal(hardhatAccountAddress(5));
  });

  it("request refuses an unknown model and a file the oracle would reject, before paying", async function () {
    const unknown = await argus(["request", "--model", "resnet", "--image", sharedImage("wml_cat.jpg")], env);
    expect(unknown.code).to.equal(1);
    expect(unknown.stderr).to.include('no model "resnet"').and.to.include("2 mobilenetv2-12-int8");
    const notImage = join(workDir, "notes.txt");
    await writeFile(notImage, "not an image");
    const refused = await argus(["request", "--model", "2", "--image", notImage], env);
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.include("would be rejected by the oracle (NOT_AN_IMAGE)");
    const events = await argus(["events", "--json", "--requester", user], env);
    expect(events.lines()).to.deep.equal([]);
  });

  it("request → pending; result --wait times out (exit 1); reclaim before the deadline is refused; after it, reclaim, result --wait exits 3, withdraw pays the refund", async function () {
    const sent = await argus(["request", "--model", "mobilenetv2-12-int8", "--image", sharedImage("mlg_kitten.jpg"), "--json"], env);
    expect(sent.code, sent.stderr).to.equal(0);
    const request = sent.json<{ requestId: string; status: string; imageCid: string; fee: string; deadline: number }>();
    expect(request.status).to.equal("pending");
    // The image was pinned where the record says, as CIDv1 with raw leaves.
    expect(request.imageCid).to.match(/^bafkrei/);
    const pinned = await createIpfsClient(ipfs.apiUrl).cat(request.imageCid)[Symbol.asyncIterator]().next();
    expect(pinned.done).to.equal(false);

    const status = await argus(["result", request.requestId, "--json"], env);
    expect(status.code, status.stderr).to.equal(0);
    expect(status.json()).to.deep.include({ status: "pending", requestId: request.requestId });

    const waited = await argus(["result", request.requestId, "--wait", "--timeout", "1"], env);
    expect(waited.code).to.equal(1);
    expect(waited.stderr).to.include(`request ${request.requestId} is still pending after`);

    const early = await argus(["reclaim", request.requestId], env);
    expect(early.code).to.equal(1);
    expect(early.stderr).to.include("is not past its deadline");

    const testClient = createTestClient({ chain: hardhat, mode: "hardhat", transport: http(chain.rpcUrl) });
    await testClient.increaseTime({ seconds: 3_601 });
    await testClient.mine({ blocks: 1 });
    const overdue = await argus(["result", request.requestId, "--json"], env);
    expect(overdue.json().status).to.equal("overdue");

    const reclaimed = await argus(["reclaim", request.requestId, "--json"], env);
    expect(reclaimed.code, reclaimed.stderr).to.equal(0);
    expect(reclaimed.json()).to.deep.include({ refunded: true, amount: request.fee, to: user });
    const again = await argus(["reclaim", request.requestId], env);
    expect(again.code).to.equal(1);
    expect(again.stderr).to.include("already settled (expired)");

    const expired = await argus(["result", request.requestId, "--wait", "--json"], env);
    expect(expired.code, "rejected or expired while waiting: exit 3").to.equal(3);
    expect(expired.json()).to.deep.include({ status: "expired" });

    const withdrawn = await argus(["withdraw", "--json"], env);
    expect(withdrawn.code, withdrawn.stderr).to.equal(0);
    expect(withdrawn.json()).to.deep.include({ withdrawn: true, amount: request.fee, to: user });
    const nothing = await argus(["withdraw"], env);
    expect(nothing.code).to.equal(0);
    expect(nothing.stdout).to.include("nothing to withdraw");

    const events = await argus(["events", "--json", "--requester", user], env);
    expect(events.lines<{ event: string; requestId: string }>().map((event) => [event.event, event.requestId])).to.deep.equal([
      ["PredictionRequested", request.requestId],
      ["PredictionExpired", request.requestId],
    ]);
    const byModel = await argus(["events", "--json", "--model", "squeezenet1.1-fp16"], env);
    expect(byModel.lines()).to.deep.equal([]);
    const text = await argus(["events", "--request", request.requestId], env);
    expect(text.stdout).to.match(
      /PredictionRequested\s+\d+\s+model 2 mobilenetv2-12-int8 by 0x[0-9a-fA-F]{40}, image bafkrei\w+, fee 0\.001 ETH/,
    );
  });

  it("result of a request that does not exist: exit 1", async function () {
    const run = await argus(["result", "12345"], env);
    expect(run.code).to.equal(1);
    expect(run.stderr).to.include(`no request 12345 on the escrow ${deployed.escrow}`);
  });

  it("result of an answered request: verified when the result is this request's, NO when it comes from another model", async function () {
    const client = createPublicClient({ chain: hardhat, transport: http(chain.rpcUrl) });
    // deployArgus makes account 1 the operator of every model it registers.
    const oracle = createWalletClient({
      account: privateKeyToAccount(hardhatAccountKey(1)),
      chain: hardhat,
      transport: http(chain.rpcUrl),
    });
    /** Pays a request for MobileNetV2, answers it with a result that names `modelId`, and runs `argus result` on it. */
    async function answeredAs(modelId: string) {
      const sent = await argus(["request", "--model", "mobilenetv2-12-int8", "--image", sharedImage("mlg_kitten.jpg"), "--json"], env);
      expect(sent.code, sent.stderr).to.equal(0);
      const paid = sent.json<{ requestTransaction: Hex }>();
      const [request] = requestsInLogs((await client.getTransactionReceipt({ hash: paid.requestTransaction })).logs);
      const result: ClassificationResult = {
        schemaVersion: 3,
        requestId: request!.terms.requestId.toString(),
        imageCid: request!.imageCid,
        modelId,
        task: "classification",
        weightsSha256: "cc028fe6cae7bc11a4ff53cfc9b79c920e8be65ce33a904ec3e2a8f66d77f95f",
        manifestCid: request!.imageCid,
        image: { width: 640, height: 480, format: "jpeg" },
        top5: [{ classIndex: 281, label: "tabby, tabby cat", score: 0.6123 }],
        timings: { decodeMs: 9.5, inferenceMs: 1.6, batchSize: 1 },
        runtime: {
          engine: "0.1.0",
          node: "24.21.0",
          onnxruntime: "1.30.0",
          sharp: "0.35.5",
          libvips: "8.17.0",
          inferencePath: "native-int8",
        },
      };
      await pinResult(createIpfsClient(ipfs.apiUrl), resultBytes(result));
      const item = packFulfillment(request!.terms, bytesToHex(await resultSha256(result)), onChainSummary(result));
      const hash = await oracle.writeContract({
        address: deployed.escrow,
        abi: predictionEscrowAbi,
        functionName: "fulfillBatch",
        args: [[item]],
      });
      expect((await client.waitForTransactionReceipt({ hash })).status).to.equal("success");
      return argus(["result", request!.terms.requestId.toString(), "--json"], env);
    }

    const genuine = await answeredAs("mobilenetv2-12-int8");
    expect(genuine.code, genuine.stderr).to.equal(0);
    expect(genuine.json()).to.deep.include({ status: "fulfilled", verified: true });
    const forged = await answeredAs("squeezenet1.1-fp16");
    expect(forged.code, "not verifiable: exit 1").to.equal(1);
    expect(forged.json()).to.deep.include({ status: "fulfilled", verified: false });
    expect(forged.json().problem).to.match(/from model squeezenet1\.1-fp16, not the requested mobilenetv2-12-int8/);
  });

  it("verify --recompute: match for the engine's own answer, mismatch for a corrupted one (right schema, wrong classes)", async function () {
    const client = createPublicClient({ chain: hardhat, transport: http(chain.rpcUrl) });
    const oracle = createWalletClient({
      account: privateKeyToAccount(hardhatAccountKey(1)),
      chain: hardhat,
      transport: http(chain.rpcUrl),
    });
    const manifest = parseManifest(JSON.parse(await readFile(join(BUILTIN_MANIFESTS_DIR, "mobilenetv2-12-int8.json"), "utf8")));
    await pinResult(createIpfsClient(ipfs.apiUrl), manifestBytes(manifest));
    /** Pays a request, answers it with the engine's result passed through `tamper`, and runs `argus verify --recompute`. */
    async function answered(tamper: (result: InferenceResult) => InferenceResult, extra: string[] = ["--recompute"]) {
      const sent = await argus(["request", "--model", manifest.id, "--image", sharedImage("mlg_kitten.jpg"), "--json"], env);
      expect(sent.code, sent.stderr).to.equal(0);
      const paid = sent.json<{ requestTransaction: Hex }>();
      const [request] = requestsInLogs((await client.getTransactionReceipt({ hash: paid.requestTransaction })).logs);
      const engine = createEngine({ referencePhotosDir: SHARED_IMAGES_DIR, modelsDir: SHARED_MODELS_DIR });
      const image = { bytes: await readFile(sharedImage("mlg_kitten.jpg")) };
      const [honest] = await engine.run(manifest.id, [
        { requestId: request!.terms.requestId.toString(), imageCid: request!.imageCid, image },
      ]);
      const result = tamper(honest!);
      if (isErrorResult(result)) throw new Error("the kitten must be classified");
      await pinResult(createIpfsClient(ipfs.apiUrl), resultBytes(result));
      const item = packFulfillment(request!.terms, bytesToHex(await resultSha256(result)), onChainSummary(result));
      const hash = await oracle.writeContract({
        address: deployed.escrow,
        abi: predictionEscrowAbi,
        functionName: "fulfillBatch",
        args: [[item]],
      });
      expect((await client.waitForTransactionReceipt({ hash })).status).to.equal("success");
      const id = request!.terms.requestId.toString();
      return argus(["verify", id, ...extra, "--models-dir", SHARED_MODELS_DIR, "--json"], env);
    }

    const genuine = await answered((result) => result);
    expect(genuine.code, genuine.stderr).to.equal(0);
    expect(genuine.json()).to.deep.include({
      status: "fulfilled",
      verified: true,
      verdict: "match",
      manifestSource: "ipfs",
      differences: [],
    });

    // A lying provider: valid schema, consistent summary, the right request — wrong classes.
    const lie = (result: InferenceResult): InferenceResult =>
      "top5" in result
        ? { ...result, top5: result.top5.map((entry, index) => ({ ...entry, classIndex: 900 + index, label: `not ${entry.label}` })) }
        : result;
    const storageOnly = await answered(lie, []);
    expect(storageOnly.code, "the digest check alone cannot see a lie").to.equal(0);
    expect(storageOnly.json()).to.deep.include({ verified: true });
    const corrupted = await answered(lie);
    expect(corrupted.code, "mismatch: exit 1").to.equal(1);
    const report = corrupted.json<{ verdict: string; differences: { field: string; expected: string; actual: string }[] }>();
    expect(report.verdict).to.equal("mismatch");
    expect(report.differences).to.have.length(1);
    expect(report.differences[0]).to.deep.include({ field: "top5", actual: "900,901,902,903,904" });

    // A result that names a manifest of its own (same model id, other weights) recomputes nothing registered.
    const foreign = { ...manifest, weights: { ...manifest.weights, sha256: "ab".repeat(32) } };
    const foreignCid = (await pinResult(createIpfsClient(ipfs.apiUrl), manifestBytes(foreign))).toString();
    const renamed = await answered((result) => ("top5" in result ? { ...result, manifestCid: foreignCid } : result));
    expect(renamed.code).to.equal(1);
    expect(renamed.json<{ differences: { field: string }[] }>().differences.map((d) => d.field)).to.deep.equal(["manifest.weights.sha256"]);

    const missing = await argus(["verify", "12345", "--recompute"], env);
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.include("no request 12345");
  });

  it("verify --recompute: every shared photo, every registered model, answered from a batch run, matches one image recomputed", async function () {
    const client = createPublicClient({ chain: hardhat, transport: http(chain.rpcUrl) });
    const oracle = createWalletClient({
      account: privateKeyToAccount(hardhatAccountKey(1)),
      chain: hardhat,
      transport: http(chain.rpcUrl),
    });
    const photos = (await readdir(SHARED_IMAGES_DIR)).filter((name) => /\.(jpe?g|png|webp|gif|avif)$/i.test(name)).sort();
    expect(photos.length).to.be.greaterThan(0);
    for (const modelId of ["mobilenetv2-12-int8", "squeezenet1.1-fp16", "fastestdet-coco80"]) {
      const requests = [];
      for (const photo of photos) {
        const sent = await argus(["request", "--model", modelId, "--image", sharedImage(photo), "--json"], env);
        expect(sent.code, sent.stderr).to.equal(0);
        const hash = sent.json<{ requestTransaction: Hex }>().requestTransaction;
        const [request] = requestsInLogs((await client.getTransactionReceipt({ hash })).logs);
        requests.push({ request: request!, photo });
      }
      // The oracle's way: all photos in one batch.
      const results = await createEngine({ referencePhotosDir: SHARED_IMAGES_DIR, modelsDir: SHARED_MODELS_DIR }).run(
        modelId,
        await Promise.all(
          requests.map(async ({ request, photo }) => ({
            requestId: request.terms.requestId.toString(),
            imageCid: request.imageCid,
            image: { bytes: await readFile(sharedImage(photo)) },
          })),
        ),
      );
      const items = [];
      for (const [index, result] of results.entries()) {
        if (isErrorResult(result)) throw new Error(`${modelId} must give a prediction for ${requests[index]!.photo}`);
        await pinResult(createIpfsClient(ipfs.apiUrl), resultBytes(result));
        items.push(packFulfillment(requests[index]!.request.terms, bytesToHex(await resultSha256(result)), onChainSummary(result)));
      }
      const hash = await oracle.writeContract({
        address: deployed.escrow,
        abi: predictionEscrowAbi,
        functionName: "fulfillBatch",
        args: [items],
      });
      expect((await client.waitForTransactionReceipt({ hash })).status).to.equal("success");
      for (const { request, photo } of requests) {
        const verified = await argus(
          ["verify", request.terms.requestId.toString(), "--recompute", "--models-dir", SHARED_MODELS_DIR, "--json"],
          env,
        );
        expect(verified.code, `${modelId} on ${photo}: ${verified.stdout}${verified.stderr}`).to.equal(0);
        expect(verified.json()).to.deep.include({ verdict: "match", differences: [] });
      }
    }
  });

  it("models add: checks the weights' sha256, pins the manifest, registers it with its operator (model admin only), refuses a duplicate unless --update", async function () {
    const manifest = parseManifest(JSON.parse(await readFile(join(BUILTIN_MANIFESTS_DIR, "squeezenet1.1-fp16.json"), "utf8")));
    const copy = { ...manifest, id: "squeezenet-copy", name: "SqueezeNet copy" };
    const manifestFile = join(workDir, "squeezenet-copy.json");
    await writeFile(manifestFile, JSON.stringify(copy));
    const onnx = join(workDir, "squeezenet1.1-fp16.onnx");
    await copyFile(join(SHARED_MODELS_DIR, "squeezenet1.1-fp16.onnx"), onnx);
    await copyFile(join(SHARED_MODELS_DIR, "imagenet-synset.txt"), join(workDir, "imagenet-synset.txt")); // the self-test's labels

    const wrongWeights = await argus(
      ["models", "add", join(SHARED_MODELS_DIR, "mobilenetv2-12-int8.onnx"), "--manifest", manifestFile],
      env,
    );
    expect(wrongWeights.code).to.equal(1);
    expect(wrongWeights.stderr).to.include(`but the manifest pins ${manifest.weights.sha256}`);

    const notAdmin = await argus(["models", "add", onnx, "--manifest", manifestFile], env);
    expect(notAdmin.code).to.equal(1);
    expect(notAdmin.stderr).to.include(`${user} does not hold MODEL_ADMIN_ROLE`);

    const admin = { ...env, ARGUS_PRIVATE_KEY: hardhatAccountKey(0) };
    const noOperator = await argus(["models", "add", onnx, "--manifest", manifestFile], admin);
    expect(noOperator.code).to.equal(2);
    expect(noOperator.stderr).to.include("--operator is required to register a model");
    const oracleAccount = hardhatAccountAddress(1);
    const added = await argus(
      [
        "models",
        "add",
        onnx,
        "--manifest",
        manifestFile,
        "--operator",
        oracleAccount,
        "--fee",
        "0.002",
        "--response-window",
        "30m",
        "--json",
      ],
      admin,
    );
    expect(added.code, added.stderr).to.equal(0);
    const registered = added.json<{ modelId: number; action: string; manifestCid: string }>();
    expect(registered).to.deep.include({ modelId: 4, action: "registered", selfTest: { correct: 6, total: 6, minimumCorrect: 6 } });
    expect(registered.manifestCid).to.equal((await resultCidForBytes(manifestBytes(copy))).toString());
    const block = await createIpfsClient(ipfs.apiUrl).block.get(await resultCidForBytes(manifestBytes(copy)));
    expect(Buffer.from(block).equals(Buffer.from(manifestBytes(copy)))).to.equal(true);

    const listed = (await argus(["models", "list", "--json"], env)).json<
      { id: number; name: string; fee: string; responseWindow: number; manifestCid: string }[]
    >();
    expect(listed[3]).to.deep.include({
      id: 4,
      name: "squeezenet-copy",
      fee: parseEther("0.002").toString(),
      responseWindow: 1800,
      manifestCid: registered.manifestCid,
    });

    const duplicate = await argus(["models", "add", onnx, "--manifest", manifestFile], admin);
    expect(duplicate.code).to.equal(1);
    expect(duplicate.stderr).to.include("is registered already (#4); --update changes it");
    const client = createPublicClient({ chain: hardhat, transport: http(chain.rpcUrl) });
    const isOperator = (account: Hex) =>
      client.readContract({ address: deployed.escrow, abi: predictionEscrowAbi, functionName: "isModelOperator", args: [4, account] });
    expect(await isOperator(oracleAccount)).to.equal(true);
    const second = hardhatAccountAddress(6);
    const updated = await argus(
      ["models", "add", onnx, "--manifest", manifestFile, "--fee", "0.003", "--operator", second, "--update", "--json"],
      admin,
    );
    expect(updated.code, updated.stderr).to.equal(0);
    expect(updated.json()).to.deep.include({ modelId: 4, action: "updated" });
    expect([await isOperator(oracleAccount), await isOperator(second)]).to.deep.equal([true, true]);
  });

  it("models add: a model that fails its self-test is refused, naming the photos it got wrong, and nothing is registered", async function () {
    const manifest = JSON.parse(await readFile(join(BUILTIN_MANIFESTS_DIR, "squeezenet1.1-fp16.json"), "utf8"));
    const rgb = { ...manifest, id: "squeezenet-rgb", preprocess: { ...manifest.preprocess, colorOrder: "RGB", mean: [123, 117, 104] } };
    delete rgb.selfTest.measured;
    const manifestFile = join(workDir, "squeezenet-rgb.json");
    await writeFile(manifestFile, JSON.stringify(rgb));
    const admin = { ...env, ARGUS_PRIVATE_KEY: hardhatAccountKey(0), ARGUS_MODELS_DIR: SHARED_MODELS_DIR };
    const before = (await argus(["models", "list", "--json"], env)).json<unknown[]>().length;
    const refused = await argus(["models", "add", join(SHARED_MODELS_DIR, "squeezenet1.1-fp16.onnx"), "--manifest", manifestFile], admin);
    expect(refused.code).to.equal(1);
    expect(refused.stderr)
      .to.include("model squeezenet-rgb failed its self-test on imagenet-photos-v1: 4 of 6 right, its manifest requires 6")
      .and.include("glow_dog_207.png: expected golden retriever (207), obtained", refused.stderr);
    expect((await argus(["models", "list", "--json"], env)).json<unknown[]>().length).to.equal(before);
    expect(JSON.parse(await readFile(manifestFile, "utf8")).selfTest.measured).to.equal(undefined);
  });

  it("models add --provider-image: registers the hash from the image build's record, once the file beside it hashes to it", async function () {
    const admin = { ...env, ARGUS_PRIVATE_KEY: hardhatAccountKey(0) };
    const manifest = parseManifest(JSON.parse(await readFile(join(BUILTIN_MANIFESTS_DIR, "squeezenet1.1-fp16.json"), "utf8")));
    const manifestFile = join(workDir, "squeezenet-golem.json");
    await writeFile(manifestFile, JSON.stringify({ ...manifest, id: "squeezenet-golem" }));
    const onnx = join(SHARED_MODELS_DIR, "squeezenet1.1-fp16.onnx");
    // What `npm run build:provider-image` leaves in provider-image/dist (the bytes need not be a real image here).
    const dist = join(workDir, "dist");
    await mkdir(dist);
    const image = randomBytes(64 * 1024);
    await writeFile(join(dist, IMAGE_FILE_NAME), image);
    const hash = createHash("sha3-224").update(image).digest("hex");
    await writeImageRecord(dist, {
      file: IMAGE_FILE_NAME,
      hash,
      sizeBytes: image.length,
      squashfsBytes: 61440,
      buildSeconds: 1,
      config: {},
    });

    const both = await argus(
      ["models", "add", onnx, "--manifest", manifestFile, "--provider-image", dist, "--provider-image-hash", hash],
      admin,
    );
    expect(both.code).to.equal(2);
    expect(both.stderr).to.include("not both");

    const added = await argus(
      [
        "models",
        "add",
        onnx,
        "--manifest",
        manifestFile,
        "--operator",
        hardhatAccountAddress(1),
        "--provider-image",
        join(dist, "image.json"),
        "--json",
      ],
      admin,
    );
    expect(added.code, added.stderr).to.equal(0);
    const { modelId } = added.json<{ modelId: number }>();
    const listed = (await argus(["models", "list", "--json"], env)).json<{ id: number; providerImageHash: string }[]>();
    expect(listed.find((model) => model.id === modelId)?.providerImageHash).to.equal(`0x${hash}00000000`);

    // The image was rebuilt (or damaged) after its record was written: no hash is registered from it.
    image.writeUInt8(image.readUInt8(100) ^ 0xff, 100);
    await writeFile(join(dist, IMAGE_FILE_NAME), image);
    const stale = await argus(["models", "add", onnx, "--manifest", manifestFile, "--provider-image", dist, "--update"], admin);
    expect(stale.code).to.equal(1);
    expect(stale.stderr).to.include(`says ${hash}: rebuild the image`);
    const missing = await argus(["models", "add", onnx, "--manifest", manifestFile, "--provider-image", join(workDir, "nowhere")], admin);
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.include("npm run build:provider-image");
  });

  it("a record of another chain is refused", async function () {
    const file = join(workDir, "other-chain.json");
    const record = JSON.parse(await readFile(join(workDir, "deployment.json"), "utf8")) as DeploymentInput;
    await writeDeploymentFile(file, { ...record, chain: { ...record.chain, id: 11155111 } });
    const run = await argus(["models", "list", "--deployment", file], env);
    expect(run.code).to.equal(1);
    expect(run.stderr).to.include(`is for chain 11155111, but ${chain.rpcUrl} serves chain 31337`);
  });
});
