/**
 * End-to-end throughput of the whole stack in one process: the Hardhat network, the
 * embedded IPFS node and the oracle with its local executor. 8 accounts pay for 256
 * requests in a burst — MobileNetV2 and SqueezeNet on distinct variants of the shared
 * photos (no two alike, so the result cache answers none) — and the oracle answers
 * them. Then the same burst again against a baseline oracle that runs one request per
 * chunk and posts one settlement per transaction.
 *
 *   npm run bench:e2e          (ARGUS_BENCH_REQUESTS to change the count)
 *   npm run bench:e2e -- --executor golem-devnet
 *
 * With `--executor golem-devnet` the oracle runs its chunks on the Golem devnet (see
 * bench-devnet.ts: the provider image, the devnet as a child process, golem-js over
 * HTTP and WebSocket) instead of the baseline run, and the same burst then runs on the
 * local executor for comparison: the JSON's figures are the devnet's, `local` holds the
 * local executor's, `wallTimeRatio` divides the two wall times (target ≤ 2).
 *
 * Every figure is read back from the chain: each request must end fulfilled exactly
 * once, transactions are counted from the escrow's events, gas from their receipts.
 * Latency is from a request's transaction being mined to its result's being mined
 * (wall clock; automine, so a transaction is mined when the node accepts it).
 * ARGUS_BENCH_STAGES=1 also prints where the time went (arrival, wait for a chunk, chunk
 * to settlement) from the oracle's queue; ARGUS_BENCH_ONLY=batched|baseline runs one.
 * The last line is JSON: {"requests","seconds","fulfillTxs","requestGas",
 * "fulfillGasPerRequest","p50s","p95s","baseline":{…the same…}}; with golem-devnet
 * {"requests","executor":"golem-devnet",…the same…,"local":{…the same…},"wallTimeRatio"}.
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import pino from "pino";
import { type Hex, parseEventLogs } from "viem";
import { predictionEscrowAbi } from "@argus/escrow/abi";
import { DEFAULT_SETTLE_LINGER_MS, type OracleConfig } from "@argus/oracle/config";
import { startOracle } from "@argus/oracle/oracle";
import { settlements, startStack, type Stack } from "../../test/oracle/support/stack.ts";
import { planWorkload, requireSharedDataOrExit, submitRequests, type PlannedRequest } from "../../test/oracle/support/workload.ts";
import { startBenchDevnet } from "./bench-devnet.ts";

const REQUESTS = Number(process.env.ARGUS_BENCH_REQUESTS ?? 256);
const USERS = [3, 4, 5, 6, 7, 8, 9, 10];

interface RunFigures {
  seconds: number;
  fulfillTxs: number;
  requestGas: number;
  fulfillGasPerRequest: number;
  p50s: number;
  p95s: number;
}

const EXECUTORS = ["local", "golem-devnet"];
const executor = parseArgs({ options: { executor: { type: "string", default: process.env.ARGUS_BENCH_EXECUTOR ?? "local" } } }).values
  .executor as string;
if (!EXECUTORS.includes(executor)) {
  console.error(`bench:e2e: --executor is ${EXECUTORS.join(" or ")}, not "${executor}"`);
  process.exit(2);
}

requireSharedDataOrExit("bench:e2e");
const stack = await startStack("bench-e2e");
try {
  const planned = await planWorkload(stack, { count: REQUESTS, users: USERS });
  console.log(
    `${REQUESTS} requests from ${USERS.length} accounts; ${new Set(planned.map((request) => `${request.modelId}/${request.imageCid}`)).size} distinct (model, image) pairs`,
  );
  const only = process.env.ARGUS_BENCH_ONLY;
  if (executor === "golem-devnet") {
    await compareWithDevnet(stack, planned, only);
  } else {
    // The batched run goes first, so any warm-up cost falls on it, not on the baseline.
    const batched =
      only === "baseline"
        ? undefined
        : await run(stack, planned, "batched", { flushIntervalMs: 2_000, settleLingerMs: DEFAULT_SETTLE_LINGER_MS });
    const baseline =
      only === "batched"
        ? undefined
        : await run(stack, planned, "baseline", { flushIntervalMs: 2_000, maxChunkSize: 1, maxSettlementsPerTx: 1 });
    if (batched && baseline) {
      console.log(
        `fulfilment gas per request: ${(baseline.fulfillGasPerRequest / batched.fulfillGasPerRequest).toFixed(1)}× lower than the baseline's`,
      );
      console.log(JSON.stringify({ requests: REQUESTS, ...batched, baseline }));
    }
  }
} finally {
  await stack.close();
}

/** The burst on the devnet, then on the local executor (ARGUS_BENCH_ONLY=golem-devnet|local runs one). */
async function compareWithDevnet(stack: Stack, planned: readonly PlannedRequest[], only: string | undefined): Promise<void> {
  let devnetFigures: RunFigures | undefined;
  if (only !== "local") {
    const devnet = await startBenchDevnet(stack);
    console.log(
      `golem-devnet ${devnet.ready.url}: ${devnet.ready.providers.map((provider) => provider.name).join(", ")}; image ${devnet.imageHash}`,
    );
    try {
      devnetFigures = await run(stack, planned, "golem-devnet", {
        flushIntervalMs: 2_000,
        settleLingerMs: DEFAULT_SETTLE_LINGER_MS,
        ...devnet.oracleOverrides,
      });
    } finally {
      await devnet.close();
    }
  }
  const local =
    only === "golem-devnet"
      ? undefined
      : await run(stack, planned, "local", { flushIntervalMs: 2_000, settleLingerMs: DEFAULT_SETTLE_LINGER_MS });
  if (devnetFigures && local) {
    const wallTimeRatio = Math.round((devnetFigures.seconds / local.seconds) * 100) / 100;
    console.log(
      `golem-devnet: ${wallTimeRatio}× the local executor's wall time, ${devnetFigures.fulfillTxs} fulfilment transactions against ${local.fulfillTxs}`,
    );
    console.log(JSON.stringify({ requests: REQUESTS, executor: "golem-devnet", ...devnetFigures, local, wallTimeRatio }));
  }
}

async function run(
  stack: Stack,
  planned: readonly PlannedRequest[],
  label: string,
  overrides: Partial<Record<keyof OracleConfig, unknown>>,
): Promise<RunFigures> {
  const fromBlock = await stack.client.getBlockNumber({ cacheTime: 0 });
  const oracle = await startOracle(
    stack.oracleConfig({ dataDir: join(stack.workDir, `oracle-${label}`), startBlock: fromBlock, ...overrides }),
    {
      log: pino({ level: process.env.ARGUS_BENCH_LOG_LEVEL ?? "warn" }),
    },
  );
  try {
    const minedAt = new Map<bigint, number>();
    let watching = true;
    let next = fromBlock + 1n;
    const watcher = (async () => {
      while (watching) {
        const head = await stack.client.getBlockNumber({ cacheTime: 0 });
        if (head >= next) {
          const logs = await stack.client.getLogs({ address: stack.argus.escrow, fromBlock: next, toBlock: head });
          const now = Date.now();
          for (const event of parseEventLogs({ abi: predictionEscrowAbi, logs })) {
            if (event.eventName === "PredictionFulfilled" || event.eventName === "PredictionRejected")
              minedAt.set(event.args.requestId, now);
          }
          next = head + 1n;
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();

    const started = Date.now();
    const submitted = await submitRequests(stack, planned);
    const submittedIn = (Date.now() - started) / 1000;
    const ids = submitted.map((request) => request.terms.requestId);
    while (!ids.every((id) => minedAt.has(id))) {
      if (Date.now() - started > 1_200_000)
        throw new Error(`${label}: ${ids.filter((id) => !minedAt.has(id)).length} requests unsettled after 20 minutes`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const seconds = (Math.max(...minedAt.values()) - started) / 1000;
    watching = false;
    await watcher;

    // Verify from the chain: each request fulfilled, exactly once (settlements() throws on a second).
    const onChain = await settlements(stack);
    const notFulfilled = ids.filter((id) => onChain.get(id)?.kind !== "fulfilled");
    if (notFulfilled.length > 0) {
      const why = notFulfilled
        .slice(0, 3)
        .map((id) => `${id}: ${onChain.get(id)?.kind} (${oracle.store.get(id)?.error ?? "no error recorded"})`);
      throw new Error(`${label}: ${notFulfilled.length} requests not fulfilled, e.g.\n  ${why.join("\n  ")}`);
    }
    const logs = await stack.client.getLogs({ address: stack.argus.escrow, fromBlock: fromBlock + 1n, toBlock: "latest" });
    const ours = new Set(ids);
    const fulfilTxs = new Set<Hex>();
    for (const event of parseEventLogs({ abi: predictionEscrowAbi, logs, eventName: "PredictionFulfilled" })) {
      if (ours.has(event.args.requestId)) fulfilTxs.add(event.transactionHash);
    }
    let fulfilGas = 0n;
    for (const hash of fulfilTxs) fulfilGas += (await stack.client.getTransactionReceipt({ hash })).gasUsed;

    if (process.env.ARGUS_BENCH_STAGES) {
      const stages = {
        sentToReceived: [] as number[],
        receivedToStarted: [] as number[],
        startedToSettled: [] as number[],
        sentAt: [] as number[],
        startedAt: [] as number[],
      };
      for (const request of submitted) {
        const stored = oracle.store.get(request.terms.requestId)!;
        stages.sentToReceived.push((stored.receivedAt - request.sentAt) / 1000);
        stages.receivedToStarted.push(((stored.startedAt ?? 0) - stored.receivedAt) / 1000);
        stages.startedToSettled.push(((stored.settledAt ?? 0) - (stored.startedAt ?? 0)) / 1000);
        stages.sentAt.push((request.sentAt - started) / 1000);
        stages.startedAt.push(((stored.startedAt ?? 0) - started) / 1000);
      }
      for (const [name, values] of Object.entries(stages)) {
        values.sort((a, b) => a - b);
        console.log(
          `${label} ${name}: p10 ${percentile(values, 0.1).toFixed(2)} p50 ${percentile(values, 0.5).toFixed(2)} p95 ${percentile(values, 0.95).toFixed(2)} max ${values.at(-1)!.toFixed(2)}`,
        );
      }
    }
    const latencies = submitted.map((request) => (minedAt.get(request.terms.requestId)! - request.sentAt) / 1000).sort((a, b) => a - b);
    const figures: RunFigures = {
      seconds: round(seconds),
      fulfillTxs: fulfilTxs.size,
      requestGas: Math.round(Number(submitted.reduce((sum, request) => sum + request.gasUsed, 0n)) / submitted.length),
      fulfillGasPerRequest: Math.round(Number(fulfilGas) / ids.length),
      p50s: round(percentile(latencies, 0.5)),
      p95s: round(percentile(latencies, 0.95)),
    };
    console.log(
      `${label}: ${ids.length} fulfilled in ${figures.seconds} s (burst sent in ${round(submittedIn)} s) with ${figures.fulfillTxs} fulfilment transactions; ` +
        `gas per request ${figures.requestGas} + ${figures.fulfillGasPerRequest}; latency p50 ${figures.p50s} s, p95 ${figures.p95s} s`,
    );
    return figures;
  } finally {
    await oracle.stop();
  }
}

function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
