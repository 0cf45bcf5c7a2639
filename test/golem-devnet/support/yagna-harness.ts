/**
 * A devnet for one test and golem-js connected to it as to yagna (no override): the
 * real provider image in the registry, the real exe-units, a fresh emulated clock.
 * Set ARGUS_DEVNET_LOG=debug|info to see the devnet's log.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { GolemNetwork, nullLogger } from "@golem-sdk/golem-js";
import type { MarketOrderSpec, ResourceRental } from "@golem-sdk/golem-js";
import type { GolemDevnet, GolemDevnetOptions, ProviderSpec } from "@argus/golem-devnet/devnet";
import { startGolemDevnet } from "@argus/golem-devnet/devnet";
import { stderrLog } from "@argus/golem-devnet/log";
import { REPO_ROOT } from "../../support/shared.ts";
import { IMAGE_FILE, SHARED_WORK_ROOT } from "./provider-image-fixture.ts";

export const PRICES = { start: 0.01, envPerHour: 0.36, cpuPerHour: 0.72 };

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
