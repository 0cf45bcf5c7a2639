/** `npm start`'s settings, through its command line: --print-settings, --help and bad values. */
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { REPO_ROOT } from "../support/shared.ts";

const run = promisify(execFile);
const START = join(REPO_ROOT, "scripts/stack/start.ts");
/** The environment without any ARGUS_ setting of the caller's. */
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("ARGUS_")));

async function start(args: string[], env: Record<string, string> = {}) {
  return run(process.execPath, [START, ...args], { env: { ...cleanEnv, ...env } }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );
}

async function printedSettings(env: Record<string, string> = {}) {
  const { code, stdout, stderr } = await start(["--print-settings"], env);
  expect(code, stderr).to.equal(0);
  return JSON.parse(stdout) as { settings: Record<string, Record<string, unknown>>; ports: { port: number; variable: string }[] };
}

describe("npm start settings", function () {
  this.timeout(60_000);

  it("default: everything local, on the well-known ports", async function () {
    const { settings, ports } = await printedSettings();
    expect(settings.deploymentFile).to.equal(join(REPO_ROOT, ".argus/deployment.json"));
    expect(settings.chain).to.deep.include({ kind: "local", host: "127.0.0.1", port: 8545, ignitionDeploymentId: "chain-31337" });
    expect(settings.ipfs).to.deep.include({ kind: "embedded", apiPort: 5001, gatewayPort: 8080, dataDir: join(REPO_ROOT, ".argus/ipfs") });
    expect(ports.map((port) => port.port)).to.deep.equal([8545, 5001, 8080, 8402, 9464, 4173]);
    expect(settings.gateway).to.deep.include({ enabled: true, host: "127.0.0.1", port: 8402 });
    expect(settings.ui).to.deep.include({ mode: "preview", port: 4173 });
  });

  it("serves the production build by default and Vite's dev server with --ui dev", async function () {
    const { code, stdout, stderr } = await start(["--ui", "dev", "--print-settings"]);
    expect(code, stderr).to.equal(0);
    expect(JSON.parse(stdout).settings.ui).to.deep.include({ mode: "dev", port: 5173 });
    const refused = await start(["--ui", "hot", "--print-settings"]);
    expect(refused.code).to.equal(2);
    expect(refused.stderr).to.include("ARGUS_UI must be dev, preview or off");
  });

  it("switches each component to real infrastructure, and says what an external chain needs", async function () {
    const missing = await start(["--print-settings"], { ARGUS_RPC_URL: "https://rpc.example" });
    expect(missing.code).to.equal(2);
    expect(missing.stderr).to.include("set ARGUS_ESCROW_ADDRESS");
    const { settings, ports } = await printedSettings({
      ARGUS_RPC_URL: "https://rpc.example",
      ARGUS_ESCROW_ADDRESS: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
      ARGUS_START_BLOCK: "1234",
      ARGUS_IPFS_API: "http://kubo:5001/",
      ARGUS_UI: "off",
    });
    expect(settings.chain).to.deep.include({ kind: "external", deployBlock: 1234 });
    expect(settings.ipfs).to.deep.equal({ kind: "external", apiUrl: "http://kubo:5001", gatewayUrl: "http://127.0.0.1:8080" });
    expect(ports.map((port) => port.variable)).to.deep.equal(["ARGUS_ORACLE_PORT"]);
  });

  it("--golem-devnet (or ARGUS_EXECUTOR=golem-devnet): the devnet's port, its providers and where the image is built", async function () {
    const { code, stdout, stderr } = await start(["--golem-devnet", "--print-settings"]);
    expect(code, stderr).to.equal(0);
    const { settings, ports } = JSON.parse(stdout) as Awaited<ReturnType<typeof printedSettings>>;
    expect(settings.executor).to.deep.equal({
      kind: "golem-devnet",
      host: "127.0.0.1",
      port: 7465,
      providers: 3,
      image: join(REPO_ROOT, "provider-image/dist/argus-provider.gvmi"),
    });
    expect(ports.map((port) => port.port)).to.deep.equal([8545, 5001, 8080, 8402, 9464, 7465, 4173]);
    const moved = await printedSettings({
      ARGUS_EXECUTOR: "golem-devnet",
      ARGUS_GOLEM_DEVNET_PORT: "17465",
      ARGUS_GOLEM_DEVNET_PROVIDERS: "5",
    });
    expect(moved.settings.executor).to.deep.include({ port: 17465, providers: 5 });
    expect(moved.ports.find((port) => port.port === 17465)?.variable).to.equal("ARGUS_GOLEM_DEVNET_PORT");
    expect((await printedSettings()).settings.executor).to.deep.equal({ kind: "local" });
  });

  it("refuses bad values with the variable's name", async function () {
    const cases = [
      [{ ARGUS_UI: "yes" }, "ARGUS_UI must be dev, preview or off"],
      [{ ARGUS_CHAIN_PORT: "80000" }, "ARGUS_CHAIN_PORT must be a whole number from 1 to 65535"],
      [{ ARGUS_CHAIN: "ganache" }, 'ARGUS_CHAIN must be hardhat or anvil, not "ganache"'],
      [{ ARGUS_IPFS_API_PORT: "x" }, "ARGUS_IPFS_API_PORT"],
      [{ ARGUS_EXECUTOR: "docker" }, "ARGUS_EXECUTOR must be local, golem, golem-devnet"],
      [{ ARGUS_GATEWAY: "maybe" }, "ARGUS_GATEWAY must be on or off"],
      [
        { ARGUS_EXECUTOR: "golem-devnet", ARGUS_GOLEM_DEVNET_IMAGE: "/tmp/other.gvmi" },
        "ARGUS_GOLEM_DEVNET_IMAGE must name argus-provider.gvmi",
      ],
      [{ ARGUS_EXECUTOR: "golem-devnet", ARGUS_GOLEM_DEVNET_PROVIDERS: "0" }, "ARGUS_GOLEM_DEVNET_PROVIDERS"],
    ] as const;
    // At once: each is a Node start, and the machine may be busy.
    const refusals = await Promise.all(cases.map(([env]) => start(["--print-settings"], env)));
    for (const [index, [, message]] of cases.entries()) {
      expect(refusals[index]!.code, message).to.equal(2);
      expect(refusals[index]!.stderr).to.include(message);
    }
  });

  it("scripts/README.md shows the current settings table (npm start -- --help)", async function () {
    const readme = await readFile(join(REPO_ROOT, "scripts/README.md"), "utf8");
    const table = /<!-- stack-settings:begin[^>]*-->\n([\s\S]*?)\n<!-- stack-settings:end -->/.exec(readme)?.[1];
    const help = await start(["--help"]);
    expect(help.code).to.equal(0);
    expect(table, "run `npm start -- --help` and paste the table into scripts/README.md").to.not.equal(undefined);
    expect(help.stdout).to.include(table!);
  });
});
