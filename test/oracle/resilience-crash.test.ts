import { requireSharedData } from "../support/shared.ts";
import { runCrashScenario } from "./support/crash-harness.ts";
import { startStack, type Stack } from "./support/stack.ts";

const REQUESTS = Number(process.env.ARGUS_CRASH_REQUESTS ?? 200);

describe("oracle resilience: SIGKILL at random moments", function () {
  this.timeout(600_000);
  let stack: Stack;

  before(async function () {
    requireSharedData(this);
    stack = await startStack("crash");
  });

  after(async function () {
    await stack?.close();
  });

  it(`settles each of ${REQUESTS} requests exactly once across ≥ 5 kills and restarts`, async function () {
    const report = await runCrashScenario(stack, { requests: REQUESTS, kills: 5 });
    console.log(`      ${JSON.stringify(report)}`);
  });
});
