/**
 * Writes the app's deployment record from a local Ignition deployment:
 *
 *   npm run deploy:local                        # chain + escrow + models
 *   npm run deployment:local -w @argus/frontend # → frontend/public/deployment.json
 *
 * Options (environment):
 *   ARGUS_RPC_URL          chain RPC (default http://127.0.0.1:8545)
 *   ARGUS_CHAIN_ID         chain id (default 31337; the Ignition folder is chain-<id>)
 *   ARGUS_CHAIN_NAME       shown to users (default "Hardhat local")
 *   ARGUS_IPFS_API         Kubo RPC API (default http://127.0.0.1:5001)
 *   ARGUS_IPFS_GATEWAY     path gateway (default http://127.0.0.1:8080)
 *   ARGUS_ORACLE_STATUS_URL the oracle's status server, for "picked up" before the answer
 *                          (e.g. http://127.0.0.1:9464; default: none, the app then follows the chain only)
 *   ARGUS_DEPLOYMENT_OUT   output file (default frontend/public/deployment.json)
 *
 * The one-command stack writes the same shape itself (see src/deployment.ts).
 */
import { readFile, writeFile, mkdir } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { DEPLOYMENT_SCHEMA_VERSION, type DeploymentInput, parseDeployment } from "@argus/frontend/deployment";

const FRONTEND = resolve(import.meta.dirname, "..");
const REPO = resolve(FRONTEND, "..");
const env = process.env;
const chainId = Number(env.ARGUS_CHAIN_ID ?? 31337);
const ignitionDir = join(REPO, "contracts/devchain/ignition/deployments", `chain-${chainId}`);
const out = resolve(env.ARGUS_DEPLOYMENT_OUT ?? join(FRONTEND, "public/deployment.json"));

async function readJson(path: string, what: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    throw new Error(`${what} ${path} could not be read (${(error as Error).message}): run \`npm run deploy:local\` first`);
  }
}

/** The escrow's deployment block, from the Ignition journal's receipt (0 when not found). */
async function deployBlock(): Promise<number> {
  const journal = await readFile(join(ignitionDir, "journal.jsonl"), "utf8").catch(() => "");
  for (const line of journal.split("\n")) {
    if (!line.includes('"Argus#PredictionEscrow"') || !line.includes('"contractAddress"')) continue;
    const entry = JSON.parse(line) as { receipt?: { blockNumber?: number } };
    if (typeof entry.receipt?.blockNumber === "number") return entry.receipt.blockNumber;
  }
  return 0;
}

const addresses = (await readJson(join(ignitionDir, "deployed_addresses.json"), "Ignition record")) as Record<string, string>;
const escrow = addresses["Argus#PredictionEscrow"];
if (!escrow) throw new Error(`${ignitionDir}/deployed_addresses.json has no Argus#PredictionEscrow`);

const record: DeploymentInput = {
  schemaVersion: DEPLOYMENT_SCHEMA_VERSION,
  chain: {
    id: chainId,
    name: env.ARGUS_CHAIN_NAME ?? "Hardhat local",
    rpcUrl: env.ARGUS_RPC_URL ?? "http://127.0.0.1:8545",
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
  },
  contracts: { predictionEscrow: { address: escrow as `0x${string}`, deployBlock: await deployBlock() } },
  ipfs: {
    apiUrl: env.ARGUS_IPFS_API ?? "http://127.0.0.1:5001",
    gatewayUrl: env.ARGUS_IPFS_GATEWAY ?? "http://127.0.0.1:8080",
  },
  ...(env.ARGUS_ORACLE_STATUS_URL ? { oracle: { statusUrl: env.ARGUS_ORACLE_STATUS_URL } } : {}),
};
parseDeployment(record, "the generated record"); // never write a record the app would refuse
await mkdir(dirname(out), { recursive: true });
await writeFile(out, `${JSON.stringify(record, null, 2)}\n`);
console.log(`deployment: wrote ${out} (escrow ${escrow} on chain ${chainId})`);
