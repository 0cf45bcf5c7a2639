/**
 * Anvil, Foundry's local node, as the alternative to the Hardhat node (`npm start --
 * --chain anvil`): the binary of the npm package @foundry-rs/anvil (its platform
 * package; nothing is downloaded), started with Hardhat's development accounts so
 * everything that assumes them (deployer, oracle, relayer, the funded test account)
 * holds on either node. Chain id 31337 and one block per transaction, as Hardhat's.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { LocalChain } from "./local-stack.ts";

/** Hardhat's development mnemonic and account count: the accounts `hardhatAccountKey` derives. */
const MNEMONIC = "test test test test test test test test test test test junk";
const ACCOUNTS = 20;
const BALANCE_ETH = 10_000;
const START_TIMEOUT_MS = 30_000;

const ARCHES: Record<string, string> = { x64: "amd64", arm64: "arm64" };

/**
 * The binary of a Foundry tool (`anvil`, `forge`) from this platform's
 * @foundry-rs/<tool>-<os>-<arch> package. Run it directly, not through the npm
 * package's `bin` wrapper: that wrapper exits 0 whatever the tool's exit code.
 */
export function foundryBinary(tool: "anvil" | "forge"): string {
  const arch = ARCHES[process.arch];
  if (arch === undefined) throw new Error(`${tool} has no build for ${process.platform} on ${process.arch}`);
  const pkg = `@foundry-rs/${tool}-${process.platform}-${arch}`;
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve(`${pkg}/package.json`)), "bin", process.platform === "win32" ? `${tool}.exe` : tool);
}

/** An anvil node on `host:port` (port 0: any free port), automining, chain id 31337. */
export async function startAnvil(options: { host?: string; port?: number } = {}): Promise<LocalChain> {
  const host = options.host ?? "127.0.0.1";
  const args = ["--host", host, "--port", String(options.port ?? 0), "--mnemonic", MNEMONIC];
  args.push("--accounts", String(ACCOUNTS), "--balance", String(BALANCE_ETH), "--chain-id", "31337");
  const child = spawn(foundryBinary("anvil"), args, { stdio: ["ignore", "pipe", "pipe"] });
  const port = await listeningPort(child);
  return {
    rpcUrl: `http://${host}:${port}`,
    close: () => stop(child),
  };
}

/** The port anvil prints once it listens ("Listening on 127.0.0.1:PORT"). */
function listeningPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let output = "";
    const fail = (why: string) => {
      child.kill("SIGKILL");
      reject(new Error(`anvil did not start: ${why}${output ? `\n${output.slice(-2_000)}` : ""}`));
    };
    const timer = setTimeout(() => fail(`no "Listening on" within ${START_TIMEOUT_MS / 1000} s`), START_TIMEOUT_MS);
    const onData = (text: string) => {
      output += text;
      const match = /Listening on [^\s:]+:(\d+)/.exec(output);
      if (!match) return;
      clearTimeout(timer);
      // Keep draining its output (it logs every request): a full pipe would stall it.
      child.stdout?.removeListener("data", onData);
      child.stdout?.resume();
      child.stderr?.resume();
      resolve(Number(match[1]));
    };
    child.stdout?.setEncoding("utf8").on("data", onData);
    child.stderr?.setEncoding("utf8").on("data", (text: string) => (output += text));
    child.once("error", (error) => {
      clearTimeout(timer);
      fail(error.message);
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      fail(`exited (${signal ?? `code ${code}`})`);
    });
  });
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}
