/**
 * Crash (issue #8): 300 requests with the oracle killed by SIGKILL at random moments
 * at least 5 times and restarted; every request ends settled exactly once and the
 * escrow's balance equals open escrow plus withdrawable balances (runCrashScenario).
 */
import { requireSharedData } from "../support/shared.ts";
import { runCrashScenario } from "../oracle/support/crash-harness.ts";
import { startStack, type Stack } from "../oracle/support/stack.ts";
import { requireChaosRun } from "./support/chaos.ts";

describe("chaos: SIGKILL at random moments", function () {
  this.timeout(900_000);
  let stack: Stack;

  before(async function () {
    requireChaosRun(this);
    requireSharedData(this);
    stack = await startStack("chaos-crash");
  });

  after(async function () {
    await stack?.close();
  });

  it("settles each of 300 requests exactly once across 6 kills and restarts", async function () {
    const report = await runCrashScenario(stack, { requests: 300, kills: 6 });
    console.log(`      ${JSON.stringify(report)}`);
  });
});
