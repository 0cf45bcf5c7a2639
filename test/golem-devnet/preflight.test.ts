/**
 * The Golem preflight (executors/golem/preflight.ts) against the devnet: every check
 * passes on a healthy one, and each breakage gives its own one line saying what to do —
 * yagna down, an old yagna, a refused app key, no funds, an unknown image, no offer that
 * matches, offers only above the price limits. The oracle's main refuses to start on a
 * failed check, before it opens its queue, and `argus oracle doctor` prints the same lines.
 * Needs the built image (registered in the devnet's registry); no VM is started.
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { loadGolemConfig } from "@argus/oracle/executors/golem/config";
import type { GolemExecutorConfigInput } from "@argus/oracle/executors/golem/config";
import { golemPreflight, MIN_YAGNA_VERSION, type PreflightCheck } from "@argus/oracle/executors/golem/preflight";
import type { GolemDevnetOptions } from "@argus/golem-devnet/devnet";
import { argus, cleanEnv } from "../cli/support/argus.ts";
import { requireSharedData } from "../support/shared.ts";
import { ensureProviderImage, providerSpecs, startDevnet, type DevnetHandle } from "./support/yagna-harness.ts";

const byName = (checks: PreflightCheck[]) => Object.fromEntries(checks.map((check) => [check.check, check]));

describe("golem-devnet: the Golem preflight", function () {
  this.timeout(120_000);
  let handle: DevnetHandle | undefined;
  let work: string | undefined;

  before(async function () {
    requireSharedData(this);
    await ensureProviderImage(this);
  });
  afterEach(async function () {
    await handle?.close();
    handle = undefined;
    if (work) await rm(work, { recursive: true, force: true });
    work = undefined;
  });

  async function preflight(
    devnet: Partial<GolemDevnetOptions>,
    config: GolemExecutorConfigInput = {},
    image?: string,
  ): Promise<Record<string, PreflightCheck>> {
    handle = await startDevnet({ providers: providerSpecs(2), ...devnet });
    const hash = image ?? handle.hash;
    const settings = loadGolemConfig({ apiUrl: handle.devnet.url, apiKey: handle.devnet.appKey, ...config });
    const checks = await golemPreflight({
      settings,
      images: [{ key: `hash:${hash}`, workload: { imageHash: hash } }],
      registryUrl: handle.devnet.registryUrl,
      offerWaitMs: 3_000,
    });
    expect(checks.map((check) => check.check)).to.deep.equal(["yagna", "funds", "image", "offers"]);
    for (const check of checks) expect(check.line, "one line").to.not.include("\n");
    return byName(checks);
  }

  it("passes every check on a healthy devnet and leaves nothing behind", async function () {
    const checks = await preflight({});
    for (const check of Object.values(checks)) expect(check.status, `${check.check}: ${check.line}`).to.equal("ok");
    expect(checks.yagna!.line).to.include(`yagna ${MIN_YAGNA_VERSION}`);
    expect(checks.funds!.line).to.include("erc20-hoodi-tglm");
    expect(checks.offers!.line).to.match(/test-provider-\d/);
    const { devnet } = handle!;
    // The trial allocation is released, no agreement is signed, the demand is withdrawn.
    expect(devnet.view.allocations().length).to.equal(1);
    expect(devnet.view.allocations().filter((allocation) => !allocation.released)).to.deep.equal([]);
    expect(devnet.view.agreements()).to.deep.equal([]);
    expect(devnet.network.market.liveDemands(), "demands still subscribed").to.deep.equal([]);
    // What the preflight sent, and the accounts the devnet answered, keep to ya-client's specs.
    expect(devnet.violations()).to.deep.equal([]);
  });

  it("says yagna is not reachable when nothing answers at its URL", async function () {
    handle = await startDevnet({ providers: providerSpecs(1) });
    const { url, appKey, registryUrl } = handle.devnet;
    await handle.close();
    handle = undefined;
    const checks = byName(await golemPreflight({ settings: loadGolemConfig({ apiUrl: url, apiKey: appKey }), images: [], registryUrl }));
    expect(checks.yagna!.status).to.equal("failed");
    expect(checks.yagna!.line).to.include(`yagna is not reachable at ${url}`).and.include("yagna service run");
    expect(checks.funds!.status).to.equal("skipped");
    expect(checks.offers!.status).to.equal("skipped");
  });

  it("refuses a yagna older than 0.17.4, which does not know Hoodi", async function () {
    const checks = await preflight({ yagnaVersion: "0.17.1" });
    expect(checks.yagna!.status).to.equal("failed");
    expect(checks.yagna!.line).to.include("yagna 0.17.1").and.include("older than 0.17.4");
    expect(checks.funds!.status).to.equal("skipped");
    expect(handle!.devnet.view.allocations(), "nothing is allocated on an old node").to.deep.equal([]);
  });

  it("says the app key is refused", async function () {
    handle = await startDevnet({ providers: providerSpecs(1) });
    const settings = loadGolemConfig({ apiUrl: handle.devnet.url, apiKey: "not-the-devnet-key" });
    const checks = byName(await golemPreflight({ settings, images: [], registryUrl: handle.devnet.registryUrl }));
    expect(checks.yagna!.line).to.include("refuses the app key").and.include("YAGNA_APPKEY");
  });

  it("says the wallet cannot fund one allocation of the budget", async function () {
    const checks = await preflight({ walletGlm: 1 }, { budgetGlm: 5 });
    expect(checks.yagna!.status).to.equal("ok");
    expect(checks.funds!.status).to.equal("failed");
    expect(checks.funds!.line)
      .to.include("refuses an allocation of 5 GLM on erc20-hoodi-tglm")
      .and.include("Insufficient funds")
      .and.include("yagna payment fund --network hoodi");
    expect(checks.offers!.status).to.equal("skipped");
    expect(handle!.devnet.view.allocations()).to.deep.equal([]);
  });

  it("says how to fund polygon there", async function () {
    const checks = await preflight({ walletGlm: 1 }, { budgetGlm: 5, paymentNetwork: "polygon" });
    expect(checks.funds!.line).to.include("erc20-polygon-glm").and.include("send GLM and some POL");
  });

  it("says an image the registry does not know cannot be ordered", async function () {
    const unknown = "ab".repeat(28);
    const checks = await preflight({}, {}, unknown);
    expect(checks.funds!.status).to.equal("ok");
    expect(checks.image!.status).to.equal("failed");
    expect(checks.image!.line).to.include(`image ${unknown} is unknown to the registry`).and.include("HTTP 404");
    expect(checks.offers!.status).to.equal("skipped");
    expect(handle!.devnet.view.allocations().filter((allocation) => !allocation.released)).to.deep.equal([]);
  });

  it("takes ARGUS_GOLEM_IMAGE_URL: a server that refuses HEAD but serves the first byte is fine, a 404 is not", async function () {
    const { createServer } = await import("node:http");
    const served: string[] = [];
    const server = createServer((request, response) => {
      served.push(`${request.method} ${request.url} ${request.headers.range ?? ""}`.trim());
      if (!request.url?.endsWith(".gvmi")) return void response.writeHead(404).end();
      if (request.method === "HEAD") return void response.writeHead(405).end();
      response.writeHead(206, { "content-range": "bytes 0-0/1000" }).end("x");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as { port: number };
      handle = await startDevnet({ providers: providerSpecs(1) });
      const settings = loadGolemConfig({ apiUrl: handle.devnet.url, apiKey: handle.devnet.appKey });
      const hash = handle.hash;
      const at = (path: string) => [{ key: `hash:${hash}`, workload: { imageHash: hash, imageUrl: `http://127.0.0.1:${port}/${path}` } }];
      const good = byName(await golemPreflight({ settings, images: at(`${hash}.gvmi`), offerWaitMs: 3_000 }));
      expect(good.image!.status, good.image!.line).to.equal("ok");
      expect(served).to.include(`GET /${hash}.gvmi bytes=0-0`);
      const missing = byName(await golemPreflight({ settings, images: at("nothing-here"), offerWaitMs: 3_000 }));
      expect(missing.image!.line).to.include(`image ${hash} does not download from http://127.0.0.1:${port}/nothing-here (HTTP 404)`);
    } finally {
      server.close();
    }
  });

  it("says no provider offers what the demand asks", async function () {
    const checks = await preflight({ providers: providerSpecs(2, { threads: 2 }) }, { minCpuThreads: 4 });
    expect(checks.image!.status).to.equal("ok");
    expect(checks.offers!.status).to.equal("failed");
    expect(checks.offers!.line).to.include("no provider offered on subnet public").and.include("4–8 threads");
    expect(handle!.devnet.network.market.liveDemands()).to.deep.equal([]);
  });

  it("says the offers there are all above the spending bounds", async function () {
    const expensive = providerSpecs(2, { prices: { start: 0.01, envPerHour: 0.036, cpuPerHour: 5 } });
    const checks = await preflight({ providers: expensive });
    expect(checks.offers!.status).to.equal("failed");
    expect(checks.offers!.line).to.include("none within the spending bounds").and.include("CPU price");
  });

  it("stops the oracle before it opens its queue, and argus oracle doctor prints the same line", async function () {
    handle = await startDevnet({ providers: providerSpecs(1), yagnaVersion: "0.17.1" });
    work = await mkdtemp(join(tmpdir(), "argus-preflight-"));
    const env = cleanEnv({
      ARGUS_EXECUTOR: "golem",
      YAGNA_API_URL: handle.devnet.url,
      YAGNA_APPKEY: handle.devnet.appKey,
      GOLEM_REGISTRY_URL: handle.devnet.registryUrl,
      ARGUS_GOLEM_IMAGE_HASH: handle.hash,
      ARGUS_ORACLE_DATA_DIR: join(work, "oracle"),
      ARGUS_RPC_URL: "http://127.0.0.1:9", // no chain: the oracle must stop before it needs one
      ARGUS_ESCROW_ADDRESS: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
    });
    const doctor = await argus(["oracle", "doctor", "--offer-wait", "2"], env);
    expect(doctor.code, doctor.stderr).to.equal(1);
    expect(doctor.stdout).to.match(/golem preflight: FAILED +yagna +yagna 0\.17\.1 .* older than 0\.17\.4/);
    expect(doctor.stdout).to.match(/golem preflight: skipped +funds/);

    const { spawn } = await import("node:child_process");
    const { ORACLE_MAIN } = await import("@argus/cli/commands/oracle");
    const child = spawn(process.execPath, [ORACLE_MAIN], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (text: string) => (stdout += text));
    child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(code, stderr).to.equal(1);
    expect(stderr).to.include("older than 0.17.4").and.include("the oracle does not start");
    expect(stdout, "never ready").to.not.include('"event":"ready"');
    expect(existsSync(join(work, "oracle")), "no queue opened, no request read").to.equal(false);
  });
});
