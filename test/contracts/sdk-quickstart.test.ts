/**
 * The SDK quick start of contracts/client/README.md, run as written: the test extracts
 * its ```ts block, runs it with Node against a local chain and IPFS node with the escrow
 * deployed, and plays the oracle (it answers the request the snippet paid for with a
 * result pinned to IPFS). A snippet that no longer runs, or no longer prints the
 * verified result, fails it.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { bytesToHex, createPublicClient, createWalletClient, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { hardhat } from "viem/chains";
import { predictionEscrowAbi } from "@argus/escrow/abi";
import { findRequests, type RequestRecord } from "@argus/escrow/escrow-reads";
import { PredictionRefundedError, WaitTimeoutError } from "@argus/escrow/errors";
import { quote } from "@argus/escrow/quote";
import { requestPrediction } from "@argus/escrow/request-prediction";
import { packFulfillment, RejectReason } from "@argus/escrow/request-terms";
import { waitForResult } from "@argus/escrow/wait-for-result";
import { deployArgus, type DeployedArgus, hardhatAccountKey, IGNITION_DEPLOYMENTS_DIR, type LocalChain, startChain } from "@argus/devchain";
import { createIpfsClient, pinResult } from "@argus/ipfs-node/client";
import { type EmbeddedIpfs, startEmbeddedIpfs } from "@argus/ipfs-node/embedded";
import { type ClassificationResult, onChainSummary, resultBytes, resultSha256 } from "@argus/protocol/result";
import { REPO_ROOT } from "../support/shared.ts";

const README = join(REPO_ROOT, "contracts/client/README.md");
const MAX_QUICK_START_LINES = 15;
/** A classifier among the built-in manifests `deployArgus` registers. */
const CLASSIFIER = "mobilenetv2-12-int8";

/** The first ```ts block under the README's "Quick start" heading. */
async function quickStart(): Promise<string> {
  const readme = await readFile(README, "utf8");
  const match = /```ts\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf("## Quick start")));
  if (!match) throw new Error(`${README} has no \`\`\`ts block under "Quick start"`);
  return match[1]!;
}

function runNode(file: string, env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file], { cwd: REPO_ROOT, env, stdio: ["ignore", "pipe", "pipe"], timeout: 150_000 });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (text: string) => (stdout += text));
    child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

describe("SDK quick start (contracts/client/README.md)", function () {
  this.timeout(180_000);
  let workDir: string;
  let chain: LocalChain;
  let ipfs: EmbeddedIpfs;
  let deployed: DeployedArgus;
  const deploymentId = `test-sdk-quickstart-${process.pid}`;

  before(async function () {
    workDir = await mkdtemp(join(tmpdir(), "argus-sdk-"));
    chain = await startChain();
    deployed = await deployArgus({ rpcUrl: chain.rpcUrl, deploymentId, fresh: true });
    ipfs = await startEmbeddedIpfs({ apiPort: 0, gatewayPort: 0, dataDir: join(workDir, "ipfs"), readTimeoutMs: 2_000 });
  });

  after(async function () {
    await ipfs?.stop();
    await chain?.close();
    await rm(join(IGNITION_DEPLOYMENTS_DIR, deploymentId), { recursive: true, force: true });
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it(`is at most ${MAX_QUICK_START_LINES} lines, pays, waits and prints the verified result`, async function () {
    const snippet = await quickStart();
    expect(snippet.trimEnd().split("\n").length).to.be.at.most(MAX_QUICK_START_LINES);
    const model = deployed.models.find((registered) => registered.name === CLASSIFIER);
    if (!model) throw new Error(`${CLASSIFIER} is not registered`);
    const imageCid = (
      await createIpfsClient(ipfs.apiUrl).add(randomBytes(512), { cidVersion: 1, rawLeaves: true, pin: true })
    ).cid.toString();

    // Inside the repository, so that its imports resolve as a user's would.
    const scriptDir = join(REPO_ROOT, "test-output");
    await mkdir(scriptDir, { recursive: true });
    const script = join(scriptDir, `sdk-quickstart-${process.pid}.ts`);
    await writeFile(script, snippet);
    const running = runNode(script, {
      PATH: process.env.PATH,
      RPC_URL: chain.rpcUrl,
      ESCROW: deployed.escrow,
      PRIVATE_KEY: hardhatAccountKey(5),
      IPFS_GATEWAY: ipfs.gatewayUrl,
      MODEL_ID: String(model.modelId),
      IMAGE_CID: imageCid,
    });

    // The oracle's part: answer the request the snippet paid for.
    const client = createPublicClient({ chain: hardhat, transport: http(chain.rpcUrl) });
    const reader = { client, escrow: deployed.escrow, deployBlock: BigInt(deployed.deployBlock) };
    let request: RequestRecord | undefined;
    for (let tries = 0; request === undefined && tries < 600; tries++) {
      [request] = await findRequests(reader, { requester: privateKeyToAccount(hardhatAccountKey(5)).address });
      if (request === undefined) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    if (!request) throw new Error(`the quick start paid for no request: ${(await running).stderr}`);
    expect(request.imageCid).to.equal(imageCid);
    expect(request.terms.modelId).to.equal(model.modelId);
    const result: ClassificationResult = {
      schemaVersion: 3,
      requestId: request.terms.requestId.toString(),
      imageCid,
      modelId: model.name,
      task: "classification",
      weightsSha256: "cc028fe6cae7bc11a4ff53cfc9b79c920e8be65ce33a904ec3e2a8f66d77f95f",
      manifestCid: model.manifestCid,
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
    const oracle = createWalletClient({
      account: privateKeyToAccount(hardhatAccountKey(1)),
      chain: hardhat,
      transport: http(chain.rpcUrl),
    });
    const item = packFulfillment(request.terms, bytesToHex(await resultSha256(result)), onChainSummary(result));
    const hash = await oracle.writeContract({
      address: deployed.escrow,
      abi: predictionEscrowAbi,
      functionName: "fulfillBatch",
      args: [[item]],
    });
    expect((await client.waitForTransactionReceipt({ hash })).status).to.equal("success");

    const run = await running;
    await rm(script, { force: true });
    expect(run.code, run.stderr).to.equal(0);
    // It prints the result only when verifyResult accepted it (else the problem).
    expect(run.stdout).to.include(`requestId: '${request.terms.requestId}'`);
    expect(run.stdout).to.include("classIndex: 281");
  });

  it("waitForResult: WaitTimeoutError while unsettled, PredictionRefundedError once rejected; requestPrediction pays the quote", async function () {
    const model = deployed.models.find((registered) => registered.name === CLASSIFIER)!;
    const client = createPublicClient({ chain: hardhat, transport: http(chain.rpcUrl) });
    const wallet = createWalletClient({
      account: privateKeyToAccount(hardhatAccountKey(6)),
      chain: hardhat,
      transport: http(chain.rpcUrl),
    });
    const argus = { client, wallet, escrow: deployed.escrow, deployBlock: BigInt(deployed.deployBlock), logRangeBlocks: 2n };
    const { fee } = await quote(argus, model.modelId);
    const imageCid = (
      await createIpfsClient(ipfs.apiUrl).add(randomBytes(64), { cidVersion: 1, rawLeaves: true, pin: true })
    ).cid.toString();
    const request = await requestPrediction(argus, { modelId: model.modelId, imageCid });
    expect(request.terms.fee).to.equal(fee);
    expect(request.model.name).to.equal(CLASSIFIER);

    const unsettled = await waitForResult(argus, request, { timeoutMs: 300, pollMs: 100 }).catch((error: unknown) => error);
    expect(unsettled).to.be.instanceOf(WaitTimeoutError);
    expect((unsettled as WaitTimeoutError).requestId).to.equal(request.terms.requestId);

    const oracle = createWalletClient({
      account: privateKeyToAccount(hardhatAccountKey(1)),
      chain: hardhat,
      transport: http(chain.rpcUrl),
    });
    const hash = await oracle.writeContract({
      address: deployed.escrow,
      abi: predictionEscrowAbi,
      functionName: "rejectBatch",
      args: [[{ terms: { ...request.terms, deadline: Number(request.terms.deadline) }, reason: RejectReason.NotAnImage }]],
    });
    expect((await client.waitForTransactionReceipt({ hash })).status).to.equal("success");
    // Some blocks later, so the bounded log ranges (2 blocks each) are really walked.
    for (let i = 0; i < 5; i++) await client.request({ method: "evm_mine" as never, params: [] as never });
    const refused = await waitForResult(argus, request, { timeoutMs: 5_000, pollMs: 100 }).catch((error: unknown) => error);
    expect(refused).to.be.instanceOf(PredictionRefundedError);
    expect((refused as PredictionRefundedError).settlement).to.deep.include({ kind: "rejected", reasonName: "NotAnImage" });
  });
});
