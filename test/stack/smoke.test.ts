import { expect } from "chai";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sha256 } from "multiformats/hashes/sha2";
import { toHex } from "viem";
import { parseDeployment } from "@argus/escrow/deployment-record";
import { createIpfsClient } from "@argus/ipfs-node/client";
import { resultCidFromDigest } from "@argus/protocol/cid";
import { startEmbeddedIpfs } from "@argus/ipfs-node/embedded";
import { deployArgus, hardhatAccountKey, IGNITION_DEPLOYMENTS_DIR, startChain } from "@argus/devchain";
import { argusProcess, cleanEnv } from "../cli/support/argus.ts";
import { requireSharedData, SHARED_MODELS_DIR, sharedImage } from "../support/shared.ts";
import { descendants, freePorts, isAlive, type NpmStart, npmStart, portIsFree } from "./support/npm-start.ts";

const expected = JSON.parse(await readFile(sharedImage("expected.json"), "utf8").catch(() => "{}")) as Record<string, { accept: number[] }>;

/**
 * After Ctrl-C npm re-raises SIGINT on itself once its script has exited (a shell then
 * reports 130), whatever the script's exit code; the launcher's own clean exit shows in
 * its last line, printed only after every component has stopped.
 */
function expectCleanStop(exit: { code: number | null; signal: NodeJS.Signals | null }, stack: NpmStart): void {
  const tail = stack.output().trimEnd().split("\n").slice(-12).join("\n");
  expect([0, 130, "SIGINT"], tail).to.include(exit.signal ?? exit.code);
  expect(tail).to.match(/\[argus\]\s+stopped$/);
  expect(tail).not.to.include("unclean");
}

describe("npm start: the whole local stack", function () {
  this.timeout(300_000);
  let stateDir: string;
  let ports: number[];
  let env: NodeJS.ProcessEnv;
  let stack: NpmStart | undefined;
  const deploymentId = `test-stack-${process.pid}`;

  before(async function () {
    requireSharedData(this);
    stateDir = await mkdtemp(join(tmpdir(), "argus-stack-"));
    ports = await freePorts(6);
    const [chain, api, gateway, oracle, ui, httpGateway] = ports.map(String);
    env = cleanEnv({
      ARGUS_MODELS_DIR: SHARED_MODELS_DIR,
      ARGUS_STATE_DIR: stateDir,
      ARGUS_IGNITION_DEPLOYMENT_ID: deploymentId,
      ARGUS_CHAIN_PORT: chain,
      ARGUS_IPFS_API_PORT: api,
      ARGUS_IPFS_GATEWAY_PORT: gateway,
      ARGUS_ORACLE_PORT: oracle,
      ARGUS_UI_PORT: ui,
      ARGUS_GATEWAY_PORT: httpGateway,
    });
  });

  afterEach(function () {
    stack?.kill();
    stack = undefined;
  });

  after(async function () {
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
    await rm(join(IGNITION_DEPLOYMENTS_DIR, deploymentId), { recursive: true, force: true });
  });

  it("comes up, answers `argus request --wait` with a verified result, lists it in `argus events`, and Ctrl-C leaves nothing behind", async function () {
    stack = npmStart(env);
    await stack.waitFor("ready — Ctrl-C stops everything", 180_000);
    const output = stack.output();
    expect(output).to.match(/web UI\s+http:\/\/127\.0\.0\.1:\d+\//);
    expect(output).to.include("Funded test account");
    expect(output).to.include("MetaMask");

    const deploymentFile = join(stateDir, "deployment.json");
    const record = parseDeployment(JSON.parse(await readFile(deploymentFile, "utf8")));
    expect(record.chain).to.deep.include({ id: 31337, rpcUrl: `http://127.0.0.1:${ports[0]}` });
    expect(record.ipfs).to.deep.equal({ apiUrl: `http://127.0.0.1:${ports[1]}`, gatewayUrl: `http://127.0.0.1:${ports[2]}` });
    expect(record.oracle?.statusUrl).to.equal(`http://127.0.0.1:${ports[3]}`);
    expect(output).to.include(record.contracts.predictionEscrow.address);

    // The HTTP gateway is up, on the record's escrow, selling the tUSDC model over x402.
    expect(output).to.match(new RegExp(`gateway\\s+http://127\\.0\\.0\\.1:${ports[5]}`));
    const sold = (await (await fetch(`http://127.0.0.1:${ports[5]}/v1/models`)).json()) as {
      escrow: string;
      models: { payOverHttp: boolean }[];
    };
    expect(sold.escrow).to.equal(record.contracts.predictionEscrow.address);
    expect(sold.models.some((model) => model.payOverHttp)).to.equal(true);

    // The UI is up and serves the same record.
    const uiUrl = `http://127.0.0.1:${ports[4]}`;
    expect((await fetch(`${uiUrl}/`)).status).to.equal(200);
    expect(parseDeployment(await (await fetch(`${uiUrl}/deployment.json`)).json())).to.deep.equal(record);

    const userEnv = { ...env, ARGUS_DEPLOYMENT_FILE: deploymentFile, ARGUS_PRIVATE_KEY: hardhatAccountKey(3) };
    const request = await argusProcess(
      ["request", "--model", "mobilenetv2-12-int8", "--image", sharedImage("wml_cat.jpg"), "--wait", "--json", "--timeout", "120"],
      userEnv,
    );
    expect(request.code, request.stderr).to.equal(0);
    expect(request.stderr, "--json mode prints no progress").to.equal("");
    const answer = request.json<{
      requestId: string;
      status: string;
      verified: boolean;
      resultCid: string;
      settlement: { resultDigest: `0x${string}` };
      result: { requestId: string; modelId: string; top5: { classIndex: number }[] };
    }>();
    expect(answer).to.deep.include({ status: "fulfilled", verified: true });
    expect(answer.result.modelId).to.equal("mobilenetv2-12-int8");
    expect(answer.result.requestId).to.equal(answer.requestId);
    expect(expected["wml_cat.jpg"]!.accept).to.include(answer.result.top5[0]!.classIndex);
    // Check the digest independently of the CLI: the pinned bytes hash to what the chain recorded.
    expect(answer.resultCid).to.equal(resultCidFromDigest(answer.settlement.resultDigest).toString());
    const bytes = await createIpfsClient(record.ipfs.apiUrl).block.get(resultCidFromDigest(answer.settlement.resultDigest));
    expect(toHex((await sha256.digest(bytes)).digest)).to.equal(answer.settlement.resultDigest);

    const events = await argusProcess(["events", "--json"], userEnv);
    expect(events.code, events.stderr).to.equal(0);
    const mine = events
      .lines<{ event: string; requestId: string; resultDigest?: string; topClass?: number }>()
      .filter((event) => event.requestId === answer.requestId);
    expect(mine.map((event) => event.event)).to.deep.equal(["PredictionRequested", "PredictionFulfilled"]);
    expect(mine[1]).to.deep.include({ resultDigest: answer.settlement.resultDigest, topClass: answer.result.top5[0]!.classIndex });

    // Ctrl-C: every process of the tree exits, every port is free again.
    const tree = descendants(stack.pid);
    expect(tree.length).to.be.at.least(4); // launcher, ipfs, oracle, ui (npm adds a shell)
    expectCleanStop(await stack.interrupt(), stack);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(tree.filter(isAlive), "processes left behind").to.deep.equal([]);
    for (const port of ports) expect(await portIsFree(port), `port ${port}`).to.equal(true);
    expect(stack.output()).to.match(/\[oracle\]\s+stopped \(exit code 0\)/);
    expect(stack.output()).to.match(/\[ipfs\]\s+stopped \(exit code 0\)/);
  });

  it("starts again on the same ports and state, with a fresh chain", async function () {
    stack = npmStart(env);
    await stack.waitFor("ready — Ctrl-C stops everything", 180_000);
    const events = await argusProcess(["events", "--json"], { ...env, ARGUS_DEPLOYMENT_FILE: join(stateDir, "deployment.json") });
    expect(events.code, events.stderr).to.equal(0);
    expect(events.lines(), "a new chain has no old requests").to.deep.equal([]);
    expectCleanStop(await stack.interrupt(), stack);
  });

  it("runs against external infrastructure from settings: a chain at ARGUS_RPC_URL, a Kubo-compatible ARGUS_IPFS_API", async function () {
    // Stand-ins for a real chain (escrow deployed beforehand) and a Kubo daemon.
    const chain = await startChain();
    const externalId = `${deploymentId}-external`;
    const ipfs = await startEmbeddedIpfs({ apiPort: 0, gatewayPort: 0, dataDir: join(stateDir, "kubo"), readTimeoutMs: 2_000 });
    try {
      const argus = await deployArgus({ rpcUrl: chain.rpcUrl, deploymentId: externalId, fresh: true });
      const externalEnv = {
        ...env,
        ARGUS_RPC_URL: chain.rpcUrl,
        ARGUS_ESCROW_ADDRESS: argus.escrow,
        ARGUS_START_BLOCK: String(argus.deployBlock),
        ARGUS_CHAIN_NAME: "Staging",
        ARGUS_IPFS_API: ipfs.apiUrl,
        ARGUS_IPFS_GATEWAY: ipfs.gatewayUrl,
        ARGUS_ORACLE_PRIVATE_KEY: hardhatAccountKey(1),
        ARGUS_CONFIRMATIONS: "0",
        ARGUS_UI: "off",
      };
      stack = npmStart(externalEnv);
      await stack.waitFor("ready — Ctrl-C stops everything", 180_000);
      expect(stack.output()).not.to.include("Funded test account");
      const deploymentFile = join(stateDir, "deployment.json");
      const record = parseDeployment(JSON.parse(await readFile(deploymentFile, "utf8")));
      expect(record.chain).to.deep.include({ id: 31337, name: "Staging", rpcUrl: chain.rpcUrl });
      expect(record.contracts.predictionEscrow).to.deep.equal({ address: argus.escrow, deployBlock: argus.deployBlock });
      expect(record.ipfs).to.deep.equal({ apiUrl: ipfs.apiUrl, gatewayUrl: ipfs.gatewayUrl });

      const request = await argusProcess(
        ["request", "--model", "squeezenet1.1-fp16", "--image", sharedImage("ortx_pineapple.png"), "--wait", "--json", "--timeout", "120"],
        {
          ...env,
          ARGUS_DEPLOYMENT_FILE: deploymentFile,
          ARGUS_PRIVATE_KEY: hardhatAccountKey(3),
        },
      );
      expect(request.code, request.stderr).to.equal(0);
      expect(request.json()).to.deep.include({ status: "fulfilled", verified: true });

      expectCleanStop(await stack.interrupt(), stack);
      // The external chain outlives the stack, and so does its record.
      expect(parseDeployment(JSON.parse(await readFile(deploymentFile, "utf8")))).to.deep.equal(record);
    } finally {
      await ipfs.stop();
      await chain.close();
      await rm(join(IGNITION_DEPLOYMENTS_DIR, externalId), { recursive: true, force: true });
    }
  });

  it("refuses to start when a port is taken, naming the port and the variable that moves it", async function () {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(ports[1], "127.0.0.1", resolve));
    try {
      stack = npmStart(env);
      const exit = await stack.exited;
      expect(exit.code).to.equal(1);
      expect(stack.output()).to.include(`127.0.0.1:${ports[1]} (the IPFS RPC API): already in use`);
      expect(stack.output()).to.include("ARGUS_IPFS_API_PORT");
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it("offline with no model files, says exactly what to set", async function () {
    const emptyCache = await mkdtemp(join(tmpdir(), "argus-cache-"));
    try {
      const { ARGUS_MODELS_DIR: _unset, ...withoutModels } = env;
      // A mirror nobody listens on: downloading fails here exactly as it does offline.
      stack = npmStart({ ...withoutModels, XDG_CACHE_HOME: emptyCache, ARGUS_MODELS_MIRROR: `http://127.0.0.1:${ports[0]}` });
      const exit = await stack.exited;
      expect(exit.code).to.equal(1);
      expect(stack.output()).to.include("no usable model");
      expect(stack.output()).to.include("ARGUS_MODELS_DIR=");
      expect(stack.output()).to.include("mobilenetv2-12-int8.onnx");
    } finally {
      await rm(emptyCache, { recursive: true, force: true });
    }
  });
});
