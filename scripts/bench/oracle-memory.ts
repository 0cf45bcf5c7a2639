/**
 * The oracle's memory with a deep queue: 10,000 paid requests arrive while chunk
 * execution is paused (ARGUS_EXECUTION_PAUSED), so they all sit in the queue — up to
 * ARGUS_MAX_READY_REQUESTS of them fetched into the on-disk spool, the rest waiting to
 * be fetched. The oracle runs as a child process (`npm run oracle`'s main.ts) against
 * the in-process Hardhat network and IPFS node; its peak resident set (VmHWM from
 * /proc/<pid>/status) is what is reported.
 *
 *   npm run bench:oracle-memory     (ARGUS_BENCH_REQUESTS to change the count)
 *
 * Requests are sent by 16 accounts with automine off and a block mined every 100 ms
 * (≈ 200 requests per block). The last line is JSON:
 * {"requests","peakRssMb","rssMb","ready","received","seconds","heapUsedMb","youngGenerationMb"};
 * target: peakRssMb ≤ 300.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { photoVariants } from "../../test/oracle/support/images.ts";
import { queueCounts, spawnOracle } from "../../test/oracle/support/oracle-process.ts";
import { pinImage, startStack } from "../../test/oracle/support/stack.ts";
import {
  hardhatRpc,
  MOBILENET,
  type PlannedRequest,
  requireSharedDataOrExit,
  sendRequestTransactions,
  SQUEEZENET,
} from "../../test/oracle/support/workload.ts";

const REQUESTS = Number(process.env.ARGUS_BENCH_REQUESTS ?? 10_000);
const USERS = Array.from({ length: 16 }, (_, index) => 3 + index);

requireSharedDataOrExit("bench:oracle-memory");
const stack = await startStack("bench-memory");
const rpc = hardhatRpc(stack.client);
let mining: Promise<void> | undefined;
let sending = true;
const oracle = await spawnOracle(stack.oracleConfig({ executionPaused: true, dataDir: join(stack.workDir, "oracle") }), {
  ...(process.env.ARGUS_BENCH_NODE_FLAGS !== undefined ? { nodeFlags: process.env.ARGUS_BENCH_NODE_FLAGS.split(" ").filter(Boolean) } : {}),
});
try {
  const cids = await Promise.all((await photoVariants(32)).map((bytes) => pinImage(stack, bytes)));
  const models = [stack.modelId(MOBILENET), stack.modelId(SQUEEZENET)];
  const planned: PlannedRequest[] = Array.from({ length: REQUESTS }, (_, index) => ({
    user: USERS[index % USERS.length]!,
    modelId: models[index % models.length]!,
    imageCid: cids[index % cids.length]!,
    expect: { kind: "fulfilled" },
  }));

  const started = Date.now();
  await rpc.setAutomine(false);
  mining = (async () => {
    while (sending) {
      await rpc.mine(1);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  await sendRequestTransactions(stack, planned);
  console.log(`${REQUESTS} requests sent in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  // Until every request is in the oracle's queue and fetching has stopped at the back-pressure limit.
  let counts = await queueCounts(oracle.statusUrl);
  let stableSince = Date.now();
  let last = "";
  while (Date.now() - stableSince < 3_000) {
    if (Date.now() - started > 600_000)
      throw new Error(`only ${total(counts)} of ${REQUESTS} requests queued after 10 minutes: ${JSON.stringify(counts)}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
    counts = await queueCounts(oracle.statusUrl);
    const now = JSON.stringify(counts);
    if (now !== last || total(counts) < REQUESTS) [last, stableSince] = [now, Date.now()];
  }
  const seconds = (Date.now() - started) / 1000;
  const metrics = await (await fetch(`${oracle.statusUrl}/metrics`)).text();
  const metric = (pattern: RegExp) => Math.round(Number(pattern.exec(metrics)?.[1] ?? NaN) / 2 ** 20);
  const status = await readFile(`/proc/${oracle.pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  const figures = {
    requests: total(counts),
    peakRssMb: Math.round(kb("VmHWM") / 1024),
    rssMb: Math.round(kb("VmRSS") / 1024),
    ready: counts.ready ?? 0,
    received: counts.received ?? 0,
    seconds: Math.round(seconds * 10) / 10,
    heapUsedMb: metric(/^argus_oracle_nodejs_heap_size_used_bytes (\d+)$/m),
    youngGenerationMb: metric(/^argus_oracle_nodejs_heap_space_size_total_bytes\{space="new"\} (\d+)$/m),
  };
  if (figures.requests !== REQUESTS) throw new Error(`the queue holds ${figures.requests} requests, not ${REQUESTS}`);
  if ((counts.running ?? 0) + (counts.computed ?? 0) + (counts.fulfilled ?? 0) > 0)
    throw new Error(`execution was not paused: ${JSON.stringify(counts)}`);
  console.log(
    `oracle process with ${figures.requests} requests queued (${figures.ready} fetched and waiting, ${figures.received} not yet fetched): peak RSS ${figures.peakRssMb} MB (now ${figures.rssMb} MB)`,
  );
  console.log(JSON.stringify(figures));
} finally {
  sending = false;
  await mining;
  await oracle.kill();
  await rpc.setAutomine(true);
  await stack.close();
}

function total(counts: Record<string, number>): number {
  return Object.values(counts).reduce((sum, count) => sum + count, 0);
}
