/**
 * Outages (issues #5 and #8): the JSON-RPC endpoint down for 30 s, the IPFS endpoint
 * down for 30 s (connections refused, open ones cut), and the executor failing every
 * other chunk for a minute — requests arriving all the while. The run completes with
 * nothing lost and nothing refunded (runOutageScenario's checks).
 */
import { expect } from "chai";
import { createLocalExecutor } from "@argus/oracle/executors/local";
import { requireSharedData, SHARED_MODELS_DIR } from "../support/shared.ts";
import { flakyExecutor, runOutageScenario, trickle } from "../oracle/support/outage-harness.ts";
import { startStack, type Stack } from "../oracle/support/stack.ts";
import { requireChaosRun } from "./support/chaos.ts";

const OUTAGE_MS = Number(process.env.ARGUS_OUTAGE_MS ?? 30_000);

describe("chaos: outages", function () {
  this.timeout(600_000);
  let stack: Stack;

  before(async function () {
    requireChaosRun(this);
    requireSharedData(this);
    stack = await startStack("outages");
  });

  after(async function () {
    await stack?.close();
  });

  it(`the RPC endpoint refuses connections for ${OUTAGE_MS / 1000} s: every request is answered afterwards`, async function () {
    const report = await runOutageScenario(stack, {
      requests: 64,
      disrupt: async (ctx) => {
        await ctx.rpc.down();
        await trickle(ctx, 32, OUTAGE_MS);
        const health = (await (await fetch(`${ctx.oracle.statusUrl}/healthz`)).json()) as { ok: boolean };
        expect(health.ok, "the oracle reports the outage").to.equal(false);
        await ctx.rpc.up();
      },
    });
    console.log(`      ${JSON.stringify(report)}`);
  });

  it(`the IPFS endpoint refuses connections for ${OUTAGE_MS / 1000} s: nothing is rejected as unretrievable, every request is answered`, async function () {
    const report = await runOutageScenario(stack, {
      requests: 64,
      disrupt: async (ctx) => {
        await ctx.ipfs.down();
        await trickle(ctx, 32, OUTAGE_MS);
        const waiting = ctx.oracle.store.inState("received", 1_000, Number.MAX_SAFE_INTEGER);
        expect(
          waiting.filter((request) => request.error !== null),
          "fetches failed against the refused endpoint",
        ).to.not.be.empty;
        expect(
          waiting.every((request) => request.attempts === 0),
          "an outage does not count against a request",
        ).to.equal(true);
        await ctx.ipfs.up();
      },
    });
    console.log(`      ${JSON.stringify(report)}`);
  });

  it(`the executor fails every other chunk for ${(2 * OUTAGE_MS) / 1000} s: failed chunks run again, every request is answered`, async function () {
    let until = 0;
    const executor = flakyExecutor(createLocalExecutor({ concurrency: 2, modelsDir: SHARED_MODELS_DIR }), () => until);
    const report = await runOutageScenario(stack, {
      requests: 96,
      executor,
      disrupt: async (ctx) => {
        until = Date.now() + 2 * OUTAGE_MS;
        await trickle(ctx, 48, 2 * OUTAGE_MS, 8);
      },
    });
    expect(executor.failures, "chunks failed on purpose").to.be.at.least(3);
    console.log(`      ${JSON.stringify({ ...report, injectedFailures: executor.failures })}`);
  });
});
