import { expect } from "chai";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { applyConfigDefaults, ConfigError, describeConfig, loadConfig } from "@argus/oracle/config";
import { REPO_ROOT } from "../support/shared.ts";

describe("oracle configuration", () => {
  it("has a safe default for every setting of the local stack", () => {
    const config = loadConfig({});
    expect(config.rpcUrl).to.equal("http://127.0.0.1:8545");
    expect(config.maxChunkSize).to.equal(16);
    expect(config.maxChunkBytes).to.equal(64 * 1024 * 1024);
    expect(config.flushIntervalMs).to.equal(10_000);
    expect(config.executor).to.equal("local");
  });

  it("lets the environment override the defaults, coercing numbers", () => {
    const config = loadConfig({ ARGUS_FLUSH_INTERVAL_MS: "2000", ARGUS_EXECUTOR: "golem", ARGUS_CONFIRMATIONS: "0" });
    expect(config).to.include({ flushIntervalMs: 2000, executor: "golem", confirmations: 0 });
  });

  it("refuses bad values with one message per field, naming where each came from", () => {
    let error: unknown;
    try {
      loadConfig({ ARGUS_RPC_URL: "not a url", ARGUS_MAX_CHUNK_SIZE: "17", ARGUS_ORACLE_PRIVATE_KEY: "0x1234" });
    } catch (caught) {
      error = caught;
    }
    expect(error).to.be.instanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).to.match(/rpcUrl \(ARGUS_RPC_URL\)/);
    expect(message).to.match(/maxChunkSize \(ARGUS_MAX_CHUNK_SIZE\)/);
    expect(message).to.match(/privateKey \(ARGUS_ORACLE_PRIVATE_KEY\): a private key is 0x followed by 64 hex digits/);
    expect(message.split("\n")).to.have.length(4);
  });

  it("refuses unknown keys in a configuration file", async () => {
    const { mkdtemp, writeFile } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const file = join(await mkdtemp(join(tmpdir(), "argus-config-")), "oracle.json");
    await writeFile(file, JSON.stringify({ flushIntervalMs: 500, flushIntervalMillis: 500 }));
    expect(() => loadConfig({}, {}, file)).to.throw(ConfigError, /unknown fields flushIntervalMillis/);
    await writeFile(file, JSON.stringify({ flushIntervalMs: 500 }));
    expect(loadConfig({}, {}, file).flushIntervalMs).to.equal(500);
  });

  it("takes a launcher's defaults only where neither the environment nor the file sets the value", async () => {
    const { mkdtemp, writeFile } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const file = join(await mkdtemp(join(tmpdir(), "argus-config-")), "oracle.json");
    await writeFile(file, JSON.stringify({ rpcUrl: "http://chain.from.file:8545" }));
    const env: NodeJS.ProcessEnv = { ARGUS_LOG_RANGE_BLOCKS: "300" };
    applyConfigDefaults(env, { rpcUrl: "http://chain.from.record:8545", ipfsApi: "http://ipfs.from.record:5001", logRangeBlocks: 2_000 }, file);
    expect(loadConfig(env, {}, file)).to.include({ rpcUrl: "http://chain.from.file:8545", ipfsApi: "http://ipfs.from.record:5001", logRangeBlocks: 300 });
  });

  it("is documented in oracle-requestor/README.md exactly as the code defines it", async () => {
    const readme = await readFile(join(REPO_ROOT, "oracle-requestor/README.md"), "utf8");
    expect(readme).to.include(describeConfig());
  });
});
