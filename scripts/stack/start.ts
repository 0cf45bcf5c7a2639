/**
 * `npm start`: the whole Argus stack on this machine in one process tree — a Hardhat
 * node, the escrow deployed with Ignition and the models registered, the embedded IPFS
 * node, the oracle with the local executor, the web UI — with prefixed logs, a summary
 * (UI URL, addresses, a funded test account and how to use it in MetaMask), and the
 * deployment record in .argus/deployment.json. Ctrl-C stops everything.
 *
 *   npm start                        # everything local
 *   ARGUS_MODELS_DIR=../shared/models ARGUS_REFERENCE_PHOTOS_DIR=../shared/images npm start
 *   npm start -- --chain anvil       # the same stack on Anvil instead of the Hardhat node
 *   npm start -- --golem-devnet      # chunks on the Golem devnet: the provider image built if
 *                                    # missing, emulated yagna and providers, the Golem executor
 *   npm start -- --help              # every setting (real chain, Kubo, Golem, ports…)
 *   npm start -- --print-settings    # what it would start, as JSON, without starting it
 *
 * Exit codes: 0 stopped by Ctrl-C/SIGTERM, 1 could not start or a component kept failing
 * (one that dies is restarted: stack-supervisor.ts), 2 bad usage.
 */
import { relative } from "node:path";
import { parseArgs } from "node:util";
import { formatEther, formatUnits } from "viem";
import { describeModel, type StackSummary } from "./stack-launch.ts";
import { consoleLog } from "./stack-log.ts";
import { describeStackSettings, StackError, stackPorts, stackSettings } from "./stack-settings.ts";

const USAGE = `usage: npm start [-- --help | --print-settings | --ui dev|preview|off | --chain hardhat|anvil | --golem-devnet]

  --ui dev        the web UI from Vite's dev server (hot reload) instead of the production build
  --chain anvil   run the local chain on Anvil (Foundry, from npm) instead of the Hardhat node (ARGUS_CHAIN)
  --golem-devnet  run the chunks on the Golem devnet (ARGUS_EXECUTOR=golem-devnet)

Starts the local Argus stack. Settings come from the environment:

${describeStackSettings()}

The oracle reads its own settings from the environment too (npm run oracle -- --print-config-table).`;

let flags: { help?: boolean; "print-settings"?: boolean; ui?: string; chain?: string; "golem-devnet"?: boolean } = {};
try {
  flags = parseArgs({
    options: {
      help: { type: "boolean", short: "h" },
      "print-settings": { type: "boolean" },
      ui: { type: "string" },
      chain: { type: "string" },
      "golem-devnet": { type: "boolean" },
    },
  }).values;
} catch (error) {
  console.error(`npm start: ${(error as Error).message}\n\n${USAGE}`);
  process.exit(2);
}
// The flag is the environment setting spelled for the command line (it wins over ARGUS_UI).
if (flags.ui !== undefined) process.env.ARGUS_UI = flags.ui;
if (flags.chain !== undefined) process.env.ARGUS_CHAIN = flags.chain;
if (flags["golem-devnet"]) process.env.ARGUS_EXECUTOR = "golem-devnet";
if (flags.help) {
  console.log(USAGE);
  process.exit(0);
}
if (flags["print-settings"]) {
  try {
    const settings = stackSettings(process.env);
    console.log(
      JSON.stringify({ settings, ports: stackPorts(settings) }, (_, value) => (typeof value === "bigint" ? value.toString() : value), 2),
    );
    process.exit(0);
  } catch (error) {
    console.error(`npm start: ${(error as Error).message}`);
    process.exit(2);
  }
}

const log = consoleLog();
// Loaded only to start: --help and --print-settings do without the chain, IPFS and Hardhat modules.
const { LocalStack, Stopped } = await import("./stack-launch.ts");
const stack = new LocalStack(process.env, log);
process.on("exit", () => stack.killAll());

let firstSignalAt = 0;
const shutdown = (why: string, code: number) => {
  log.line("argus", `${why}: stopping…`);
  stack.stop().then(
    () => {
      log.line("argus", "stopped");
      process.exit(code);
    },
    (error: Error) => {
      log.line("argus", `unclean stop: ${error.message}`);
      process.exit(1);
    },
  );
};
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => {
    // npm passes the terminal's Ctrl-C on as well: a repeat within a second is the same request.
    if (firstSignalAt === 0) {
      firstSignalAt = Date.now();
      shutdown(signal, 0);
    } else if (Date.now() - firstSignalAt > 1_000) {
      log.line("argus", `${signal} again: killing everything`);
      stack.killAll();
      process.exit(1);
    }
  });
}

try {
  const summary = await stack.start();
  printSummary(summary);
  stack.failed.then((message) => shutdown(message, 1));
} catch (error) {
  if (error instanceof Stopped || stack.stopRequested) {
    // a signal arrived while starting; shutdown() is already under way
  } else {
    log.line("argus", error instanceof StackError ? error.message : `failed to start: ${(error as Error).stack ?? error}`);
    shutdown("could not start", 1);
  }
}

function printSummary(summary: StackSummary): void {
  const { record } = summary;
  const say = (text = "") => log.line("argus", text);
  const row = (label: string, value: string) => say(`  ${label.padEnd(9)} ${value}`);
  say();
  say("Argus is running.");
  if (summary.uiUrl) row("web UI", summary.uiUrl);
  row("chain", `${record.chain.name}, chain id ${record.chain.id}, RPC ${record.chain.rpcUrl}`);
  row(
    "escrow",
    `${record.contracts.predictionEscrow.address} (PredictionEscrow, deployed in block ${record.contracts.predictionEscrow.deployBlock})`,
  );
  if (summary.models.length > 0) row("models", summary.models.map(describeModel).join(", "));
  const token = summary.testToken;
  if (token) row(token.symbol, `${token.address} (test stablecoin, EIP-3009: payable by signed authorization, without ETH)`);
  row("IPFS", `API ${record.ipfs.apiUrl}, gateway ${record.ipfs.gatewayUrl}`);
  if (summary.oracle) {
    const executor = summary.executor === "golem-devnet" ? "Golem executor on the devnet" : `${summary.executor} executor`;
    row(
      "oracle",
      `${summary.oracle.address}, ${executor}, status ${summary.oracle.statusUrl}/healthz, metrics ${summary.oracle.statusUrl}/metrics`,
    );
  }
  if (summary.gateway)
    row("gateway", `${summary.gateway.url} (pay over HTTP with x402; relayer ${summary.gateway.relayer}, which pays the gas)`);
  for (const [index, line] of (summary.golemDevnet ?? []).entries()) row(index === 0 ? "chunks" : "", line);
  const recordPath = relative(process.cwd(), summary.deploymentFile);
  row("record", recordPath.startsWith("..") ? summary.deploymentFile : recordPath);
  const account = summary.testAccount;
  if (account) {
    say();
    const tokens = token ? ` and ${formatUnits(token.grant, token.decimals)} ${token.symbol}` : "";
    say(
      `Funded test account (Hardhat #${account.index}, ${formatEther(account.balance)} ETH${tokens}; a publicly known key: use it on this local chain only)`,
    );
    row("address", account.address);
    row("key", account.privateKey);
    say("MetaMask: Settings → Networks → Add a network manually:");
    say(`  name "${record.chain.name}", RPC URL ${record.chain.rpcUrl}, chain ID ${record.chain.id}, currency symbol ETH;`);
    say("  then account menu → Add account or hardware wallet → Import account → paste the key.");
    say("  Each start begins a new chain: if MetaMask reports nonce errors, Settings → Advanced → Clear activity tab data.");
    say("From a terminal:");
    say(`  export ARGUS_PRIVATE_KEY=${account.privateKey}`);
    const model = summary.models.find((candidate) => candidate.name.startsWith("mobilenet"))?.name ?? summary.models[0]?.name ?? "<model>";
    say(`  npx argus request --model ${model} --image <photo.jpg> --wait`);
    if (summary.gateway && token)
      say(
        `  npx argus request --model ${model} --image <photo.jpg> --pay-over-http ${summary.gateway.url} --wait   # in ${token.symbol}, no ETH needed`,
      );
  }
  say();
  say("ready — Ctrl-C stops everything.");
}
