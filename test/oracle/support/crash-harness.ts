/**
 * The crash scenario shared by the resilience suite (#5, 200 requests) and the chaos
 * suite (#8, 300 requests): the oracle runs as a child process and is killed with
 * SIGKILL at random moments (seeded) while requests arrive in waves, then restarted;
 * after the last kill it runs to completion. The chain and IPFS stay in this process.
 * At the end: every request settled exactly once (fulfilled, or rejected when its
 * upload was unusable), none expired, the oracle's own records agree with the chain,
 * no settlement was refused for mismatched terms, and the escrow's books balance.
 */
import { expect } from "chai";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assertBalanceInvariant, assertSettledOnce, skippedSettlements } from "./escrow-checks.ts";
import { chaosSeed, seededRandom } from "./images.ts";
import { queueCounts, requestStatus, spawnOracle, type OracleProcess } from "./oracle-process.ts";
import { waitForSettlements, type Stack } from "./stack.ts";
import { planWorkload, submitRequests, type SubmittedRequest } from "./workload.ts";

export interface CrashRunOptions {
  requests: number;
  /** SIGKILLs while work is in flight (at least). */
  kills: number;
  /** Every n-th request is an unusable upload (rejected). */
  badEvery?: number;
  /** Time allowed after the last kill for everything to settle. */
  settleTimeoutMs?: number;
}

export interface CrashRunReport {
  seed: number;
  kills: number;
  killedAtMs: number[];
  /** Requests per unfinished state just before each kill. */
  inFlightAtKill: Record<string, number>[];
  seconds: number;
  fulfilled: number;
  rejected: number;
  replayedSkips: number;
}

const USERS = [3, 4, 5, 6, 7, 8, 9, 10];

export async function runCrashScenario(stack: Stack, options: CrashRunOptions): Promise<CrashRunReport> {
  const seed = chaosSeed(`crash run, ${options.requests} requests`);
  const random = seededRandom(seed);
  const planned = await planWorkload(stack, { count: options.requests, users: USERS, badEvery: options.badEvery ?? 10 });
  const config = stack.oracleConfig({ flushIntervalMs: 1_000 });
  // The oracle's own temp folder: what a killed oracle leaves in it is visible, and must be gone at the end.
  const scratch = await mkdtemp(join(tmpdir(), "argus-crash-tmp-"));
  const spawnOptions = { env: { TMPDIR: scratch } };
  const started = Date.now();

  // Requests arrive in one wave per life of the oracle, so every kill lands on work in flight.
  const waves = Array.from({ length: options.kills }, (_, wave) =>
    planned.slice(Math.floor((wave * planned.length) / options.kills), Math.floor(((wave + 1) * planned.length) / options.kills)),
  );
  const submitted: SubmittedRequest[] = [];
  const killedAtMs: number[] = [];
  const inFlightAtKill: Record<string, number>[] = [];
  let oracle: OracleProcess | undefined;
  try {
    for (const wave of waves) {
      oracle = await spawnOracle(config, spawnOptions);
      const arrivals = submitRequests(stack, wave).then((done) => void submitted.push(...done));
      // A random moment of this life: from just after start-up to well into the wave's work.
      const lifeMs = 300 + Math.floor(random() * 3_000);
      await new Promise((resolve) => setTimeout(resolve, lifeMs));
      // What was in flight (as of a moment before the kill), for the report.
      const counts = await queueCounts(oracle.statusUrl).catch(() => ({}) as Record<string, number>);
      await oracle.kill();
      killedAtMs.push(lifeMs);
      inFlightAtKill.push(
        Object.fromEntries(
          Object.entries(counts).filter(([state, count]) => count > 0 && !["fulfilled", "rejected", "expired"].includes(state)),
        ),
      );
      await arrivals;
      await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 300)));
    }
    oracle = await spawnOracle(config, spawnOptions);
    const ids = submitted.map((request) => request.terms.requestId);
    await waitForSettlements(stack, ids, options.settleTimeoutMs ?? 180_000).catch((error: Error) => {
      throw new Error(`${error.message}\noracle log tail:\n${oracle?.tail()}`);
    });

    // The oracle's own records agree with the chain.
    const onChain = await assertSettledOnce(stack, ids);
    let fulfilled = 0;
    let rejected = 0;
    for (const request of submitted) {
      const settlement = onChain.get(request.terms.requestId)!;
      expect(settlement.kind, `request ${request.terms.requestId} (${request.imageCid})`).to.equal(request.expect.kind);
      if (settlement.kind === "rejected" && request.expect.kind === "rejected") expect(settlement.reason).to.equal(request.expect.reason);
      if (settlement.kind === "fulfilled") fulfilled++;
      else rejected++;
      const status = await eventually(
        () => requestStatus(oracle!.statusUrl, request.terms.requestId),
        (found) => found?.state === settlement.kind,
      );
      expect(status?.state, `the oracle's record of ${request.terms.requestId}`).to.equal(settlement.kind);
    }
    expect(await oracle.stop(), "graceful stop after the run").to.equal(0);
    oracle = undefined;
    // Chunk folders of the killed oracles were swept by the next start; the last one removed its own.
    expect(
      (await readdir(scratch)).filter((name) => name.startsWith("argus-")),
      "scratch folders left behind",
    ).to.deep.equal([]);

    const skips = await skippedSettlements(stack);
    expect(skips.get(1) ?? 0, "settlements refused for mismatched terms").to.equal(0);
    expect(skips.get(2) ?? 0, "settlements refused as past the deadline").to.equal(0);
    const books = await assertBalanceInvariant(stack);
    expect(books.pending, "requests still pending").to.equal(0);
    return {
      seed,
      kills: killedAtMs.length,
      killedAtMs,
      inFlightAtKill,
      seconds: (Date.now() - started) / 1000,
      fulfilled,
      rejected,
      replayedSkips: skips.get(0) ?? 0,
    };
  } finally {
    await oracle?.kill();
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Polls `read` until `done` holds (or 10 s pass) and returns the last value read. */
export async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > until) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
