/**
 * What `npm start` runs and where, from the environment. Every component has a local
 * default (the one-command stack) and a switch to real infrastructure:
 *   ARGUS_RPC_URL    an external chain instead of the local Hardhat node
 *   ARGUS_IPFS_API   a Kubo endpoint instead of the embedded IPFS node
 *   ARGUS_EXECUTOR   `golem` to run inference on Golem (yagna) instead of locally, or
 *                    `golem-devnet` (`npm start -- --golem-devnet`) to run it on the
 *                    emulated yagna and providers of oracle-requestor/golem-devnet
 * `describeStackSettings()` prints the table the README documents.
 */
import { createServer } from "node:net";
import { basename, join, resolve } from "node:path";
import { resolveOptions as ipfsOptions } from "@argus/ipfs-node/config";
import { resolveSettings as devnetSettings } from "@argus/golem-devnet/config";
import { IMAGE_FILE_NAME } from "@argus/provider-image/build-output";

export const REPO_ROOT = resolve(import.meta.dirname, "../..");

export class StackError extends Error {
  override name = "StackError";
}

export interface StackSettings {
  stateDir: string;
  deploymentFile: string;
  chain:
    | { kind: "local"; node: LocalNode; host: string; port: number; name: string; ignitionDeploymentId: string }
    | { kind: "external"; rpcUrl: string; name: string | undefined; escrow: `0x${string}`; deployBlock: number };
  ipfs:
    | { kind: "embedded"; host: string; apiPort: number; gatewayPort: number; dataDir: string }
    | { kind: "external"; apiUrl: string; gatewayUrl: string };
  oracle: { enabled: boolean; host: string; port: number };
  /** The HTTP gateway (x402 payments relayed to the escrow); `relayerKey` undefined: Hardhat account 9 on the local chain. */
  gateway: { enabled: boolean; host: string; port: number; relayerKey: `0x${string}` | undefined };
  executor: ExecutorSettings;
  ui: { mode: "dev" | "preview" | "off"; host: string; port: number };
  /** Restarts in a row of a component that stopped on its own before the stack stops. */
  restarts: number;
}

/**
 * Where the oracle runs chunks: on this machine, on Golem through a yagna the user runs,
 * or on the Golem devnet the stack starts — the provider image built (or reused) from
 * this checkout, the devnet with its providers as a process of its own, and the oracle
 * with the Golem executor pointed at it.
 */
export type ExecutorSettings =
  | { kind: "local" }
  | { kind: "golem" }
  | { kind: "golem-devnet"; host: string; port: number; providers: number; image: string };

export const EXECUTORS = ["local", "golem", "golem-devnet"] as const;

/** The local node: Hardhat's (EDR, in this process) or Foundry's Anvil (a child process). */
export const LOCAL_NODES = ["hardhat", "anvil"] as const;
export type LocalNode = (typeof LOCAL_NODES)[number];

/** Each setting: variable, default, meaning (for --help and the README). */
export const STACK_VARIABLES = [
  ["ARGUS_STATE_DIR", ".argus", "where the stack keeps its state: deployment record, oracle queue, IPFS blocks"],
  ["ARGUS_DEPLOYMENT_FILE", "$ARGUS_STATE_DIR/deployment.json", "the deployment record written for the UI, the CLI and the tests"],
  [
    "ARGUS_MODELS_DIR",
    "~/.cache/argus/models (downloaded)",
    "ONNX models and labels; when unset, a cache filled from the manifests' pinned URLs and checked by sha256",
  ],
  [
    "ARGUS_REFERENCE_PHOTOS_DIR",
    "~/.cache/argus/reference-photos (downloaded)",
    "the photos every model's self-test runs on; when unset, a cache filled from each photo's pinned source and checked by sha256",
  ],
  ["ARGUS_MODELS_MIRROR", "—", "download the model files and reference photos from `<mirror>/<file>` instead (still checked by sha256)"],
  ["ARGUS_MANIFESTS_DIR", "—", "more model manifest folders (path list) besides provider-image/manifests"],
  [
    "ARGUS_RPC_URL",
    "— (local node)",
    "use this chain instead of starting a local Hardhat node; needs ARGUS_ESCROW_ADDRESS and an oracle key",
  ],
  ["ARGUS_ESCROW_ADDRESS", "— (deployed fresh)", "the PredictionEscrow on the external chain"],
  ["ARGUS_START_BLOCK", "0", "on an external chain: the escrow's deployment block (event queries start there)"],
  [
    "ARGUS_CHAIN",
    "hardhat",
    "the local node: `hardhat` (EDR, in this process) or `anvil` (Foundry's, from npm; `npm start -- --chain anvil`)",
  ],
  ["ARGUS_CHAIN_NAME", "Hardhat local / Anvil local", "the chain's name as the UI shows it"],
  ["ARGUS_CHAIN_HOST / ARGUS_CHAIN_PORT", "127.0.0.1 / 8545", "the local node's JSON-RPC address"],
  ["ARGUS_IGNITION_DEPLOYMENT_ID", "chain-31337", "Ignition journal of the local deployment (reset on each start)"],
  [
    "ARGUS_IPFS_API",
    "— (embedded node)",
    "use this Kubo RPC endpoint instead of the embedded node (ARGUS_IPFS_API_AUTHORIZATION for credentials)",
  ],
  ["ARGUS_IPFS_GATEWAY", "http://127.0.0.1:8080", "with ARGUS_IPFS_API: the gateway the UI shows images from"],
  [
    "ARGUS_IPFS_HOST / ARGUS_IPFS_API_PORT / ARGUS_IPFS_GATEWAY_PORT",
    "127.0.0.1 / 5001 / 8080",
    "the embedded node's addresses (see oracle-requestor/ipfs-node/README.md for the rest)",
  ],
  ["ARGUS_ORACLE", "on", "`off`: start no oracle (one runs elsewhere)"],
  ["ARGUS_ORACLE_HOST / ARGUS_ORACLE_PORT", "127.0.0.1 / 9464", "the oracle's status server (/healthz, /metrics, /requests/<id>)"],
  [
    "ARGUS_ORACLE_PRIVATE_KEY",
    "Hardhat account 1 (local chain)",
    "the oracle's key (or ARGUS_ORACLE_KEYSTORE + _PASSWORD); required on an external chain",
  ],
  ["ARGUS_GATEWAY", "on", "`off`: start no HTTP gateway"],
  [
    "ARGUS_GATEWAY_HOST / ARGUS_GATEWAY_PORT",
    "127.0.0.1 / 8402",
    "the HTTP gateway (pay over HTTP with x402; see oracle-requestor/gateway/README.md for its other settings)",
  ],
  [
    "ARGUS_GATEWAY_RELAYER_KEY",
    "Hardhat account 9 (local chain)",
    "the key whose account pays the gas of the requests the gateway relays; on an external chain the gateway starts only with one",
  ],
  [
    "ARGUS_CONFIRMATIONS",
    "0 on the local chain",
    "blocks a request must be buried under; the local node mines one block per transaction, so 0 there",
  ],
  [
    "ARGUS_RESTARTS",
    "5",
    "times in a row a component (IPFS node, oracle, UI, Golem devnet) that stopped on its own is restarted, after 1 s, 2 s, 4 s… (a minute's run starts the count over), before the stack gives up and stops",
  ],
  [
    "ARGUS_EXECUTOR",
    "local",
    "`golem`: run chunks on Golem providers through your yagna (settings: oracle-requestor/GOLEM.md); `golem-devnet` (or `--golem-devnet`): on the Golem devnet the stack starts — the provider image built if missing, the emulated yagna with its providers, the oracle's Golem executor pointed at it",
  ],
  [
    "ARGUS_GOLEM_DEVNET_HOST / ARGUS_GOLEM_DEVNET_PORT",
    "127.0.0.1 / 7465",
    "with golem-devnet: the emulated yagna's address (REST, GSB WebSocket, image registry, /devnet/ control API)",
  ],
  ["ARGUS_GOLEM_DEVNET_PROVIDERS", "3", "with golem-devnet: how many emulated providers offer to compute"],
  [
    "ARGUS_GOLEM_DEVNET_IMAGE",
    "provider-image/dist/argus-provider.gvmi",
    "with golem-devnet: the provider image, built there (`npm run build:provider-image`) unless its record names this checkout's inputs; the devnet's other settings (ARGUS_GOLEM_DEVNET_*) are in oracle-requestor/golem-devnet/README.md",
  ],
  ["ARGUS_UI", "preview", "`preview` (production build), `dev` (Vite dev server, hot reload; also `npm start -- --ui dev`) or `off`"],
  ["ARGUS_UI_HOST / ARGUS_UI_PORT", "127.0.0.1 / 4173 (dev: 5173)", "the web UI's address"],
] as const;

export function describeStackSettings(): string {
  return [
    "| variable | default | meaning |",
    "|---|---|---|",
    ...STACK_VARIABLES.map(([name, fallback, help]) => `| \`${name}\` | ${fallback} | ${help} |`),
  ].join("\n");
}

export function stackSettings(env: NodeJS.ProcessEnv): StackSettings {
  const get = (name: string) => (env[name]?.trim() ? env[name]!.trim() : undefined);
  const stateDir = resolve(get("ARGUS_STATE_DIR") ?? join(REPO_ROOT, ".argus"));
  const deploymentFile = resolve(get("ARGUS_DEPLOYMENT_FILE") ?? join(stateDir, "deployment.json"));

  const rpcUrl = get("ARGUS_RPC_URL");
  let chain: StackSettings["chain"];
  if (rpcUrl) {
    const escrow = get("ARGUS_ESCROW_ADDRESS");
    if (!escrow || !/^0x[0-9a-fA-F]{40}$/.test(escrow)) {
      throw new StackError(
        "ARGUS_RPC_URL names an external chain, so the escrow must already be deployed there: set ARGUS_ESCROW_ADDRESS " +
          "(deploy it with `npx hardhat ignition deploy contracts/devchain/ignition/modules/Argus.ts --network <network>`)",
      );
    }
    chain = {
      kind: "external",
      rpcUrl,
      name: get("ARGUS_CHAIN_NAME"),
      escrow: escrow as `0x${string}`,
      deployBlock: integer(get("ARGUS_START_BLOCK") ?? "0", "ARGUS_START_BLOCK", 0),
    };
  } else {
    const node = get("ARGUS_CHAIN") ?? "hardhat";
    if (!(LOCAL_NODES as readonly string[]).includes(node))
      throw new StackError(`ARGUS_CHAIN must be ${LOCAL_NODES.join(" or ")}, not "${node}"`);
    chain = {
      kind: "local",
      node: node as LocalNode,
      host: get("ARGUS_CHAIN_HOST") ?? "127.0.0.1",
      port: integer(get("ARGUS_CHAIN_PORT") ?? "8545", "ARGUS_CHAIN_PORT", 1, 65_535),
      name: get("ARGUS_CHAIN_NAME") ?? (node === "anvil" ? "Anvil local" : "Hardhat local"),
      ignitionDeploymentId: get("ARGUS_IGNITION_DEPLOYMENT_ID") ?? "chain-31337",
    };
  }

  const ipfsApi = get("ARGUS_IPFS_API");
  let ipfs: StackSettings["ipfs"];
  if (ipfsApi) {
    ipfs = {
      kind: "external",
      apiUrl: ipfsApi.replace(/\/+$/, ""),
      gatewayUrl: (get("ARGUS_IPFS_GATEWAY") ?? "http://127.0.0.1:8080").replace(/\/+$/, ""),
    };
  } else {
    // The embedded node's own rules (flags > environment > defaults), so the launcher checks the ports it will use.
    let options: ReturnType<typeof ipfsOptions>;
    try {
      options = ipfsOptions([], { ARGUS_IPFS_DATA_DIR: join(stateDir, "ipfs"), ...env });
    } catch (error) {
      throw new StackError((error as Error).message);
    }
    ipfs = { kind: "embedded", host: options.host, apiPort: options.apiPort, gatewayPort: options.gatewayPort, dataDir: options.dataDir };
  }

  const uiSetting = get("ARGUS_UI") ?? "preview";
  if (uiSetting !== "dev" && uiSetting !== "preview" && uiSetting !== "off")
    throw new StackError(`ARGUS_UI must be dev, preview or off, not "${uiSetting}"`);
  const executorSetting = get("ARGUS_EXECUTOR") ?? "local";
  if (!(EXECUTORS as readonly string[]).includes(executorSetting))
    throw new StackError(`ARGUS_EXECUTOR must be ${EXECUTORS.join(", ")}, not "${executorSetting}"`);
  let executor: ExecutorSettings = { kind: executorSetting as "local" | "golem" };
  if (executorSetting === "golem-devnet") {
    // The devnet's own rules (flags > environment > defaults), so the launcher checks the port it will use.
    let devnet: ReturnType<typeof devnetSettings>;
    try {
      devnet = devnetSettings([], env);
    } catch (error) {
      throw new StackError((error as Error).message);
    }
    if (basename(devnet.image) !== IMAGE_FILE_NAME)
      throw new StackError(
        `ARGUS_GOLEM_DEVNET_IMAGE must name ${IMAGE_FILE_NAME} (in any folder): the stack builds the image there under that name`,
      );
    executor = { kind: "golem-devnet", host: devnet.host, port: devnet.port, providers: devnet.providers, image: devnet.image };
  }
  const gatewaySetting = get("ARGUS_GATEWAY") ?? "on";
  if (gatewaySetting !== "on" && gatewaySetting !== "off") throw new StackError(`ARGUS_GATEWAY must be on or off, not "${gatewaySetting}"`);
  const relayerKey = get("ARGUS_GATEWAY_RELAYER_KEY");
  if (relayerKey !== undefined && !/^0x[0-9a-fA-F]{64}$/.test(relayerKey))
    throw new StackError("ARGUS_GATEWAY_RELAYER_KEY must be 0x followed by 64 hex digits");
  const oracleSetting = get("ARGUS_ORACLE") ?? "on";
  if (oracleSetting !== "on" && oracleSetting !== "off") throw new StackError(`ARGUS_ORACLE must be on or off, not "${oracleSetting}"`);
  return {
    stateDir,
    deploymentFile,
    chain,
    ipfs,
    oracle: {
      enabled: oracleSetting === "on",
      host: get("ARGUS_ORACLE_HOST") ?? "127.0.0.1",
      port: integer(get("ARGUS_ORACLE_PORT") ?? "9464", "ARGUS_ORACLE_PORT", 1, 65_535),
    },
    gateway: {
      // On an external chain nobody's account is known to pay the gas: only with a key.
      enabled: gatewaySetting === "on" && (chain.kind === "local" || relayerKey !== undefined),
      host: get("ARGUS_GATEWAY_HOST") ?? "127.0.0.1",
      port: integer(get("ARGUS_GATEWAY_PORT") ?? "8402", "ARGUS_GATEWAY_PORT", 1, 65_535),
      relayerKey: relayerKey as `0x${string}` | undefined,
    },
    executor,
    ui: {
      mode: uiSetting,
      host: get("ARGUS_UI_HOST") ?? "127.0.0.1",
      port: integer(get("ARGUS_UI_PORT") ?? (uiSetting === "preview" ? "4173" : "5173"), "ARGUS_UI_PORT", 1, 65_535),
    },
    restarts: integer(get("ARGUS_RESTARTS") ?? "5", "ARGUS_RESTARTS", 0, 100),
  };
}

function integer(text: string, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min || value > max)
    throw new StackError(`${name} must be a whole number from ${min} to ${max}, not "${text}"`);
  return value;
}

/** The TCP ports the stack will listen on, with who uses each and the variable that moves it. */
export function stackPorts(settings: StackSettings): { host: string; port: number; what: string; variable: string }[] {
  const ports = [];
  if (settings.chain.kind === "local")
    ports.push({ host: settings.chain.host, port: settings.chain.port, what: "the local chain's JSON-RPC", variable: "ARGUS_CHAIN_PORT" });
  if (settings.ipfs.kind === "embedded") {
    ports.push({ host: settings.ipfs.host, port: settings.ipfs.apiPort, what: "the IPFS RPC API", variable: "ARGUS_IPFS_API_PORT" });
    ports.push({
      host: settings.ipfs.host,
      port: settings.ipfs.gatewayPort,
      what: "the IPFS gateway",
      variable: "ARGUS_IPFS_GATEWAY_PORT",
    });
  }
  if (settings.gateway.enabled)
    ports.push({ host: settings.gateway.host, port: settings.gateway.port, what: "the HTTP gateway", variable: "ARGUS_GATEWAY_PORT" });
  if (settings.oracle.enabled)
    ports.push({
      host: settings.oracle.host,
      port: settings.oracle.port,
      what: "the oracle's status server",
      variable: "ARGUS_ORACLE_PORT",
    });
  if (settings.executor.kind === "golem-devnet")
    ports.push({
      host: settings.executor.host,
      port: settings.executor.port,
      what: "the Golem devnet (emulated yagna)",
      variable: "ARGUS_GOLEM_DEVNET_PORT",
    });
  if (settings.ui.mode !== "off")
    ports.push({ host: settings.ui.host, port: settings.ui.port, what: "the web UI", variable: "ARGUS_UI_PORT" });
  return ports;
}

/** Fails with one message listing every port that is taken (and how to move off it). */
export async function checkPorts(settings: StackSettings): Promise<void> {
  const busy: string[] = [];
  for (const wanted of stackPorts(settings)) {
    const problem = await tryListen(wanted.host, wanted.port);
    if (problem)
      busy.push(`  ${wanted.host}:${wanted.port} (${wanted.what}): ${problem} — free it, or set ${wanted.variable} to another port`);
  }
  if (busy.length > 0) {
    throw new StackError(
      `cannot start: ${busy.length === 1 ? "a port the stack needs is" : "ports the stack needs are"} not available\n${busy.join("\n")}\n(Is another \`npm start\` still running?)`,
    );
  }
}

function tryListen(host: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", (error: NodeJS.ErrnoException) => resolve(error.code === "EADDRINUSE" ? "already in use" : error.message));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}
