/**
 * `npm run bench:golem-soak [-- --chunks N --hours H --pool-size P]`
 *
 * The Golem executor as a long-running oracle uses it: N one-photo chunks (default
 * 2,000) spread over H hours of the devnet's emulated clock (default 24), so that
 * demands are rebuilt, agreements end and are replaced, and the allocation is renewed
 * along the way. The devnet runs in this process (with the providers' sandboxes) and the
 * executor in a child (with the oracle's Node flags), so the figures are the executor's own:
 *
 * - RSS at the start, its peak (sampled every 25 chunks) and at the end, in MiB;
 * - the share of a core the process uses while idle between chunks (10 s windows after
 *   the first chunk and after the last);
 * - chunks completed and failed;
 * - GLM: what the executor booked from accepted invoices against what the devnet
 *   records as spent from its allocations (equal when every invoice was accepted).
 *
 * The last line is one JSON object. SOAK_DEBUG=1 prints the executor's log lines as they come.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { ORACLE_NODE_FLAGS } from "@argus/oracle/node-flags";
import { executorOn } from "../../test/golem-devnet/support/executor-run.ts";
import { shiftWallClock } from "../../test/golem-devnet/support/wall-clock.ts";
import type { DevnetHandle } from "../../test/golem-devnet/support/yagna-harness.ts";

const { values: flags } = parseArgs({
  options: {
    chunks: { type: "string", default: "2000" },
    hours: { type: "string", default: "24" },
    "pool-size": { type: "string", default: "1" },
    /** In the child: the devnet's URL, app key and image hash. */
    child: { type: "string" },
  },
});
const chunks = Number(flags.chunks);
const hours = Number(flags.hours);
const poolSize = Number(flags["pool-size"]);
const stepSeconds = (hours * 3600) / chunks;
const mib = (bytes: number) => Math.round(bytes / 2 ** 20);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

if (flags.child === undefined) {
  // The devnet (and its build) in this process; the executor alone in a child, so that its
  // RSS is the executor's and not the bench's.
  const { startDevnetProcess } = await import("./bench-devnet.ts");
  const devnet = await startDevnetProcess();
  try {
    const { url, appKey } = devnet.ready;
    const child = spawn(
      process.execPath,
      // With the oracle's own Node flags (main.ts adds them to every oracle process): its memory is what is measured.
      [
        ...ORACLE_NODE_FLAGS,
        fileURLToPath(import.meta.url),
        ...process.argv.slice(2),
        "--child",
        JSON.stringify({ url, appKey, hash: devnet.imageHash }),
      ],
      { stdio: "inherit" },
    );
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    process.exitCode = code ?? 1;
  } finally {
    await devnet.close();
  }
  process.exit();
}

const { url, appKey, hash } = JSON.parse(flags.child) as { url: string; appKey: string; hash: string };
const control = async (path: string, body?: object) => {
  const response = await fetch(`${url}/devnet${path}`, {
    method: body ? "POST" : "GET",
    headers: { authorization: `Bearer ${appKey}`, "content-type": "application/json" },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  if (!response.ok) throw new Error(`devnet ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as Record<string, unknown>;
};

// golem-js writes demand expirations and deadlines from Date.now(): this process's wall
// clock moves with the devnet's (whose own offset the control API moves by as much).
const clock = shiftWallClock((ms) => control("/clock/advance", { seconds: ms / 1000 }));
const warnings: string[] = [];
const handle = { devnet: { url, appKey }, hash } as unknown as DevnetHandle;
const run = await executorOn(handle, { poolSize, acquireTimeoutMs: 120_000 }, { now: clock.now });
if (process.env.SOAK_DEBUG) {
  const push = run.logs.push.bind(run.logs);
  run.logs.push = (...lines) => {
    for (const line of lines) console.log(`[${line.level}] ${line.message} ${JSON.stringify(line.details).slice(0, 300)}`);
    return push(...lines);
  };
}

async function idleCoreShare(): Promise<number> {
  const before = process.cpuUsage();
  const started = performance.now();
  await sleep(10_000);
  const used = process.cpuUsage(before);
  return Math.round(((used.user + used.system) / 1000 / (performance.now() - started)) * 1000) / 1000;
}

const rssStartMiB = mib(process.memoryUsage().rss);
let rssPeakMiB = rssStartMiB;
let completed = 0;
let failed = 0;
let idleAfterFirst = 0;
let renewals = 0;
// The executor's log lines are kept by the test helper: counted and dropped as they come, so they do not weigh on the RSS.
const drainLogs = () => {
  renewals += run.logs.filter((line) => line.message === "renewed the Golem allocation").length;
  run.logs.length = 0;
};
const started = performance.now();
try {
  for (let index = 1; index <= chunks; index++) {
    try {
      const outcome = await run.executor.run(await run.chunk());
      if (outcome.results.length === 1) completed++;
      else failed++;
    } catch (error) {
      failed++;
      if (warnings.length < 5) warnings.push((error as Error).message);
    }
    if (index === 1) {
      console.log(`first chunk done in ${Math.round(performance.now() - started)} ms`);
      idleAfterFirst = await idleCoreShare();
    }
    await clock.advance(stepSeconds * 1000);
    if (index % 25 === 0) {
      drainLogs();
      rssPeakMiB = Math.max(rssPeakMiB, mib(process.memoryUsage().rss));
      if (index % 100 === 0)
        console.log(
          `${index}/${chunks} chunks, ${completed} completed, RSS ${mib(process.memoryUsage().rss)} MiB, emulated +${Math.round((index * stepSeconds) / 360) / 10} h`,
        );
    }
  }
  const idleAfterLast = await idleCoreShare();
  const rssEndMiB = mib(process.memoryUsage().rss);
  rssPeakMiB = Math.max(rssPeakMiB, rssEndMiB);
  await run.executor.close();
  const status = (await control("/status")) as { glmSpent: string; invoices: { received: number; accepted: number } };
  const booked = run.executor.costReport().totalGlm;
  drainLogs();
  console.log(
    JSON.stringify({
      chunks,
      emulatedHours: hours,
      completed,
      failed,
      wallSeconds: Math.round((performance.now() - started) / 1000),
      rssStartMiB,
      rssPeakMiB,
      rssEndMiB,
      idleCoreShare: { afterFirstChunk: idleAfterFirst, afterLastChunk: idleAfterLast },
      allocationRenewals: renewals,
      invoices: status.invoices,
      glmBookedByExecutor: Math.round(booked * 1e9) / 1e9,
      glmSpentOnDevnet: Number(status.glmSpent),
      ...(warnings.length > 0 ? { firstErrors: warnings } : {}),
    }),
  );
} finally {
  await run.executor.close();
}
