/**
 * `npm start -- --golem-devnet`: the whole stack with its chunks on the Golem devnet —
 * the provider image built from this checkout (or reused: its record names the same
 * inputs), the devnet as a process of its own with 3 providers, and the oracle's Golem
 * executor talking to it through unmodified golem-js. A paid request is answered by
 * `argus request --wait` with a verified result that names the provider that computed
 * it; /metrics counts the chunk under that provider; Ctrl-C ends the agreement and pays
 * its invoice before the devnet stops. A second start reuses the image, and a devnet
 * that dies takes the stack down with the reason.
 *
 * The image is built into provider-image/dist (as `npm start` does), so a later run
 * or `npm start -- --golem-devnet` starts without building it again.
 */
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { BUILD_TOOLS, missingTools } from "@argus/provider-image/build-image";
import { IGNITION_DEPLOYMENTS_DIR, hardhatAccountKey } from "@argus/devchain";
import { argusProcess, cleanEnv } from "../cli/support/argus.ts";
import { requireSharedData, SHARED_MODELS_DIR, sharedImage } from "../support/shared.ts";
import { descendants, freePorts, isAlive, type NpmStart, npmStart, portIsFree } from "./support/npm-start.ts";

const TOOLS = { ...BUILD_TOOLS, bwrap: "bubblewrap", unsquashfs: "squashfs-tools" };
const READY = "ready — Ctrl-C stops everything";
const expected = JSON.parse(await readFile(sharedImage("expected.json"), "utf8").catch(() => "{}")) as Record<string, { accept: number[] }>;

/** One sample of a Prometheus text exposition (`name{labels} value`), undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  for (const line of text.split("\n")) {
    const match = /^([a-z_:]+)\{(.*)\} (\S+)$/.exec(line);
    if (match?.[1] === name && wanted.every((label) => match[2]!.split(",").includes(label))) return Number(match[3]);
  }
  return undefined;
}

describe("npm start -- --golem-devnet: the stack with its chunks on emulated Golem providers", function () {
  this.timeout(20 * 60_000);
  let stateDir: string;
  let ports: number[];
  let env: NodeJS.ProcessEnv;
  let stack: NpmStart | undefined;
  const deploymentId = `test-golem-devnet-${process.pid}`;

  before(async function () {
    requireSharedData(this);
    const missing = await missingTools(TOOLS);
    if (missing.length > 0) {
      console.warn(`SKIPPED: the Golem devnet stack needs ${missing.join(", ")}: apt-get install -y mmdebstrap squashfs-tools bubblewrap`);
      this.skip();
    }
    if (process.getuid?.() !== 0) {
      console.warn("SKIPPED: the Golem devnet stack builds the provider image, which needs root (mmdebstrap --mode=root)");
      this.skip();
    }
    stateDir = await mkdtemp(join(tmpdir(), "argus-golem-stack-"));
    ports = await freePorts(6);
    const [chain, api, gateway, oracle, devnet, httpGateway] = ports.map(String);
    env = cleanEnv({
      ARGUS_MODELS_DIR: SHARED_MODELS_DIR,
      ARGUS_STATE_DIR: stateDir,
      ARGUS_IGNITION_DEPLOYMENT_ID: deploymentId,
      ARGUS_CHAIN_PORT: chain,
      ARGUS_IPFS_API_PORT: api,
      ARGUS_IPFS_GATEWAY_PORT: gateway,
      ARGUS_ORACLE_PORT: oracle,
      ARGUS_GOLEM_DEVNET_PORT: devnet,
      ARGUS_GATEWAY_PORT: httpGateway,
      ARGUS_UI: "off",
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

  it("answers `argus request --wait` with a verified result naming its provider, counts it in /metrics, and pays the invoice on Ctrl-C", async function () {
    stack = npmStart(env, ["--golem-devnet"]);
    await stack.waitFor(READY, 15 * 60_000);
    const output = stack.output();
    const devnetUrl = `http://127.0.0.1:${ports[4]}`;
    expect(output).to.include(`chunks    Golem devnet ${devnetUrl}`);
    expect(output).to.include("Golem executor on the devnet");
    const providers = [...output.matchAll(/(devnet-provider-\d+) (0x[0-9a-f]{40})/g)].map((match) => ({ name: match[1]!, id: match[2]! }));
    expect(providers.map((provider) => provider.name)).to.deep.equal(["devnet-provider-1", "devnet-provider-2", "devnet-provider-3"]);
    const imageHash = /image ([0-9a-f]{56}) \(/.exec(output)?.[1];
    expect(imageHash, "the summary names the image").to.match(/^[0-9a-f]{56}$/);

    // The models are registered with the image hash from the build's record.
    const userEnv = { ...env, ARGUS_DEPLOYMENT_FILE: join(stateDir, "deployment.json"), ARGUS_PRIVATE_KEY: hardhatAccountKey(3) };
    const models = await argusProcess(["models", "list", "--json"], userEnv);
    expect(models.code, models.stderr).to.equal(0);
    for (const model of models.json<{ providerImageHash: string }[]>()) expect(model.providerImageHash).to.equal(`0x${imageHash}00000000`);

    const request = await argusProcess(
      ["request", "--model", "mobilenetv2-12-int8", "--image", sharedImage("wml_cat.jpg"), "--wait", "--json", "--timeout", "600"],
      userEnv,
      660_000,
    );
    expect(request.code, request.stderr).to.equal(0);
    const answer = request.json<{
      requestId: string;
      status: string;
      verified: boolean;
      result: {
        top5: { classIndex: number }[];
        computedBy?: { executor: string; provider?: { id: string; name: string }; audit?: unknown };
      };
    }>();
    expect(answer).to.deep.include({ status: "fulfilled", verified: true });
    expect(expected["wml_cat.jpg"]!.accept).to.include(answer.result.top5[0]!.classIndex);
    const computedBy = answer.result.computedBy;
    expect(computedBy?.executor).to.equal("golem");
    expect(providers, "the result names one of the devnet's providers").to.deep.include(computedBy?.provider);
    const text = await argusProcess(["result", answer.requestId], userEnv);
    expect(text.code, text.stderr).to.equal(0);
    expect(text.stdout).to.include(`computed   by Golem provider ${computedBy!.provider!.name} (${computedBy!.provider!.id})`);

    // A provider's first chunk is cross-checked by a second one (GOLEM.md, "Cross-check").
    expect(computedBy?.audit).to.deep.equal({ providers: 2, agreed: true });
    const { providers: records } = (await (await fetch(`http://127.0.0.1:${ports[3]}/providers`)).json()) as {
      providers: { id: string; chunks: number; audited: number; agreed: number }[];
    };
    expect(records.find((record) => record.id === computedBy!.provider!.id)).to.deep.include({ chunks: 1, audited: 1, agreed: 1 });
    expect(records.filter((record) => record.audited === 1)).to.have.length(2);

    const metrics = await (await fetch(`http://127.0.0.1:${ports[3]}/metrics`)).text();
    const provider = computedBy!.provider!;
    expect(
      sample(metrics, "argus_chunks_computed_total", { executor: "golem", provider: provider.id, provider_name: provider.name }),
    ).to.equal(1);
    expect(sample(metrics, "argus_golem_agreements_total", { provider: provider.id })).to.equal(1);
    expect(sample(metrics, "argus_golem_provider_chunks", { provider: provider.id, figure: "audited" })).to.equal(1);
    expect(metrics).to.include("argus_golem_debit_notes_accepted_total");

    // Ctrl-C: the oracle ends its agreement and accepts the invoice while the devnet is still up; then everything stops.
    const tree = descendants(stack.pid);
    const exit = await stack.interrupt(120_000);
    const tail = stack.output().trimEnd().split("\n").slice(-30).join("\n");
    expect([0, 130, "SIGINT"], tail).to.include(exit.signal ?? exit.code);
    expect(tail).to.match(/\[argus\]\s+stopped$/);
    expect(stack.output()).to.match(/\[oracle\].*accepted a Golem invoice.*provider=0x/);
    expect(stack.output()).to.match(/\[devnet\]\s+stopped \(exit code 0\)/);
    expect(stack.output().indexOf("[oracle] stopped")).to.be.lessThan(stack.output().indexOf("[devnet] stopped"));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(tree.filter(isAlive), "processes left behind").to.deep.equal([]);
    for (const port of ports) expect(await portIsFree(port), `port ${port}`).to.equal(true);
  });

  it("starts again without building the image, and with restarts off stops with the reason when the devnet dies", async function () {
    // Restarting a dead component is resilience.test.ts's subject; here the devnet's own consequence line is.
    stack = npmStart({ ...env, ARGUS_EXECUTOR: "golem-devnet", ARGUS_RESTARTS: "0" });
    await stack.waitFor(READY, 5 * 60_000);
    expect(stack.output()).to.match(/\[image\]\s+provider image [0-9a-f]{56}: built from this checkout's inputs already/);
    expect(stack.output()).not.to.include("mksquashfs");

    const devnet = descendants(stack.pid).filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("golem-devnet/src/main.ts");
      } catch {
        return false;
      }
    });
    expect(devnet.length, "the devnet's process").to.be.at.least(1);
    for (const pid of devnet) process.kill(pid, "SIGKILL");
    const exit = await stack.exited;
    expect(exit.code).to.equal(1);
    expect(stack.output()).to.match(
      /devnet stopped on its own \(killed by SIGKILL\): the oracle's chunks have no Golem providers to run on/,
    );
  });
});
