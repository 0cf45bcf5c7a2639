import { expect } from "chai";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { applyConfigDefaults, ConfigError, describeConfig, loadConfig } from "@argus/oracle/config";
import { REPO_ROOT } from "../support/shared.ts";

describe("oracle configuration", () => {
  const folders: string[] = [];
  /** A configuration file's path in a folder of its own, removed after the suite. */
  async function configFile(): Promise<string> {
    const folder = await mkdtemp(join(tmpdir(), "argus-config-"));
    folders.push(folder);
    return join(folder, "oracle.json");
  }
  after(async () => {
    await Promise.all(folders.map((folder) => rm(folder, { recursive: true, force: true })));
  });

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
    const { writeFile } = await import("node:fs/promises");
    const file = await configFile();
    await writeFile(file, JSON.stringify({ flushIntervalMs: 500, flushIntervalMillis: 500 }));
    expect(() => loadConfig({}, {}, file)).to.throw(ConfigError, /unknown fields? flushIntervalMillis/);
    await writeFile(file, JSON.stringify({ flushIntervalMs: 500 }));
    expect(loadConfig({}, {}, file).flushIntervalMs).to.equal(500);
  });

  it("takes a launcher's defaults only where neither the environment nor the file sets the value", async () => {
    const { writeFile } = await import("node:fs/promises");
    const file = await configFile();
    await writeFile(file, JSON.stringify({ rpcUrl: "http://chain.from.file:8545" }));
    const env: NodeJS.ProcessEnv = { ARGUS_LOG_RANGE_BLOCKS: "300" };
    applyConfigDefaults(
      env,
      { rpcUrl: "http://chain.from.record:8545", ipfsApi: "http://ipfs.from.record:5001", logRangeBlocks: 2_000 },
      file,
    );
    expect(loadConfig(env, {}, file)).to.include({
      rpcUrl: "http://chain.from.file:8545",
      ipfsApi: "http://ipfs.from.record:5001",
      logRangeBlocks: 300,
    });
  });

  it("reads the Golem settings from the file's golem section, overridden by their variables", async () => {
    const { writeFile } = await import("node:fs/promises");
    const file = await configFile();
    await writeFile(file, JSON.stringify({ executor: "golem", golem: { paymentNetwork: "polygon", poolSize: 4, apiKey: "from-file" } }));
    const config = loadConfig({ ARGUS_GOLEM_POOL_SIZE: "3", YAGNA_API_URL: "http://10.0.0.2:7465" }, {}, file);
    expect(config.executor).to.equal("golem");
    expect(config.golem).to.deep.include({
      paymentNetwork: "polygon",
      poolSize: 3,
      apiKey: "from-file",
      apiUrl: "http://10.0.0.2:7465",
      budgetGlm: 5,
    });
    expect(loadConfig({}).golem.paymentNetwork).to.equal("hoodi");

    await writeFile(file, JSON.stringify({ golem: { paymentNetwork: "holesky", poolSize: 1, colour: "red" } }));
    expect(() => loadConfig({}, {}, file)).to.throw(ConfigError, /golem\.paymentNetwork \(.*oracle\.json\): holesky is shut down/);
    expect(() => loadConfig({}, {}, file)).to.throw(ConfigError, /unknown fields? golem\.colour/);
    expect(() => loadConfig({ ARGUS_GOLEM_BUDGET_GLM: "0.5" })).to.throw(
      ConfigError,
      /golem\.budgetGlm \(ARGUS_GOLEM_BUDGET_GLM\): 0\.5 GLM cannot pay one agreement/,
    );
  });

  it("says for a bad value where it came from and what is accepted, in one line", () => {
    expect(() => loadConfig({ ARGUS_ORACLE_PORT: "http" })).to.throw(
      ConfigError,
      /httpPort \(ARGUS_ORACLE_PORT\): .*\(accepted: an integer from 0 to 65535\)$/,
    );
    expect(() => loadConfig({ ARGUS_EXECUTOR: "cloud" })).to.throw(
      ConfigError,
      /executor \(ARGUS_EXECUTOR\): .*\(accepted: one of local, golem\)/,
    );
  });

  it("reads the image cap under its one name, and the oracle's former name", () => {
    expect(loadConfig({ ARGUS_MAX_IMAGE_BYTES: "1000" }).imageMaxBytes).to.equal(1000);
    expect(loadConfig({ ARGUS_IMAGE_MAX_BYTES: "2000" }).imageMaxBytes).to.equal(2000);
    expect(loadConfig({ ARGUS_IMAGE_MAX_BYTES: "2000", ARGUS_MAX_IMAGE_BYTES: "1000" }).imageMaxBytes).to.equal(1000);
  });

  it("loads oracle.example.json to exactly the defaults", () => {
    expect(loadConfig({}, {}, join(REPO_ROOT, "oracle.example.json"))).to.deep.equal(loadConfig({}));
  });

  it("is documented in oracle-requestor/README.md exactly as the code defines it", async () => {
    const readme = await readFile(join(REPO_ROOT, "oracle-requestor/README.md"), "utf8");
    expect(readme).to.include(describeConfig());
  });
});
