/**
 * A devnet for one test and golem-js connected to it as to yagna (no override): the
 * real provider image in the registry, the real exe-units, a fresh emulated clock.
 * Set ARGUS_DEVNET_LOG=debug|info to see the devnet's log.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { GolemNetwork, nullLogger } from "@golem-sdk/golem-js";
import type { MarketOrderSpec, ResourceRental } from "@golem-sdk/golem-js";
import type { GolemDevnet, GolemDevnetOptions, ProviderSpec } from "@argus/golem-devnet/devnet";
import { startGolemDevnet } from "@argus/golem-devnet/devnet";
import { stderrLog } from "@argus/golem-devnet/log";
import { SANDBOX_TOOLS } from "@argus/golem-devnet/create-exe-unit";
import { BUILD_TOOLS, buildImage, missingTools } from "@argus/provider-image/build-image";
import { REPO_ROOT, SHARED_DIR, SHARED_MODELS_DIR, SHARED_REFERENCE_PHOTOS } from "../../support/shared.ts";
import { IMAGE_FILE, SHARED_WORK_ROOT } from "./provider-image-fixture.ts";

/** Within the Golem executor's default price limits (0.05 to start, 0.05 per hour, 0.1 per thread-hour). */
export const PRICES = { start: 0.01, envPerHour: 0.036, cpuPerHour: 0.072 };

export function providerSpecs(count: number, overrides: Partial<ProviderSpec> = {}): ProviderSpec[] {
  return Array.from({ length: count }, (_, index) => ({
    name: `test-provider-${index + 1}`,
    threads: 2,
    memoryGib: 4,
    storageGib: 10,
    prices: PRICES,
    speed: 1,
    ...overrides,
  }));
}

let building: Promise<unknown> | undefined;

/**
 * The suite needs the real image and the sandbox: builds provider-image/dist once when it
 * is missing (as `npm run build:provider-image` does), or skips the suite naming what is
 * missing — the Debian packages, root for the build, or the shared models it packs.
 */
export async function ensureProviderImage(context: Mocha.Context): Promise<void> {
  const skip = (why: string) => {
    console.warn(`SKIPPED: ${context.test?.parent?.fullTitle() ?? "suite"} ${why}`);
    context.skip();
  };
  const sandbox = await missingTools(SANDBOX_TOOLS);
  if (sandbox.length > 0)
    return skip(`needs ${sandbox.join(", ")} to run the image: apt-get install -y ${Object.values(SANDBOX_TOOLS).join(" ")}`);
  if (existsSync(IMAGE_FILE) && existsSync(join(REPO_ROOT, "provider-image/dist/image.json"))) return;
  const tools = await missingTools(BUILD_TOOLS);
  if (tools.length > 0)
    return skip(`needs the provider image, and building it needs ${tools.join(", ")}: apt-get install -y mmdebstrap squashfs-tools`);
  if (process.getuid?.() !== 0)
    return skip("needs the provider image, and building it needs root: run npm run build:provider-image as root");
  if (!existsSync(SHARED_MODELS_DIR))
    return skip(`needs the provider image, and building it needs the shared models at ${SHARED_DIR} (ARGUS_SHARED_DIR)`);
  context.timeout(15 * 60_000);
  console.log("      building the provider image (npm run build:provider-image) for the devnet suites…");
  building ??= buildImage({
    repoRoot: REPO_ROOT,
    modelsDir: SHARED_MODELS_DIR,
    referencePhotos: SHARED_REFERENCE_PHOTOS,
    outputDir: join(REPO_ROOT, "provider-image/dist"),
    log: () => {},
  });
  await building;
}

export async function imageHash(): Promise<string> {
  const summary = JSON.parse(await readFile(join(REPO_ROOT, "provider-image/dist/image.json"), "utf8")) as { hash: string };
  return summary.hash;
}

export interface Harness {
  devnet: GolemDevnet;
  glm: GolemNetwork;
  hash: string;
  close(): Promise<void>;
}

export interface DevnetHandle {
  devnet: GolemDevnet;
  hash: string;
  /** Closes the devnet and restores GOLEM_REGISTRY_URL. */
  close(): Promise<void>;
}

/** Starts a devnet with the built image registered, GOLEM_REGISTRY_URL pointed at its registry until `close`. */
export async function startDevnet(options: Partial<GolemDevnetOptions> = {}): Promise<DevnetHandle> {
  const hash = await imageHash();
  const level = process.env.ARGUS_DEVNET_LOG;
  const devnet = await startGolemDevnet({
    port: 0,
    providers: providerSpecs(2),
    workRoot: SHARED_WORK_ROOT,
    images: [{ file: IMAGE_FILE, sha3: hash }],
    ...(level === "debug" || level === "info" ? { log: stderrLog(level) } : {}),
    ...options,
  });
  const previousRegistry = process.env.GOLEM_REGISTRY_URL;
  process.env.GOLEM_REGISTRY_URL = devnet.registryUrl;
  return {
    devnet,
    hash,
    async close() {
      await devnet.close();
      if (previousRegistry === undefined) delete process.env.GOLEM_REGISTRY_URL;
      else process.env.GOLEM_REGISTRY_URL = previousRegistry;
    },
  };
}

/** Starts a devnet and connects golem-js to it. */
export async function startHarness(options: Partial<GolemDevnetOptions> = {}): Promise<Harness> {
  const handle = await startDevnet(options);
  const { devnet, hash } = handle;
  const glm = new GolemNetwork({ logger: nullLogger(), api: { key: devnet.appKey, url: devnet.url }, payment: { network: "hoodi" } });
  await glm.connect();
  return {
    devnet,
    glm,
    hash,
    async close() {
      await glm.disconnect().catch(() => undefined);
      await handle.close();
    },
  };
}

/** A `vm` order for the registry's image, rented `rentHours`, with price limits above the providers'. */
export function order(hash: string, rentHours: number, extra: Partial<MarketOrderSpec> = {}): MarketOrderSpec {
  return {
    demand: { workload: { imageHash: hash, minCpuThreads: 1, minMemGib: 1 } },
    market: { rentHours, pricing: { model: "linear", maxStartPrice: 1, maxCpuPerHourPrice: 2, maxEnvPerHourPrice: 1 } },
    ...extra,
  };
}

/** Polls `check` every 50 ms (real time) until it holds or `timeoutMs` passes. */
export async function eventually<T>(check: () => T | undefined | false, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export type { ResourceRental };
