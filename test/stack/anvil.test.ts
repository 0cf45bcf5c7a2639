import { expect } from "chai";
import { readlinkSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseDeployment } from "@argus/escrow/deployment-record";
import { hardhatAccountKey, IGNITION_DEPLOYMENTS_DIR } from "@argus/devchain";
import { argus, cleanEnv } from "../cli/support/argus.ts";
import { requireSharedData, SHARED_MODELS_DIR, sharedImage } from "../support/shared.ts";
import { descendants, freePorts, isAlive, type NpmStart, npmStart, portIsFree } from "./support/npm-start.ts";

/**
 * `npm start -- --chain anvil`: the same stack on Foundry's Anvil (from npm) instead of
 * the Hardhat node — deployed by the same Ignition module, the oracle settling a paid
 * request there — without the web UI and the gateway, which do not depend on the node.
 */
describe("npm start -- --chain anvil", function () {
  this.timeout(300_000);
  let stateDir: string;
  let stack: NpmStart | undefined;
  const deploymentId = `test-anvil-${process.pid}`;

  before(function () {
    requireSharedData(this);
  });

  after(async function () {
    stack?.kill();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
    await rm(join(IGNITION_DEPLOYMENTS_DIR, deploymentId), { recursive: true, force: true });
  });

  it("comes up on Anvil, settles `argus request --wait` with a verified result, and Ctrl-C stops Anvil too", async function () {
    stateDir = await mkdtemp(join(tmpdir(), "argus-anvil-"));
    const ports = await freePorts(4);
    const [chain, api, gateway, oracle] = ports.map(String);
    const env = cleanEnv({
      ARGUS_MODELS_DIR: SHARED_MODELS_DIR,
      ARGUS_STATE_DIR: stateDir,
      ARGUS_IGNITION_DEPLOYMENT_ID: deploymentId,
      ARGUS_CHAIN_PORT: chain,
      ARGUS_IPFS_API_PORT: api,
      ARGUS_IPFS_GATEWAY_PORT: gateway,
      ARGUS_ORACLE_PORT: oracle,
      ARGUS_UI: "off",
      ARGUS_GATEWAY: "off",
    });
    stack = npmStart(env, ["--chain", "anvil"]);
    await stack.waitFor("ready — Ctrl-C stops everything", 180_000);
    expect(stack.output()).to.include(`Anvil listening on http://127.0.0.1:${chain}, chain id 31337`);
    const deploymentFile = join(stateDir, "deployment.json");
    const record = parseDeployment(JSON.parse(await readFile(deploymentFile, "utf8")));
    expect(record.chain).to.deep.include({ id: 31337, name: "Anvil local", rpcUrl: `http://127.0.0.1:${chain}` });
    const anvil = descendants(stack.pid).filter((pid) => readCommand(pid).endsWith("/anvil"));
    expect(anvil, "an anvil process under the stack").to.have.length(1);

    const request = await argus(
      ["request", "--model", "mobilenetv2-12-int8", "--image", sharedImage("wml_cat.jpg"), "--wait", "--json", "--timeout", "120"],
      { ...env, ARGUS_DEPLOYMENT_FILE: deploymentFile, ARGUS_PRIVATE_KEY: hardhatAccountKey(3) },
    );
    expect(request.code, request.stderr).to.equal(0);
    const answer = request.json<{ requestId: string; status: string; verified: boolean; result: { requestId: string; modelId: string } }>();
    expect(answer).to.deep.include({ status: "fulfilled", verified: true });
    expect(answer.result).to.deep.include({ requestId: answer.requestId, modelId: "mobilenetv2-12-int8" });

    const tree = descendants(stack.pid);
    const exit = await stack.interrupt();
    expect([0, 130, "SIGINT"]).to.include(exit.signal ?? exit.code);
    expect(stack.output().trimEnd()).to.match(/\[argus\]\s+stopped$/);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(tree.filter(isAlive), "processes left behind").to.deep.equal([]);
    for (const port of ports) expect(await portIsFree(port), `port ${port}`).to.equal(true);
    stack = undefined;
  });
});

/** The executable a process runs (empty once it is gone). */
function readCommand(pid: number): string {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return "";
  }
}
