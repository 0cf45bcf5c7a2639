/**
 * What the web UI's end-to-end flows run against, all on this machine and on free ports:
 * a Hardhat (EDR) JSON-RPC node, the escrow with the three shared models plus one priced
 * in TestGLM (the permit flow), the embedded IPFS node, and the production build of the
 * app served with its deployment record.
 *
 * Roles follow the oracle suites' convention: account 0 administers, account 1 is the
 * oracle, account 2 the treasury, account 3 the user whose wallet the page gets.
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, extname, join, normalize } from "node:path";
import { promisify } from "node:util";
import { network } from "hardhat";
import { type Address, type Chain, createPublicClient, defineChain, http, type PublicClient } from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { BUILTIN_MANIFESTS_DIR } from "@argus/provider-image/catalog";
import { startEmbeddedIpfs, type EmbeddedIpfs } from "@argus/oracle-requestor/ipfs/embedded";
import { DEFAULT_MODEL_TERMS, registerModels } from "../../../scripts/lib/register-models.ts";
import type { PredictionEscrow } from "../../../types/ethers-contracts/index.ts";
import { type DeploymentInput, parseDeployment } from "../../../frontend/src/deployment.ts";
import { REPO_ROOT } from "../../support/shared.ts";

const HARDHAT_MNEMONIC = "test test test test test test test test test test test junk";
export const account = (index: number) => mnemonicToAccount(HARDHAT_MNEMONIC, { addressIndex: index });

export const FRONTEND_DIR = join(REPO_ROOT, "frontend");
export const SCREENSHOTS_DIR = join(REPO_ROOT, "test-output/frontend");
/** The token-priced copy of MobileNetV2 (same manifest, another id). */
export const TOKEN_MODEL = "mobilenetv2-12-int8-tglm";
export const TOKEN_FEE = 10n ** 18n; // 1 tGLM

export interface FrontendStack {
  rpcUrl: string;
  chain: Chain;
  client: PublicClient;
  escrow: Address;
  deployBlock: number;
  token: Address;
  /** Registry id of each model by name. */
  models: Map<string, number>;
  manifestsDirs: string[];
  ipfs: EmbeddedIpfs;
  appUrl: string;
  close(): Promise<void>;
}

export async function startFrontendStack(): Promise<FrontendStack> {
  const workDir = await mkdtemp(join(tmpdir(), "argus-frontend-e2e-"));
  const appDir = join(workDir, "app");
  const built = buildApp(appDir); // in parallel with the chain

  const server = await network.createServer("default", "127.0.0.1", 0);
  const { port: chainPort } = await server.listen();
  const rpcUrl = `http://127.0.0.1:${chainPort}`;
  const connection = await network.create({ network: "localhost", override: { url: rpcUrl } });
  const { ethers } = connection;
  const [admin, oracle, treasury] = [0, 1, 2].map((index) => account(index).address);
  const user = account(3).address;

  const escrowContract = await ethers.deployContract("PredictionEscrow", [admin!, treasury!, 500]);
  await escrowContract.waitForDeployment();
  const escrow = (await escrowContract.getAddress()) as Address;
  const deployBlock = (await escrowContract.deploymentTransaction()!.wait())!.blockNumber;
  const typed = escrowContract as unknown as PredictionEscrow;
  await (await typed.grantRole(await typed.MODEL_ADMIN_ROLE(), admin!)).wait();
  await (await typed.grantRole(await typed.ORACLE_ROLE(), oracle!)).wait();

  const tokenContract = await ethers.deployContract("TestGLM");
  const token = (await tokenContract.getAddress()) as Address;
  await (await (tokenContract as unknown as { mint(to: string, amount: bigint): Promise<{ wait(): Promise<unknown> }> }).mint(user, 100n * TOKEN_FEE)).wait();

  const tokenManifests = join(workDir, "manifests");
  await mkdir(tokenManifests);
  const manifest = JSON.parse(await readFile(join(BUILTIN_MANIFESTS_DIR, "mobilenetv2-12-int8.json"), "utf8"));
  await writeFile(join(tokenManifests, `${TOKEN_MODEL}.json`), JSON.stringify({ ...manifest, id: TOKEN_MODEL }));

  const registered = [
    ...(await registerModels(typed, [BUILTIN_MANIFESTS_DIR])),
    ...(await registerModels(typed, [tokenManifests], { ...DEFAULT_MODEL_TERMS, feeToken: token, fee: TOKEN_FEE })),
  ];
  await connection.close();
  const models = new Map(registered.map((model) => [model.name, Number(model.modelId)]));

  // The app's origin must be known before the IPFS node starts: it is the one origin allowed to call its API.
  const deployment: { json?: string } = {};
  const web = await listen(createServer((request, response) => void serveStatic(appDir, deployment, request.url ?? "/", response)));
  const appUrl = `http://127.0.0.1:${(web.address() as { port: number }).port}`;
  const ipfs = await startEmbeddedIpfs({
    apiPort: 0,
    gatewayPort: 0,
    dataDir: join(workDir, "ipfs"),
    corsOrigins: [appUrl],
    readTimeoutMs: 2_000,
  });

  const chainName = "Hardhat local";
  const record: DeploymentInput = {
    schemaVersion: 1,
    chain: { id: 31337, name: chainName, rpcUrl, nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 } },
    contracts: { predictionEscrow: { address: escrow, deployBlock } },
    ipfs: { apiUrl: ipfs.apiUrl, gatewayUrl: ipfs.gatewayUrl },
  };
  deployment.json = JSON.stringify(parseDeployment(record));
  await built;

  const chain = defineChain({
    id: 31337,
    name: chainName,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  });
  return {
    rpcUrl,
    chain,
    client: createPublicClient({ chain, transport: http(rpcUrl) }) as PublicClient,
    escrow,
    deployBlock,
    token,
    models,
    manifestsDirs: [BUILTIN_MANIFESTS_DIR, tokenManifests],
    ipfs,
    appUrl,
    async close() {
      await new Promise((resolve) => web.close(resolve));
      await ipfs.stop();
      await server.close();
      await rm(workDir, { recursive: true, force: true });
    },
  };
}

/** The production build (what `npm run build` makes), into `outDir`. */
async function buildApp(outDir: string): Promise<void> {
  const viteBin = join(dirname(createRequire(import.meta.url).resolve("vite/package.json")), "bin/vite.js");
  await promisify(execFile)(process.execPath, [viteBin, "build", "--outDir", outDir, "--emptyOutDir", "--logLevel", "error"], {
    cwd: FRONTEND_DIR,
    maxBuffer: 16 * 1024 * 1024,
  });
}

function listen(server: Server): Promise<Server> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".svg": "image/svg+xml",
};

async function serveStatic(dir: string, deployment: { json?: string }, url: string, response: import("node:http").ServerResponse) {
  const path = new URL(url, "http://app").pathname;
  if (path === "/deployment.json") {
    response.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
    response.end(deployment.json);
    return;
  }
  const file = normalize(join(dir, path === "/" ? "index.html" : path));
  if (!file.startsWith(dir)) {
    response.writeHead(403).end();
    return;
  }
  try {
    const body = await readFile(file);
    response.writeHead(200, { "content-type": CONTENT_TYPES[extname(file)] ?? "application/octet-stream" });
    response.end(body);
  } catch {
    response.writeHead(404, { "content-type": "text/plain" }).end("not found");
  }
}

export async function ensureScreenshotsDir(): Promise<void> {
  await mkdir(SCREENSHOTS_DIR, { recursive: true });
}

