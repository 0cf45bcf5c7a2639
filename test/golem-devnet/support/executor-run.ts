/**
 * The oracle's real Golem executor on a devnet (no override), with the settings the
 * devnet suites share, and one-photo chunks for it.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Chunk } from "@argus/oracle/executors/executor";
import { createGolemExecutor } from "@argus/oracle/executors/golem";
import type { AttemptReport, ExecutorLogger, GolemExecutor, GolemExecutorDeps } from "@argus/oracle/executors/golem";
import type { GolemExecutorConfigInput } from "@argus/oracle/executors/golem/config";
import { rawCidOfBytes } from "@argus/provider-image/file-cid";
import { REPO_ROOT, sharedImage } from "../../support/shared.ts";
import { requireSharedData } from "../../support/shared.ts";
import type { GolemDevnetOptions } from "@argus/golem-devnet/devnet";
import { type DevnetHandle, ensureProviderImage, startDevnet } from "./yagna-harness.ts";

export const MODEL_ID = "mobilenetv2-12-int8";

export interface ExecutorRun {
  executor: GolemExecutor;
  attempts: AttemptReport[];
  /** Every log line the executor wrote. */
  logs: { level: string; message: string; details: Record<string, unknown> }[];
  /** A chunk of one photo. */
  chunk(): Promise<Chunk>;
}

let chunkCount = 0;

export async function executorOn(
  handle: DevnetHandle,
  config: GolemExecutorConfigInput = {},
  deps: Pick<GolemExecutorDeps, "now" | "random" | "journal" | "reputationStore" | "recompute"> = {},
): Promise<ExecutorRun> {
  const { devnet } = handle;
  const manifest = JSON.parse(await readFile(join(REPO_ROOT, "provider-image/manifests", `${MODEL_ID}.json`), "utf8")) as {
    weights: { sha256: string };
  };
  const attempts: AttemptReport[] = [];
  const logs: ExecutorRun["logs"] = [];
  const record =
    (level: string) =>
    (details: object, message?: string): void => {
      logs.push({ level, message: message ?? "", details: details as Record<string, unknown> });
    };
  const logger: ExecutorLogger = { debug: () => {}, info: record("info"), warn: record("warn"), error: record("error") };
  const executor = createGolemExecutor(
    {
      apiKey: devnet.appKey,
      apiUrl: devnet.url,
      paymentNetwork: "hoodi",
      minCpuThreads: 2,
      minMemGib: 2,
      minStorageGib: 4,
      poolSize: 1,
      // Cross-checks have their own suite (executor-audit.test.ts).
      auditRate: 0,
      auditFirstChunks: 0,
      acquireTimeoutMs: 60_000,
      attemptTimeoutMs: 180_000,
      finalizeTimeoutMs: 30_000,
      ...config,
    },
    { ...deps, logger, hooks: { onAttempt: (report) => attempts.push(report) } },
  );
  const name = "ortx_cat_224x224.jpg";
  const bytes = new Uint8Array(await readFile(sharedImage(name)));
  const imageCid = await rawCidOfBytes(bytes);
  return {
    executor,
    attempts,
    logs,
    async chunk() {
      chunkCount++;
      return {
        id: `devnet-run-${chunkCount}`,
        batch: { batchVersion: 1, modelId: MODEL_ID, requests: [{ requestId: String(chunkCount), imageCid, imageFile: name }] },
        images: new Map([[name, bytes]]),
        weightsSha256: manifest.weights.sha256,
        providerImageHash: `0x${handle.hash}00000000`,
      };
    },
  };
}

/** A devnet suite: what a test starts through it is closed after the test. */
export interface DevnetSuite {
  /** Starts a devnet (startDevnet). */
  start(options?: Partial<GolemDevnetOptions>): Promise<DevnetHandle>;
  /** The executor on it (executorOn). */
  executorOn(
    handle: DevnetHandle,
    config?: GolemExecutorConfigInput,
    deps?: Pick<GolemExecutorDeps, "now" | "random" | "journal" | "reputationStore" | "recompute">,
  ): Promise<ExecutorRun>;
}

/**
 * Registers the hooks the executor suites share: the shared data and the built image
 * before (or the suite skips, saying why), and after each test its executor, then its
 * devnet, closed. Call inside `describe`.
 */
export function devnetSuite(): DevnetSuite {
  let handle: DevnetHandle | undefined;
  let run: ExecutorRun | undefined;
  before(async function () {
    requireSharedData(this);
    await ensureProviderImage(this);
  });
  afterEach(async function () {
    await run?.executor.close();
    run = undefined;
    await handle?.close();
    handle = undefined;
  });
  return {
    async start(options = {}) {
      handle = await startDevnet(options);
      return handle;
    },
    async executorOn(on, config = {}, deps = {}) {
      run = await executorOn(on, config, deps);
      return run;
    },
  };
}
