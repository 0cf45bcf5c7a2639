import { expect } from "chai";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describeStackSettings, REPO_ROOT, stackPorts, stackSettings } from "../../scripts/lib/stack-settings.ts";

describe("npm start settings", function () {
  it("default: everything local, on the well-known ports", function () {
    const settings = stackSettings({});
    expect(settings.deploymentFile).to.equal(join(REPO_ROOT, ".argus/deployment.json"));
    expect(settings.chain).to.deep.include({ kind: "local", host: "127.0.0.1", port: 8545, ignitionDeploymentId: "chain-31337" });
    expect(settings.ipfs).to.deep.include({ kind: "embedded", apiPort: 5001, gatewayPort: 8080, dataDir: join(REPO_ROOT, ".argus/ipfs") });
    expect(stackPorts(settings).map((port) => port.port)).to.deep.equal([8545, 5001, 8080, 9464, 5173]);
  });

  it("switches each component to real infrastructure, and says what an external chain needs", function () {
    expect(() => stackSettings({ ARGUS_RPC_URL: "https://rpc.example" })).to.throw("set ARGUS_ESCROW_ADDRESS");
    const settings = stackSettings({
      ARGUS_RPC_URL: "https://rpc.example",
      ARGUS_ESCROW_ADDRESS: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
      ARGUS_START_BLOCK: "1234",
      ARGUS_IPFS_API: "http://kubo:5001/",
      ARGUS_UI: "off",
    });
    expect(settings.chain).to.deep.include({ kind: "external", deployBlock: 1234 });
    expect(settings.ipfs).to.deep.equal({ kind: "external", apiUrl: "http://kubo:5001", gatewayUrl: "http://127.0.0.1:8080" });
    expect(stackPorts(settings).map((port) => port.variable)).to.deep.equal(["ARGUS_ORACLE_PORT"]);
  });

  it("refuses bad values with the variable's name", function () {
    expect(() => stackSettings({ ARGUS_UI: "yes" })).to.throw("ARGUS_UI must be dev, preview or off");
    expect(() => stackSettings({ ARGUS_CHAIN_PORT: "80000" })).to.throw("ARGUS_CHAIN_PORT must be a whole number from 1 to 65535");
    expect(() => stackSettings({ ARGUS_IPFS_API_PORT: "x" })).to.throw("ARGUS_IPFS_API_PORT");
  });

  it("scripts/README.md shows the current settings table", async function () {
    const readme = await readFile(join(REPO_ROOT, "scripts/README.md"), "utf8");
    const table = /<!-- stack-settings:begin[^>]*-->\n([\s\S]*?)\n<!-- stack-settings:end -->/.exec(readme)?.[1];
    expect(table, "run `npm start -- --help` and paste the table into scripts/README.md").to.equal(describeStackSettings());
  });
});
