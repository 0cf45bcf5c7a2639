/**
 * What the web UI's end-to-end flows run against, all on this machine and on free ports:
 * the oracle suites' local stack (test/oracle/support/stack.ts: a Hardhat node, the
 * escrow deployed by Ignition with the three shared models, the embedded IPFS node),
 * plus a copy of MobileNetV2 priced in TestGLM (the permit flow), the real oracle
 * running in this process (answers, and its status server for "picked up"), and the
 * production build of the app served with its deployment record. The same app from
 * Vite's dev server (what `npm start -- --ui dev` serves) starts on demand, on a port
 * reserved up front so the IPFS node allows its origin too.
 *
 * Roles follow the oracle suites' convention: account 0 administers, account 1 is the
 * oracle, account 2 the treasury, account 3 the user whose wallet the page gets.
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type Server, type ServerResponse } from "node:http";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, extname, join, normalize } from "node:path";
import { promisify } from "node:util";
import pino from "pino";
import { createServer as createViteServer, type ViteDevServer } from "vite";
import { type Address, type Chain, defineChain, type LocalAccount } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { startOracle, type RunningOracle } from "@argus/oracle/oracle";
import { pinModelFile, pinResult } from "@argus/ipfs-node/client";
import { BUILTIN_MANIFESTS_DIR, listManifests } from "@argus/provider-image/catalog";
import { manifestBytes } from "@argus/protocol/manifest";
import { hardhatAccountKey } from "@argus/devchain";
import { type DeploymentInput, parseDeployment } from "@argus/frontend/deployment";
import { addTokenPricedModel, startStack, type Stack } from "../../oracle/support/stack.ts";
import { REPO_ROOT, SHARED_MODELS_DIR } from "../../support/shared.ts";

export const FRONTEND_DIR = join(REPO_ROOT, "frontend");
export const SCREENSHOTS_DIR = join(REPO_ROOT, "test-output/frontend");
/** The token-priced copy of MobileNetV2 (same manifest, another id). */
export const TOKEN_MODEL = "mobilenetv2-12-int8-tglm";
export const TOKEN_FEE = 10n ** 18n; // 1 tGLM
const CHAIN_NAME = "Hardhat local";
/** The IPFS node takes uploads up to this size: the largest model file pinned (MobileNetV2 int8, 3.5 MiB) fits. */
const MODEL_FILE_UPLOAD_BYTES = 8 * 1024 * 1024;
/** What vite.config.ts serves too: the browser recompute's threaded WASM needs a cross-origin isolated page. */
const CROSS_ORIGIN_ISOLATION = { "cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "credentialless" };

/** Hardhat development account `index` as a viem signer. */
export function account(index: number): LocalAccount {
  return privateKeyToAccount(hardhatAccountKey(index));
}

export interface FrontendStack {
  /** Chain, escrow, IPFS node, public client (the oracle suites' stack). */
  stack: Stack;
  /** The chain as the app's record names it, for the test wallet. */
  chain: Chain;
  /** The TestGLM the token-priced model is paid in. */
  token: Address;
  /** The real oracle; the flows pause its execution when a request must stay unanswered. */
  oracle: RunningOracle;
  appUrl: string;
  /** Starts Vite's dev server on the app's sources with the same deployment record; its URL. */
  startDevServer(): Promise<string>;
  close(): Promise<void>;
}

export async function startFrontendStack(): Promise<FrontendStack> {
  const workDir = await mkdtemp(join(tmpdir(), "argus-frontend-e2e-"));
  const appDir = join(workDir, "app");
  const built = buildApp(appDir); // in parallel with the chain

  // The app's origin must be known before the IPFS node starts: it is the one origin allowed to call its API.
  const deployment: { json?: string } = {};
  const web = await listen(createServer((request, response) => void serveStatic(appDir, deployment, request.url ?? "/", response)));
  const appUrl = `http://127.0.0.1:${(web.address() as { port: number }).port}`;
  const devPort = await freePort();
  const devUrl = `http://127.0.0.1:${devPort}`;
  let dev: ViteDevServer | undefined;
  let stack: Stack | undefined;
  let oracle: RunningOracle | undefined;
  try {
    stack = await startStack("frontend", { ipfsCorsOrigins: [appUrl, devUrl], ipfsMaxUploadBytes: MODEL_FILE_UPLOAD_BYTES });
    const tokenModel = await addTokenPricedModel(stack, {
      copyOf: "mobilenetv2-12-int8",
      name: TOKEN_MODEL,
      fee: TOKEN_FEE,
      holders: [account(3).address],
      mint: 100n * TOKEN_FEE,
    });
    // As `npm start` does: each registered manifest pinned as the raw block its on-chain manifestCid names (the model cards read them),
    // and its label file as the raw block its sha256 names (the cards' label lists read it there before trying its URL).
    const manifests = await listManifests([BUILTIN_MANIFESTS_DIR, tokenModel.manifestsDir]);
    for (const manifest of manifests) await pinResult(stack.ipfsClient, manifestBytes(manifest));
    for (const file of new Set(manifests.map((manifest) => manifest.labels.file)))
      await pinResult(stack.ipfsClient, new Uint8Array(await readFile(join(SHARED_MODELS_DIR, file))));
    // And each classifier's weights as the raw block its sha256 names: the browser recompute reads them there.
    for (const file of new Set(manifests.filter((manifest) => manifest.task === "classification").map((manifest) => manifest.weights.file)))
      await pinModelFile(stack.ipfsClient, new Uint8Array(await readFile(join(SHARED_MODELS_DIR, file))));
    const config = stack.oracleConfig();
    oracle = await startOracle(config, { log: pino({ level: config.logLevel, base: { service: "argus-oracle" } }) });

    const { rpcUrl } = stack.chain;
    const record: DeploymentInput = {
      schemaVersion: 1,
      chain: { id: 31337, name: CHAIN_NAME, rpcUrl, nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 } },
      contracts: { predictionEscrow: { address: stack.argus.escrow, deployBlock: stack.argus.deployBlock } },
      ipfs: { apiUrl: stack.ipfs.apiUrl, gatewayUrl: stack.ipfs.gatewayUrl },
      oracle: { statusUrl: oracle.statusUrl },
    };
    deployment.json = JSON.stringify(parseDeployment(record));
    await built;

    const chain = defineChain({
      id: 31337,
      name: CHAIN_NAME,
      nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
      rpcUrls: { default: { http: [rpcUrl] } },
    });
    const [started, running] = [stack, oracle];
    return {
      stack: started,
      chain,
      token: tokenModel.token,
      oracle: running,
      appUrl,
      async startDevServer() {
        dev ??= await startDevServer(devPort, join(workDir, "vite-cache"), deployment.json!);
        return devUrl;
      },
      async close() {
        await dev?.close();
        await running.stop();
        await new Promise((resolve) => web.close(resolve));
        await started.close();
        await rm(workDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await oracle?.stop().catch(() => {});
    web.close();
    await stack?.close().catch(() => {});
    await built.catch(() => {});
    await rm(workDir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * The production build (what `npm run build` makes), into `outDir`. NODE_ENV is set: the
 * test runner sets it to "test", and Vite would then build React's development copy.
 */
async function buildApp(outDir: string): Promise<void> {
  const viteBin = join(dirname(createRequire(import.meta.url).resolve("vite/package.json")), "bin/vite.js");
  await promisify(execFile)(process.execPath, [viteBin, "build", "--outDir", outDir, "--emptyOutDir", "--logLevel", "error"], {
    cwd: FRONTEND_DIR,
    env: { ...process.env, NODE_ENV: "production" },
    maxBuffer: 16 * 1024 * 1024,
  });
}

/**
 * Vite's dev server on the app's sources, as `npm start -- --ui dev` runs it (React's
 * development build, StrictMode's double effects, modules loaded one by one), serving
 * `deploymentJson`. Its dependency cache is its own, so it starts cold as on a fresh clone.
 */
async function startDevServer(port: number, cacheDir: string, deploymentJson: string): Promise<ViteDevServer> {
  const server = await createViteServer({
    root: FRONTEND_DIR,
    configFile: join(FRONTEND_DIR, "vite.config.ts"),
    cacheDir,
    clearScreen: false,
    logLevel: "warn",
    // No file watching: the app's sources must not change under the flow (edits in the working tree would hot-reload it).
    server: { host: "127.0.0.1", port, strictPort: true, watch: null },
    plugins: [
      {
        name: "argus-e2e-deployment-record",
        configureServer: (dev) =>
          void dev.middlewares.use("/deployment.json", (_request, response) => {
            response.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" }).end(deploymentJson);
          }),
      },
    ],
  });
  await server.listen();
  return server;
}

async function freePort(): Promise<number> {
  const server = await listen(createServer());
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
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
  ".wasm": "application/wasm",
};

async function serveStatic(dir: string, deployment: { json?: string }, url: string, response: ServerResponse) {
  const path = new URL(url, "http://app").pathname;
  if (path === "/deployment.json") {
    response.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
    response.end(deployment.json);
    return;
  }
  // The app's own routes (`/`, `/r/<id>`) are the single page; anything with an extension is a file.
  const file = normalize(join(dir, extname(path) === "" ? "index.html" : path));
  if (!file.startsWith(dir)) {
    response.writeHead(403).end();
    return;
  }
  try {
    const body = await readFile(file);
    response.writeHead(200, { "content-type": CONTENT_TYPES[extname(file)] ?? "application/octet-stream", ...CROSS_ORIGIN_ISOLATION });
    response.end(body);
  } catch {
    response.writeHead(404, { "content-type": "text/plain" }).end("not found");
  }
}

export async function ensureScreenshotsDir(): Promise<void> {
  await mkdir(SCREENSHOTS_DIR, { recursive: true });
}
