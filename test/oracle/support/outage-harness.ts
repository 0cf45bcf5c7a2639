/**
 * The outage scenario shared by issues #5 and #8: the oracle (in this process) reaches
 * the chain and IPFS only through TCP proxies; while it works through a stream of
 * requests, a disruption runs — an endpoint refused for 30 s, an executor failing every
 * other chunk for a minute — and requests keep arriving meanwhile (users reach the chain
 * and IPFS directly). Afterwards everything must complete with nothing lost: every
 * request fulfilled (an outage is not the requester's fault, so nothing is refunded),
 * the oracle's records agree, it reports itself healthy, and the escrow's books balance.
 */
import { expect } from "chai";
import { join } from "node:path";
import pino from "pino";
import type { OracleConfig } from "@argus/oracle/config";
import type { Executor } from "@argus/oracle/executors/executor";
import { ExecutorError } from "@argus/oracle/executors/executor";
import { startOracle, type RunningOracle } from "@argus/oracle/oracle";
import { eventually } from "./crash-harness.ts";
import { assertBalanceInvariant, assertSettledOnce } from "./escrow-checks.ts";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy.ts";
import { waitForSettlements, type Stack } from "./stack.ts";
import { planWorkload, submitRequests, type PlannedRequest, type SubmittedRequest } from "./workload.ts";

export interface OutageContext {
  stack: Stack;
  oracle: RunningOracle;
  rpc: TcpProxy;
  ipfs: TcpProxy;
  /** Pays for the next `count` planned requests (directly, not through the proxies). */
  submit(count: number): Promise<void>;
}

export interface OutageReport {
  requests: number;
  seconds: number;
  disruptionSeconds: number;
}

const USERS = [3, 4, 5, 6, 7, 8, 9, 10];

/**
 * Runs `requests` requests: a first quarter before the disruption, the rest spread over
 * it by `disrupt` (through `ctx.submit`) or sent after it; waits for all to settle.
 */
export async function runOutageScenario(
  stack: Stack,
  options: {
    requests: number;
    disrupt: (ctx: OutageContext) => Promise<void>;
    executor?: Executor;
    overrides?: Partial<Record<keyof OracleConfig, unknown>>;
    settleTimeoutMs?: number;
  },
): Promise<OutageReport> {
  const planned = await planWorkload(stack, { count: options.requests, users: USERS });
  const rpc = await startTcpProxy(stack.chain.rpcUrl);
  const ipfs = await startTcpProxy(stack.ipfs.apiUrl);
  const head = await stack.client.getBlockNumber({ cacheTime: 0 });
  const label = `outage-${Date.now().toString(36)}`;
  const oracle = await startOracle(
    stack.oracleConfig({
      rpcUrl: rpc.url,
      ipfsApi: ipfs.url,
      dataDir: join(stack.workDir, label),
      startBlock: head,
      flushIntervalMs: 1_000,
      ...options.overrides,
    }),
    { log: pino({ level: process.env.ARGUS_TEST_LOG_LEVEL ?? "error" }), ...(options.executor ? { executor: options.executor } : {}) },
  );
  const submitted: SubmittedRequest[] = [];
  let next = 0;
  const submit = async (count: number) => {
    const wave: PlannedRequest[] = planned.slice(next, next + count);
    next += wave.length;
    submitted.push(...(await submitRequests(stack, wave)));
  };
  const started = Date.now();
  try {
    await submit(Math.ceil(options.requests / 4));
    // Let the oracle get going on the first wave, so the disruption hits work in flight.
    await eventually(
      async () => oracle.store.countInState("received"),
      (waiting) => waiting < Math.ceil(options.requests / 4),
      30_000,
    );
    const disruptionStarted = Date.now();
    await options.disrupt({ stack, oracle, rpc, ipfs, submit });
    const disruptionSeconds = (Date.now() - disruptionStarted) / 1000;
    await submit(planned.length - next);

    const ids = submitted.map((request) => request.terms.requestId);
    await waitForSettlements(stack, ids, options.settleTimeoutMs ?? 180_000);
    const onChain = await assertSettledOnce(stack, ids);
    const refunded = ids.filter((id) => onChain.get(id)!.kind !== "fulfilled");
    expect(refunded, "requests refunded because of the outage").to.deep.equal([]);
    for (const id of ids) {
      const state = await eventually(
        async () => oracle.store.get(id)?.state,
        (found) => found === "fulfilled",
      );
      expect(state, `the oracle's record of ${id}`).to.equal("fulfilled");
    }
    const health = await eventually(
      async () => (await fetch(`${oracle.statusUrl}/healthz`)).json() as Promise<{ ok: boolean; errors: Record<string, string> }>,
      (found) => found.ok,
    );
    expect(health, "the oracle is healthy again").to.include({ ok: true });
    await assertBalanceInvariant(stack);
    return { requests: ids.length, seconds: (Date.now() - started) / 1000, disruptionSeconds };
  } finally {
    await rpc.up();
    await ipfs.up();
    await oracle.stop();
    await rpc.close();
    await ipfs.close();
  }
}

/** Submits `count` requests in waves spread over `ms` (so requests arrive all through a disruption). */
export async function trickle(ctx: OutageContext, count: number, ms: number, waves = 5): Promise<void> {
  for (let wave = 0; wave < waves; wave++) {
    await ctx.submit(Math.floor(((wave + 1) * count) / waves) - Math.floor((wave * count) / waves));
    await new Promise((resolve) => setTimeout(resolve, ms / waves));
  }
}

/** An executor whose every other chunk fails (as a whole) until `until`; then it is `inner`. */
export function flakyExecutor(inner: Executor, until: () => number): Executor & { failures: number } {
  let calls = 0;
  const flaky = {
    kind: inner.kind,
    capacity: inner.capacity,
    failures: 0,
    async run(...args: Parameters<Executor["run"]>) {
      if (Date.now() < until() && calls++ % 2 === 0) {
        flaky.failures++;
        throw new ExecutorError(`chunk ${args[0].id}: injected failure`, 1);
      }
      return inner.run(...args);
    },
    close: () => inner.close(),
  };
  return flaky;
}
