import { expect } from "chai";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { oracleArgs } from "@argus/cli/commands/oracle";
import { ORACLE_NODE_FLAGS, withOracleNodeFlags } from "@argus/oracle/node-flags";
import { argus, argusProcess, cleanEnv } from "./support/argus.ts";

/** Each bad invocation: one line naming the problem, then the command's usage, exit code 2. */
const USAGE_ERRORS: { args: string[]; message: string; usage: string }[] = [
  { args: ["frobnicate"], message: 'unknown command "frobnicate"', usage: "usage: npx argus <command>" },
  { args: ["models"], message: '"models" needs a subcommand: list, add, check', usage: "usage: npx argus <command>" },
  {
    args: ["models", "remove"],
    message: '"models remove" is not a command; models has: list, add, check',
    usage: "usage: npx argus <command>",
  },
  { args: ["models", "check"], message: "give one model id or manifest file", usage: "usage: argus models check" },
  {
    args: ["models", "check", "mobilenetv2-12-int8", "--record"],
    message: "--record writes into a manifest file",
    usage: "usage: argus models check",
  },
  { args: ["request", "--image", "x.jpg"], message: "--model is required", usage: "usage: argus request" },
  { args: ["request", "--model", "2"], message: "--image is required", usage: "usage: argus request" },
  {
    args: ["request", "--model", "2", "--image", "/no/such/file.jpg"],
    message: "is neither a readable file nor an image CID",
    usage: "usage: argus request",
  },
  { args: ["request", "--model", "2", "--image", "."], message: "is a folder, not an image file", usage: "usage: argus request" },
  {
    args: ["request", "--model", "2", "--image", "bafkreigh2akiscaildc", "--timeout", "5x"],
    message: '--timeout "5x" is not a duration',
    usage: "usage: argus request",
  },
  { args: ["request", "--model", "2", "--colour", "red"], message: "Unknown option '--colour'", usage: "usage: argus request" },
  { args: ["request", "--model"], message: "Option '--model <value>' argument missing", usage: "usage: argus request" },
  { args: ["request", "--model", "2", "--image", "x", "extra"], message: 'unexpected argument "extra"', usage: "usage: argus request" },
  { args: ["result"], message: "give a request id", usage: "usage: argus result" },
  { args: ["result", "12ab"], message: '"12ab" is not a request id', usage: "usage: argus result" },
  { args: ["result", "1", "2"], message: 'unexpected argument "2"', usage: "usage: argus result" },
  { args: ["events", "--from-block", "latest"], message: '--from-block "latest" is not a block number', usage: "usage: argus events" },
  { args: ["events", "--from-block", "9", "--to-block", "3"], message: "--to-block is before --from-block", usage: "usage: argus events" },
  { args: ["events", "--follow", "--to-block", "3"], message: "--follow and --to-block exclude each other", usage: "usage: argus events" },
  { args: ["events", "--requester", "0x1234"], message: '--requester "0x1234" is not an address', usage: "usage: argus events" },
  { args: ["reclaim"], message: "give a request id", usage: "usage: argus reclaim" },
  { args: ["withdraw", "--token", "ETH"], message: '--token "ETH" is not an address', usage: "usage: argus withdraw" },
  { args: ["models", "add", "--manifest", "m.json"], message: "give the model's ONNX file", usage: "usage: argus models add" },
  { args: ["models", "add", "m.onnx"], message: "--manifest is required", usage: "usage: argus models add" },
  {
    args: ["models", "add", "m.onnx", "--manifest", "m.json", "--response-window", "10"],
    message: "--response-window must be at least 60 s",
    usage: "usage: argus models add",
  },
  { args: ["models", "list", "--json=yes"], message: "Option '--json' does not take an argument", usage: "usage: argus models list" },
  { args: ["oracle", "start", "now"], message: 'unexpected argument "now"', usage: "usage: argus oracle start" },
];

describe("argus CLI: arguments and exit codes", function () {
  let workDir: string;
  let env: NodeJS.ProcessEnv;

  before(async function () {
    workDir = await mkdtemp(join(tmpdir(), "argus-cli-args-"));
    env = cleanEnv({ ARGUS_DEPLOYMENT_FILE: join(workDir, "missing.json") });
  });

  after(async function () {
    await rm(workDir, { recursive: true, force: true });
  });

  for (const { args, message, usage } of USAGE_ERRORS) {
    it(`argus ${args.join(" ")} → exit 2: ${message}`, async function () {
      const run = await argus(args, env);
      expect(run.code, run.stderr).to.equal(2);
      expect(run.stdout).to.equal("");
      const [first, blank, ...rest] = run.stderr.split("\n");
      expect(first).to.include(message);
      expect(blank).to.equal("");
      expect(rest.join("\n")).to.include(usage);
    });
  }

  it("--help of every command prints its usage on stdout and exits 0", async function () {
    for (const command of [
      ["models", "list"],
      ["models", "add"],
      ["request"],
      ["result"],
      ["events"],
      ["reclaim"],
      ["withdraw"],
      ["oracle", "start"],
    ]) {
      const run = await argus([...command, "--help"], env);
      expect(run.code, command.join(" ")).to.equal(0);
      expect(run.stdout).to.include(`usage: argus ${command.join(" ")}`);
      expect(run.stderr).to.equal("");
    }
  });

  it("without a deployment record: exit 1 and one line saying how to get one", async function () {
    const run = await argus(["models", "list"], env);
    expect(run.code).to.equal(1);
    expect(run.stderr.trim().split("\n")).to.have.length(1);
    expect(run.stderr).to.include(`no deployment record at ${join(workDir, "missing.json")}`);
    expect(run.stderr).to.include("npm start");
  });

  it("with an invalid record: exit 1, naming the fields at fault", async function () {
    const file = join(workDir, "bad.json");
    await writeFile(file, JSON.stringify({ schemaVersion: 1, chain: { id: 31337, name: "x", rpcUrl: "not a url" } }));
    const run = await argus(["events", "--deployment", file], env);
    expect(run.code).to.equal(1);
    expect(run.stderr).to.include("is not a valid deployment record");
    expect(run.stderr).to.include("rpcUrl");
  });

  it("when the chain in the record is down: exit 1, asking whether the stack runs", async function () {
    const file = join(workDir, "down.json");
    await writeFile(
      file,
      JSON.stringify({
        schemaVersion: 1,
        chain: { id: 31337, name: "gone", rpcUrl: "http://127.0.0.1:9" },
        contracts: { predictionEscrow: { address: "0x5FbDB2315678afecb367f032d93F642f64180aa3", deployBlock: 0 } },
        ipfs: { apiUrl: "http://127.0.0.1:9", gatewayUrl: "http://127.0.0.1:9" },
      }),
    );
    const run = await argus(["result", "1", "--deployment", file], env);
    expect(run.code).to.equal(1);
    expect(run.stderr).to.match(/^argus result: cannot reach the chain at http:\/\/127\.0\.0\.1:9 .*npm start/);
  });

  it("is the repository's bin: `npx argus` runs it (usage → 2, --help → 0, failure → 1)", async function () {
    const bare = await argusProcess([], env);
    expect(bare.code).to.equal(2);
    expect(bare.stderr).to.include("usage: npx argus <command>");
    const help = await argusProcess(["--help"], env);
    expect(help.code).to.equal(0);
    // On a Node 20 host npm used to print 11 lines of warnings first (engines, .npmrc).
    expect(
      help.stderr.split("\n").filter((line) => /^npm warn/i.test(line)),
      "npm warnings before `npx argus --help`",
    ).to.deep.equal([]);
    expect(help.stdout).to.include("request");
    const failed = await argusProcess(["models", "list"], env);
    expect(failed.code).to.equal(1);
    expect(failed.stderr).to.include("no deployment record");
  });

  it("oracle start runs the oracle package's main.ts, which adds the oracle's node flags and keeps the caller's", async function () {
    const args = oracleArgs({ config: "oracle.json", deployment: "d.json" });
    expect(args[0]).to.match(/oracle-requestor\/src\/main\.ts$/);
    expect(args.slice(1)).to.deep.equal(["--config", "oracle.json", "--deployment", "d.json"]);
    const rerun = withOracleNodeFlags(["--no-warnings"], args);
    expect(rerun).to.not.equal(undefined);
    expect(rerun!.slice(0, 1 + ORACLE_NODE_FLAGS.length)).to.deep.equal(["--no-warnings", ...ORACLE_NODE_FLAGS]);
    expect(rerun!.slice(1 + ORACLE_NODE_FLAGS.length)).to.deep.equal(args);
    // A process that already has them runs on as it is.
    expect(withOracleNodeFlags([...ORACLE_NODE_FLAGS], args)).to.equal(undefined);
    // Through the bin, the re-executed main.ts answers.
    const table = await argusProcess(["oracle", "start", "--print-config-table"], env);
    expect(table.code, table.stderr).to.equal(0);
    expect(table.stdout).to.include("ARGUS_ORACLE_PRIVATE_KEY");
  });
});
