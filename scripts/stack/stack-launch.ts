/**
 * The one-command local stack (`npm start`): starts, in order and each with its own
 * ready signal,
 *   [chain]  a Hardhat (EDR) JSON-RPC node in this process (or connects to ARGUS_RPC_URL),
 *   [ipfs]   the embedded IPFS node as a child process (or uses ARGUS_IPFS_API),
 *            — in parallel with the chain —
 *   the escrow deployed through the Ignition module and the usable models registered
 *   (manifests pinned to IPFS), with tUSDC (a test stablecoin payable by signed EIP-3009
 *   authorization, minted to the test account) and one model sold in it, the deployment
 *   record written,
 *   [oracle] the oracle as a child process, with the local executor (or Golem),
 *   [ui]     the web UI (Vite) serving the deployment record,
 * and with the golem-devnet executor, in parallel with the chain and IPFS,
 *   [image]  the provider image built from this checkout, unless built from the same inputs already,
 *   [devnet] the Golem devnet (emulated yagna and providers) as a child process, serving the image,
 * whose URL, app key and registry the oracle's Golem executor is given; the models are
 * registered with the image's hash from the build's record,
 * then watches the escrow's events and prints them under [chain]. A child process that
 * stops on its own is restarted with back-off (stack-supervisor.ts), the chain and the
 * rest staying up; one that keeps failing stops the stack, with the reason. `stop()` works at any
 * point — half-started stacks included — and stops the components in reverse order.
 */
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { type Address, createPublicClient, http, type PublicClient, zeroAddress } from "viem";
import { decodeEvents, withTopResults } from "@argus/escrow/escrow-reads";
import type { Currency } from "@argus/cli/escrow-reads";
import { describeEvent } from "@argus/cli/present";
import { DEPLOYMENT_SCHEMA_VERSION, type Deployment } from "@argus/escrow/deployment-record";
import { writeDeploymentFile } from "@argus/escrow/deployment-file";
import { createIpfsClient, pinModelFile, pinResult } from "@argus/ipfs-node/client";
import { loadOracleAccount } from "@argus/oracle/oracle-key";
import { listManifests } from "@argus/provider-image/catalog";
import { providerImageHashWord } from "@argus/escrow/model-registration";
import { manifestBytes, type ModelManifest } from "@argus/protocol/manifest";
import { deployArgus, hardhatAccountAddress, hardhatAccountKey, type LocalChain, startChain, TEST_TOKEN_GRANT } from "@argus/devchain";
import { startAnvil } from "@argus/devchain/anvil";
import { consoleLog, type StackLog } from "./stack-log.ts";
import { prepareModels } from "./stack-models.ts";
import { Component, describeExit, type Exit } from "./stack-process.ts";
import { DEFAULT_RESTART_POLICY, Supervised } from "./stack-supervisor.ts";
import { type DevnetHost, type DevnetReady, describeDevnet, oracleGolemEnvironment, planImage, startGolemDevnet } from "./stack-golem.ts";
import { checkPorts, REPO_ROOT, StackError, type StackSettings, stackSettings } from "./stack-settings.ts";
import { ORACLE_NODE_FLAGS } from "@argus/oracle/node-flags";
import { GATEWAY_NODE_FLAGS } from "@argus/gateway/config";

const IPFS_MAIN = join(REPO_ROOT, "oracle-requestor/ipfs-node/src/main.ts");
/** The local IPFS node's upload limit: room for the model files pinned at start (images stay capped at 2 MiB by the UI and the oracle). */
const MODEL_FILE_UPLOAD_BYTES = 8 * 1024 * 1024;
const ORACLE_MAIN = join(REPO_ROOT, "oracle-requestor/src/main.ts");

const UI_MAIN = join(REPO_ROOT, "scripts/stack/stack-ui.ts");
const GATEWAY_MAIN = join(REPO_ROOT, "oracle-requestor/gateway/src/main.ts");
/** The local chain's account that relays the HTTP gateway's payments (it pays their gas). */
export const GATEWAY_RELAYER_INDEX = 9;
/** The funded account offered to the user (0 administers, 1 is the oracle, 2 the treasury). */
export const TEST_ACCOUNT_INDEX = 3;

export interface StackSummary {
  record: Deployment;
  deploymentFile: string;
  uiUrl: string | undefined;
  oracle: { address: Address; statusUrl: string } | undefined;
  gateway: { url: string; relayer: Address } | undefined;
  /** Each registered model; `currency` names a fee token (none: the native currency). */
  models: { id: number; name: string; currency?: string }[];
  /** On the local chain: tUSDC, which the test account holds `grant` of. */
  testToken: { address: Address; symbol: string; decimals: number; grant: bigint } | undefined;
  testAccount: { index: number; address: Address; privateKey: `0x${string}`; balance: bigint } | undefined;
  executor: string;
  /** With the golem-devnet executor: where the chunks run, for the summary. */
  golemDevnet: string[] | undefined;
}

/** Why a component's death matters, for the message that stops the stack. */
const CONSEQUENCES: Record<string, string> = {
  devnet: "the oracle's chunks have no Golem providers to run on",
};

/** start() was interrupted by stop(). */
export class Stopped extends Error {
  override name = "Stopped";
}

export class LocalStack {
  readonly log: StackLog;
  private readonly env: NodeJS.ProcessEnv;
  private settings: StackSettings | undefined;
  private chain: LocalChain | undefined;
  private readonly components: Supervised[] = [];
  /** Commands that run to their end (the image build): stopped with the rest, never restarted. */
  private readonly commands: Component[] = [];
  private watcher: NodeJS.Timeout | undefined;
  private stopping: Promise<void> | undefined;
  private wroteRecord = false;
  /** Resolves with a message when a component dies on its own. */
  readonly failed: Promise<string>;
  private fail: (message: string) => void = () => {};

  constructor(env: NodeJS.ProcessEnv, log: StackLog = consoleLog()) {
    this.env = env;
    this.log = log;
    this.failed = new Promise((resolve) => (this.fail = resolve));
  }

  async start(): Promise<StackSummary> {
    const settings = stackSettings(this.env);
    this.settings = settings;
    const executor = settings.executor.kind;
    await mkdir(settings.stateDir, { recursive: true });
    // The local executor runs the models here; the devnet's image carries them, so it is built from them.
    const prepared =
      (settings.oracle.enabled && executor === "local") || executor === "golem-devnet"
        ? await prepareModels(this.env, this.log, REPO_ROOT)
        : undefined;
    const models = prepared?.usable ?? (await listManifests());
    this.checkStopped();
    await checkPorts(settings);
    const imagePlan = settings.executor.kind === "golem-devnet" ? await planImage(settings.executor, this.env) : undefined;

    const [chain, ipfs, devnet] = await Promise.all([
      this.startChain(settings),
      this.startIpfs(settings),
      settings.executor.kind === "golem-devnet" && imagePlan && prepared
        ? startGolemDevnet(this.devnetHost(), settings.executor, prepared.dir.path, imagePlan)
        : undefined,
    ]);
    this.checkStopped();
    const oracleKey = await this.oracleKey(settings);
    const deployed = await this.deploy(settings, chain, models, oracleKey?.address, devnet?.image.hash);
    this.checkStopped();
    await this.pinManifests(ipfs.apiUrl, models, prepared?.dir.path);

    const statusUrl = `http://${settings.oracle.host}:${settings.oracle.port}`;
    const record = await writeDeploymentFile(settings.deploymentFile, {
      schemaVersion: DEPLOYMENT_SCHEMA_VERSION,
      chain: { id: chain.chainId, name: chain.name, rpcUrl: chain.rpcUrl, nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 } },
      contracts: { predictionEscrow: { address: deployed.escrow, deployBlock: deployed.deployBlock } },
      ipfs: { apiUrl: ipfs.apiUrl, gatewayUrl: ipfs.gatewayUrl },
      ...(settings.oracle.enabled ? { oracle: { statusUrl } } : {}),
    });
    this.wroteRecord = true;
    this.log.line("argus", `deployment record: ${settings.deploymentFile}`);

    const [oracle, uiUrl, gateway] = await Promise.all([
      settings.oracle.enabled ? this.startOracle(settings, chain, ipfs.apiUrl, oracleKey, devnet?.ready) : undefined,
      settings.ui.mode === "off" ? undefined : this.startUi(settings),
      settings.gateway.enabled ? this.startGateway(settings, chain, ipfs.apiUrl) : undefined,
    ]);
    this.checkStopped();
    // A component that stops on its own is restarted (stack-supervisor.ts); one that keeps failing stops the stack.
    for (const component of this.components) {
      component.gaveUp.then(({ reason, tail }) => {
        const consequence = CONSEQUENCES[component.name];
        this.fail(`${reason}${consequence ? `: ${consequence}` : ""}${tail}`);
      });
    }
    const native = { token: zeroAddress, ...record.chain.nativeCurrency };
    const token = deployed.testToken;
    const currencyOf = (model: { currency?: string }) =>
      token && model.currency === token.symbol ? { token: token.address, symbol: token.symbol, decimals: token.decimals } : native;
    this.watchEscrow(
      chain.client,
      deployed.escrow,
      new Map(deployed.models.map((model) => [model.id, { name: model.name, currency: currencyOf(model) }])),
    );

    let testAccount: StackSummary["testAccount"];
    if (settings.chain.kind === "local") {
      const address = hardhatAccountAddress(TEST_ACCOUNT_INDEX);
      testAccount = {
        index: TEST_ACCOUNT_INDEX,
        address,
        privateKey: hardhatAccountKey(TEST_ACCOUNT_INDEX),
        balance: await chain.client.getBalance({ address }),
      };
    }
    return {
      record,
      deploymentFile: settings.deploymentFile,
      uiUrl,
      oracle: oracle && oracleKey ? { address: oracleKey.address, statusUrl } : undefined,
      gateway,
      models: deployed.models,
      testToken: token && { ...token, grant: TEST_TOKEN_GRANT },
      testAccount,
      executor,
      golemDevnet: devnet && describeDevnet(devnet.ready, devnet.image),
    };
  }

  /** Stops everything that was started, newest first; safe to call at any time, and more than once. */
  stop(graceMs = 20_000): Promise<void> {
    this.stopping ??= (async () => {
      if (this.watcher) clearInterval(this.watcher);
      const stopOne = async (component: Supervised | Component) => {
        this.log.line("argus", `stopping ${component.name}…`);
        const exit = await component.stop(graceMs);
        this.log.line(component.name, `stopped (${describeExit(exit)})`);
      };
      // The oracle and the UI first (the oracle settles what it can, and ends its Golem
      // agreements, while the devnet, chain and IPFS are up), then the devnet, then IPFS, then the chain.
      const last = ["devnet", "ipfs"];
      await Promise.all([...this.commands, ...this.components.filter((component) => !last.includes(component.name))].map(stopOne));
      for (const name of last) await Promise.all(this.components.filter((component) => component.name === name).map(stopOne));
      if (this.chain) {
        await this.chain.close().catch(() => {});
        this.log.line("chain", "stopped");
      }
      // The record described a chain that no longer exists.
      if (this.wroteRecord && this.settings?.chain.kind === "local") await rm(this.settings.deploymentFile, { force: true });
    })();
    return this.stopping;
  }

  /** Whether stop() has been called (a start() failing after it is just being interrupted). */
  get stopRequested(): boolean {
    return this.stopping !== undefined;
  }

  /** Synchronous last resort from a process "exit" handler: kill every component's process group. */
  killAll(): void {
    for (const component of [...this.commands, ...this.components]) component.kill();
  }

  get pids(): number[] {
    return this.components.map((component) => component.pid).filter((pid): pid is number => pid !== undefined);
  }

  private checkStopped(): void {
    if (this.stopping) throw new Stopped("stopped while starting");
  }

  private async startChain(settings: StackSettings): Promise<{ rpcUrl: string; chainId: number; name: string; client: PublicClient }> {
    if (settings.chain.kind === "external") {
      const { rpcUrl } = settings.chain;
      const client = createPublicClient({ transport: http(rpcUrl, { retryCount: 2 }) }) as PublicClient;
      const chainId = await client.getChainId().catch((error: Error) => {
        throw new StackError(`cannot reach the chain at ARGUS_RPC_URL=${rpcUrl}: ${error.message.split("\n")[0]}`);
      });
      const code = await client.getCode({ address: settings.chain.escrow });
      if (!code || code === "0x")
        throw new StackError(`ARGUS_ESCROW_ADDRESS ${settings.chain.escrow} has no contract on chain ${chainId} (${rpcUrl})`);
      this.log.line("chain", `using chain ${chainId} at ${rpcUrl}`);
      return { rpcUrl, chainId, name: settings.chain.name ?? `chain ${chainId}`, client };
    }
    const { host, port, name, node } = settings.chain;
    this.chain = await (node === "anvil" ? startAnvil : startChain)({ host, port }).catch((error: Error) => {
      throw new StackError(`cannot start the local chain on ${host}:${port}: ${error.message} (set ARGUS_CHAIN_PORT to another port)`);
    });
    const client = createPublicClient({ transport: http(this.chain.rpcUrl) }) as PublicClient;
    const chainId = await client.getChainId();
    const described = node === "anvil" ? "Anvil" : "Hardhat node (EDR)";
    this.log.line("chain", `${described} listening on ${this.chain.rpcUrl}, chain id ${chainId}, one block per transaction`);
    return { rpcUrl: this.chain.rpcUrl, chainId, name, client };
  }

  private async startIpfs(settings: StackSettings): Promise<{ apiUrl: string; gatewayUrl: string }> {
    if (settings.ipfs.kind === "external") {
      const { apiUrl, gatewayUrl } = settings.ipfs;
      const version = await createIpfsClient(apiUrl)
        .version({ signal: AbortSignal.timeout(10_000) })
        .catch((error: Error) => {
          throw new StackError(`cannot reach the IPFS API at ARGUS_IPFS_API=${apiUrl}: ${error.message}`);
        });
      this.log.line("ipfs", `using ${apiUrl} (${version.version ?? "unknown version"}), gateway ${gatewayUrl}`);
      return { apiUrl, gatewayUrl };
    }
    const ui = settings.ui;
    const origins = [`http://${ui.host}:${ui.port}`, `http://localhost:${ui.port}`, `http://127.0.0.1:${ui.port}`];
    const env = {
      ...this.env,
      ARGUS_IPFS_DATA_DIR: settings.ipfs.dataDir,
      ARGUS_IPFS_CORS_ORIGINS: this.env.ARGUS_IPFS_CORS_ORIGINS || [...new Set(origins)].join(","),
      // The classifiers' weights are pinned through the API (pinManifests): the largest, 3.5 MiB, must fit one upload.
      ARGUS_IPFS_MAX_UPLOAD_BYTES: this.env.ARGUS_IPFS_MAX_UPLOAD_BYTES || String(MODEL_FILE_UPLOAD_BYTES),
    };
    const component = this.spawn("ipfs", IPFS_MAIN, env);
    const ready = await component.ready;
    return { apiUrl: String(ready.api), gatewayUrl: String(ready.gateway) };
  }

  /** The oracle's account: the configured key, else (local chain) Hardhat account 1. */
  private async oracleKey(settings: StackSettings): Promise<{ address: Address; privateKey?: `0x${string}` } | undefined> {
    if (!settings.oracle.enabled) return undefined;
    const configured = {
      privateKey: this.env.ARGUS_ORACLE_PRIVATE_KEY || undefined,
      keystoreFile: this.env.ARGUS_ORACLE_KEYSTORE || undefined,
      keystorePassword: this.env.ARGUS_ORACLE_KEYSTORE_PASSWORD,
    };
    if (configured.privateKey || configured.keystoreFile) {
      const account = await loadOracleAccount(configured).catch((error: Error) => {
        throw new StackError(error.message);
      });
      return { address: account.address };
    }
    if (settings.chain.kind === "external") {
      throw new StackError(
        "an external chain needs the oracle's own key: set ARGUS_ORACLE_PRIVATE_KEY, or ARGUS_ORACLE_KEYSTORE and ARGUS_ORACLE_KEYSTORE_PASSWORD (or ARGUS_ORACLE=off)",
      );
    }
    return { address: hardhatAccountAddress(1), privateKey: hardhatAccountKey(1) };
  }

  private async deploy(
    settings: StackSettings,
    chain: { rpcUrl: string; client: PublicClient },
    models: ModelManifest[],
    oracle: Address | undefined,
    providerImageHash: string | undefined,
  ): Promise<{
    escrow: Address;
    deployBlock: number;
    models: { id: number; name: string; currency?: string }[];
    testToken?: { address: Address; symbol: string; decimals: number };
  }> {
    if (settings.chain.kind === "external") {
      return { escrow: settings.chain.escrow, deployBlock: settings.chain.deployBlock, models: [] };
    }
    // Only the usable models are registered: a folder holding exactly their manifests.
    const manifestsDir = join(settings.stateDir, "registered-manifests");
    await rm(manifestsDir, { recursive: true, force: true });
    await mkdir(manifestsDir, { recursive: true });
    for (const manifest of models) await writeFile(join(manifestsDir, `${manifest.id}.json`), JSON.stringify(manifest, null, 2));
    this.log.line(
      "chain",
      `deploying the escrow with Ignition (deployment ${settings.chain.ignitionDeploymentId}) and registering ${models.length} models…`,
    );
    const deployed = await deployArgus({
      rpcUrl: chain.rpcUrl,
      deploymentId: settings.chain.ignitionDeploymentId,
      fresh: true,
      ...(oracle ? { oracle } : {}),
      manifestsDirs: [manifestsDir],
      // From the image build's record: chunks of these models order exactly the image the devnet serves.
      ...(providerImageHash ? { terms: { providerImageHash: providerImageHashWord(providerImageHash) } } : {}),
      // A stablecoin payable by signed authorization, for payers without ETH; the test account holds some.
      testToken: { holders: [hardhatAccountAddress(TEST_ACCOUNT_INDEX)] },
    });
    if (oracle && oracle !== hardhatAccountAddress(1)) {
      // A key of the user's own: give it gas money on this throwaway chain.
      await chain.client.request({ method: "hardhat_setBalance" as never, params: [oracle, "0x21e19e0c9bab2400000"] as never });
    }
    const token = deployed.testToken;
    const registered = deployed.models.map((model) => ({
      id: Number(model.modelId),
      name: model.name,
      ...(token && model === token.model ? { currency: token.symbol } : {}),
    }));
    this.log.line(
      "chain",
      `escrow ${deployed.escrow} (block ${deployed.deployBlock}); models: ${registered.map(describeModel).join(", ")}` +
        (token ? `; ${token.symbol} ${token.address}` : ""),
    );
    return {
      escrow: deployed.escrow,
      deployBlock: deployed.deployBlock,
      models: registered,
      ...(token ? { testToken: { address: token.address, symbol: token.symbol, decimals: token.decimals } } : {}),
    };
  }

  /** Each registered manifest's canonical JSON, as the raw block its on-chain manifestCid names. */
  /**
   * The manifests, and their label files when the models folder is at hand: the web UI
   * reads a model's labels from IPFS by the sha256 its manifest pins (else from its URL).
   */
  private async pinManifests(apiUrl: string, models: ModelManifest[], modelsDir: string | undefined): Promise<void> {
    const client = createIpfsClient(apiUrl);
    for (const manifest of models) await pinResult(client, manifestBytes(manifest));
    const labelFiles = modelsDir === undefined ? [] : [...new Set(models.map((manifest) => manifest.labels.file))];
    for (const file of labelFiles) await pinResult(client, await readFile(join(modelsDir!, file)));
    // The classifiers' weights as the raw block their sha256 names: the web UI's "Recompute in my browser" reads them there.
    const weightFiles =
      modelsDir === undefined
        ? []
        : [...new Set(models.filter((manifest) => manifest.task === "classification").map((manifest) => manifest.weights.file))];
    let weightsPinned = 0;
    for (const file of weightFiles) {
      try {
        await pinModelFile(client, await readFile(join(modelsDir!, file)));
        weightsPinned++;
      } catch (error) {
        // A Kubo node refuses blocks over its limit (1 MiB unless it allows big blocks): the
        // browser recompute then downloads the weights from the manifest's URL, hash-checked.
        this.log.line("ipfs", `did not pin ${file} as one block (${(error as Error).message}): the browser recompute will use its URL`);
      }
    }
    this.log.line(
      "ipfs",
      `pinned ${models.length} model manifests, ${labelFiles.length} label files and ${weightsPinned} of ${weightFiles.length} classifiers' weights`,
    );
  }

  private async startOracle(
    settings: StackSettings,
    chain: { rpcUrl: string },
    ipfsApi: string,
    key: { address: Address; privateKey?: `0x${string}` } | undefined,
    devnet: DevnetReady | undefined,
  ): Promise<Supervised> {
    const local = settings.chain.kind === "local";
    const dataDir = this.env.ARGUS_ORACLE_DATA_DIR || join(settings.stateDir, "oracle");
    // A fresh local chain has none of the old queue's requests: start the queue over too.
    if (local) await rm(dataDir, { recursive: true, force: true });
    const golem = devnet && oracleGolemEnvironment(devnet);
    const defaults: NodeJS.ProcessEnv = {
      ...(local
        ? {
            ARGUS_CONFIRMATIONS: "0",
            ARGUS_POLL_INTERVAL_MS: "500",
            ARGUS_FLUSH_INTERVAL_MS: "1000",
            ARGUS_ORACLE_PRIVATE_KEY: key?.privateKey,
          }
        : {}),
      ...golem?.defaults,
    };
    const env: NodeJS.ProcessEnv = {
      ...defaults,
      ...withoutEmpty(this.env),
      ...golem?.forced,
      ARGUS_DEPLOYMENT_FILE: settings.deploymentFile,
      ARGUS_RPC_URL: chain.rpcUrl,
      ARGUS_IPFS_API: ipfsApi,
      ARGUS_ORACLE_DATA_DIR: dataDir,
      ARGUS_ORACLE_HOST: settings.oracle.host,
      ARGUS_ORACLE_PORT: String(settings.oracle.port),
    };
    delete env.ARGUS_ESCROW_ADDRESS; // the record says which escrow
    // The child runs in the repository root: hand it the folders this process resolved.
    if (this.env.ARGUS_MODELS_DIR) env.ARGUS_MODELS_DIR = resolve(this.env.ARGUS_MODELS_DIR);
    if (this.env.ARGUS_REFERENCE_PHOTOS_DIR) env.ARGUS_REFERENCE_PHOTOS_DIR = resolve(this.env.ARGUS_REFERENCE_PHOTOS_DIR);
    env.NODE_OPTIONS = [env.NODE_OPTIONS, ...ORACLE_NODE_FLAGS].filter(Boolean).join(" ");
    const component = this.spawn("oracle", ORACLE_MAIN, env);
    await component.ready;
    return component;
  }

  /** The HTTP gateway, relaying with the configured key or (local chain) Hardhat account 9. */
  private async startGateway(
    settings: StackSettings,
    chain: { rpcUrl: string },
    ipfsApi: string,
  ): Promise<{ url: string; relayer: Address }> {
    const env: NodeJS.ProcessEnv = {
      ...withoutEmpty(this.env),
      ARGUS_DEPLOYMENT_FILE: settings.deploymentFile,
      ARGUS_RPC_URL: chain.rpcUrl,
      ARGUS_IPFS_API: ipfsApi,
      ARGUS_GATEWAY_HOST: settings.gateway.host,
      ARGUS_GATEWAY_PORT: String(settings.gateway.port),
      ARGUS_GATEWAY_RELAYER_KEY: settings.gateway.relayerKey ?? hardhatAccountKey(GATEWAY_RELAYER_INDEX),
    };
    delete env.ARGUS_ESCROW_ADDRESS; // the record says which escrow
    env.NODE_OPTIONS = [env.NODE_OPTIONS, ...GATEWAY_NODE_FLAGS].filter(Boolean).join(" ");
    const ready = await this.spawn("gateway", GATEWAY_MAIN, env).ready;
    return { url: String(ready.url), relayer: ready.relayer as Address };
  }

  private async startUi(settings: StackSettings): Promise<string> {
    const env = {
      ...this.env,
      ARGUS_UI: settings.ui.mode,
      ARGUS_UI_HOST: settings.ui.host,
      ARGUS_UI_PORT: String(settings.ui.port),
      ARGUS_UI_BUILD_DIR: join(settings.stateDir, "ui"),
      ARGUS_DEPLOYMENT_FILE: settings.deploymentFile,
    };
    const component = this.spawn("ui", UI_MAIN, env);
    return String((await component.ready).url);
  }

  /** A long-running component, restarted with back-off when it stops on its own. */
  private spawn(name: string, module: string, env: NodeJS.ProcessEnv, stopSignal: NodeJS.Signals = "SIGINT"): Supervised {
    this.checkStopped();
    const policy = { ...DEFAULT_RESTART_POLICY, maxRestarts: this.settings?.restarts ?? DEFAULT_RESTART_POLICY.maxRestarts };
    const component = new Supervised(
      name,
      () => new Component({ name, module, env, cwd: REPO_ROOT, log: this.log, stopSignal }),
      this.log,
      policy,
    );
    this.components.push(component);
    return component;
  }

  /** What starting the devnet needs of the stack: its log, and components it stops with the rest. */
  private devnetHost(): DevnetHost {
    return {
      env: this.env,
      log: this.log,
      spawn: (name, module, env) => this.spawn(name, module, env),
      runToEnd: (name, module, env, args) => this.runToEnd(name, module, env, args),
      checkStopped: () => this.checkStopped(),
    };
  }

  /** A command that runs to its end (stop() still stops it meanwhile); resolves with how it ended. */
  private async runToEnd(name: string, module: string, env: NodeJS.ProcessEnv, args: string[]): Promise<{ exit: Exit; tail: string }> {
    this.checkStopped();
    const command = new Component({ name, module, args, env, cwd: REPO_ROOT, log: this.log });
    this.commands.push(command);
    const exit = await command.exited;
    this.commands.splice(this.commands.indexOf(command), 1);
    return { exit, tail: command.tail() };
  }

  /** Prints the escrow's request events as they are mined, under [chain]. */
  private watchEscrow(client: PublicClient, escrow: Address, models: Map<number, { name: string; currency: Currency }>): void {
    let next: bigint | undefined;
    let busy = false;
    this.watcher = setInterval(() => {
      if (busy) return;
      busy = true;
      (async () => {
        const head = await client.getBlockNumber({ cacheTime: 0 });
        next ??= head + 1n;
        if (head < next) return;
        const logs = await client.getLogs({ address: escrow, fromBlock: next, toBlock: head });
        next = head + 1n;
        for (const event of await withTopResults({ client }, decodeEvents(logs))) this.log.line("chain", describeEvent(event, models));
      })()
        .catch(() => {})
        .finally(() => (busy = false));
    }, 1_000);
    this.watcher.unref();
  }
}

/** A model as the log and the summary name it: id, name, and its fee token if not native. */
export function describeModel(model: { id: number; name: string; currency?: string }): string {
  return `${model.id} ${model.name}${model.currency ? ` (${model.currency})` : ""}`;
}

function withoutEmpty(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ""));
}
