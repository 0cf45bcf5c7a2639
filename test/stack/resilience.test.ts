/**
 * `npm start` through deep reorgs and crashes (issue #21), with the stack's own settings
 * for the oracle (confirmations 0, 500 ms polls, settlementFinalityBlocks 64; the web UI
 * is off, it plays no part):
 * - an answer rewound 1, 3 and 20 blocks off the chain (evm_snapshot at the request's
 *   block, evm_revert, a longer chain mined) ends fulfilled exactly once on the surviving
 *   chain — and the same with the oracle SIGKILLed during each rewind, restarted by the
 *   stack;
 * - the oracle SIGKILLed during a burst of 50 requests is restarted, the chain survives,
 *   and all 50 end fulfilled exactly once;
 * - a component that keeps failing stops the stack, saying why.
 * Uses free ports, but run it alone: it loads both cores.
 */
import { expect } from "chai";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Deployment, parseDeployment } from "@argus/escrow/deployment-record";
import { IGNITION_DEPLOYMENTS_DIR } from "@argus/devchain";
import { cleanEnv } from "../cli/support/argus.ts";
import { eventually } from "../oracle/support/crash-harness.ts";
import { assertBalanceInvariant, assertSettledOnce } from "../oracle/support/escrow-checks.ts";
import { photoVariants } from "../oracle/support/images.ts";
import { queueCounts, requestStatus } from "../oracle/support/oracle-process.ts";
import { fulfilledOnce, requestAtSnapshot, rewindPastAnswer } from "../oracle/support/rewind.ts";
import { connectStack, pinImage, type StackClients, waitForSettlements } from "../oracle/support/stack.ts";
import { MOBILENET, planWorkload, SQUEEZENET, submitRequests } from "../oracle/support/workload.ts";
import { requireSharedData, SHARED_MODELS_DIR } from "../support/shared.ts";
import { freePorts, isAlive, type NpmStart, npmStart, occurrences, processRunning } from "./support/npm-start.ts";

const ORACLE_MAIN = "oracle-requestor/src/main.ts";

/** A local stack under `npm start` on free ports, with its own state folder. */
async function startLocalStack(name: string, extra: NodeJS.ProcessEnv = {}) {
  const stateDir = await mkdtemp(join(tmpdir(), `argus-${name}-`));
  const [chain, api, gateway, oracle, httpGateway] = (await freePorts(5)).map(String);
  const deploymentId = `test-${name}-${process.pid}`;
  const stack = npmStart(
    cleanEnv({
      ARGUS_MODELS_DIR: SHARED_MODELS_DIR,
      ARGUS_STATE_DIR: stateDir,
      ARGUS_IGNITION_DEPLOYMENT_ID: deploymentId,
      ARGUS_CHAIN_PORT: chain,
      ARGUS_IPFS_API_PORT: api,
      ARGUS_IPFS_GATEWAY_PORT: gateway,
      ARGUS_ORACLE_PORT: oracle,
      ARGUS_GATEWAY_PORT: httpGateway,
      ARGUS_UI: "off",
      ...extra,
    }),
  );
  const cleanUp = async () => {
    stack.kill();
    await rm(stateDir, { recursive: true, force: true });
    await rm(join(IGNITION_DEPLOYMENTS_DIR, deploymentId), { recursive: true, force: true });
  };
  try {
    await stack.waitFor("ready — Ctrl-C stops everything", 180_000);
  } catch (error) {
    await cleanUp();
    throw error;
  }
  const record = await readRecord(join(stateDir, "deployment.json"));
  return { stack, record, deploymentFile: join(stateDir, "deployment.json"), cleanUp };
}

async function readRecord(path: string): Promise<Deployment> {
  return parseDeployment(JSON.parse(await readFile(path, "utf8")));
}

/** SIGKILLs the stack's oracle process (only it, as the OOM killer would) and waits until it is gone. */
async function killOracle(stack: NpmStart): Promise<number> {
  const pid = processRunning(stack.pid, ORACLE_MAIN);
  expect(pid, "the oracle's process").to.not.equal(undefined);
  process.kill(pid!, "SIGKILL");
  expect(
    await eventually(
      async () => isAlive(pid!),
      (alive) => !alive,
    ),
  ).to.equal(false);
  return pid!;
}

/** Waits until the stack has said `restarted` for the oracle `times` times in all. */
async function restarted(stack: NpmStart, times: number): Promise<void> {
  const seen = await eventually(
    async () => occurrences(stack, "oracle restarted (pid"),
    (count) => count >= times,
    60_000,
  );
  expect(seen, `oracle restarts\n${stack.output().split("\n").slice(-20).join("\n")}`).to.be.at.least(times);
}

describe("npm start: deep reorgs and a crashing oracle", function () {
  this.timeout(600_000);
  let stack: NpmStart;
  let record: Deployment;
  let deploymentFile: string;
  let clients: StackClients;
  let cleanUp = async () => {};
  let photos: string[] = [];
  let nextPhoto = 0;
  let restarts = 0;
  let nextUser = 11;

  before(async function () {
    requireSharedData(this);
    ({ stack, record, deploymentFile, cleanUp } = await startLocalStack("stack-resilience"));
    clients = await connectStack(record);
    // Beyond the burst's photos (planWorkload takes the first 25 variants), so the result cache answers none.
    photos = await Promise.all((await photoVariants(32)).slice(25).map((bytes) => pinImage(clients, bytes)));
  });

  after(async function () {
    await cleanUp();
  });

  function fresh(model = SQUEEZENET) {
    return {
      user: nextUser++,
      modelId: clients.modelId(model),
      imageCid: photos[nextPhoto++ % photos.length]!,
      expect: { kind: "fulfilled" } as const,
    };
  }

  async function oracleRecord(id: bigint) {
    return eventually(
      () => requestStatus(record.oracle!.statusUrl, id),
      (report) => report?.state === "fulfilled",
      30_000,
    );
  }

  it("an answer rewound 1, 3 and 20 blocks off the chain ends fulfilled exactly once on the surviving chain", async function () {
    for (const depth of [1, 3, 20]) {
      const seen = occurrences(stack, "settlement transaction(s) left the chain");
      const scenario = await requestAtSnapshot(clients, fresh());
      const rewind = await rewindPastAnswer(clients, scenario, depth);
      const { at } = await fulfilledOnce(clients, scenario.request.terms.requestId);
      expect((await oracleRecord(scenario.request.terms.requestId))?.state).to.equal("fulfilled");
      // Two ways back, both the oracle's: the finality watch reopens a settlement that left
      // the chain (and logs it), or, when the rewind lands while the transaction is still
      // followed to its first confirmation, the follow loop broadcasts the same signed
      // transaction again. Which one depends on timing; CI has seen both.
      expect(occurrences(stack, "settlement transaction(s) left the chain"), "the oracle's log line").to.be.within(seen, seen + 1);
      console.log(`      depth ${depth}: re-posted and landed ${at - rewind.revertedAt} ms after the revert`);
    }
  });

  it("the same with the oracle SIGKILLed during each rewind: the stack restarts it and it posts the answer again", async function () {
    for (const depth of [1, 3, 20]) {
      const scenario = await requestAtSnapshot(clients, fresh(MOBILENET));
      const rewind = await rewindPastAnswer(clients, scenario, depth, async () => void (await killOracle(stack)));
      await restarted(stack, ++restarts);
      const { at } = await fulfilledOnce(clients, scenario.request.terms.requestId);
      expect((await oracleRecord(scenario.request.terms.requestId))?.state).to.equal("fulfilled");
      console.log(`      depth ${depth}, oracle killed: landed again ${at - rewind.revertedAt} ms after the revert (restart included)`);
    }
  });

  it("the oracle SIGKILLed during a burst of 50 requests is restarted, the chain survives, and all 50 end fulfilled exactly once", async function () {
    const planned = await planWorkload(clients, { count: 50, users: [3, 4, 5, 6, 7, 8, 9, 10], badEvery: 0 });
    const deployBlock = await clients.client.getBlock({ blockNumber: BigInt(record.contracts.predictionEscrow.deployBlock) });
    const burst = submitRequests(clients, planned);
    // Killed while it is working on the burst: some requests read, not all settled.
    const atKill = await eventually(
      () => queueCounts(record.oracle!.statusUrl).catch(() => ({}) as Record<string, number>),
      (counts) =>
        Object.entries(counts).some(
          ([state, count]) => count > 0 && ["received", "ready", "running", "computed", "pinned", "posting"].includes(state),
        ),
      60_000,
    );
    await killOracle(stack);
    const inFlight = Object.entries(atKill).filter(([state, count]) => count > 0 && !["fulfilled", "rejected", "expired"].includes(state));
    expect(inFlight.length, "requests in flight when it was killed").to.be.greaterThan(0);
    const submitted = await burst;
    await restarted(stack, ++restarts);

    const ids = submitted.map((request) => request.terms.requestId);
    await waitForSettlements(clients, ids, 240_000);
    const onChain = await assertSettledOnce(clients, ids);
    for (const id of ids) expect(onChain.get(id)?.kind, `request ${id}`).to.equal("fulfilled");
    for (const id of ids) expect((await oracleRecord(id))?.state, `the oracle's record of ${id}`).to.equal("fulfilled");
    // The same chain: its early blocks, the escrow and the record are the ones from before the kill.
    expect((await clients.client.getBlock({ blockNumber: deployBlock.number })).hash, "the escrow's deployment block").to.equal(
      deployBlock.hash,
    );
    expect(await readRecord(deploymentFile), "the deployment record").to.deep.equal(record);
    const books = await assertBalanceInvariant(clients);
    expect(books.pending, "requests still pending").to.equal(0);
    expect(stack.output()).not.to.include("keeps failing");
    console.log(`      in flight at the kill: ${JSON.stringify(Object.fromEntries(inFlight))}`);
  });
});

describe("npm start: a component that keeps failing", function () {
  this.timeout(300_000);

  it("stops the stack, naming the component and why", async function () {
    requireSharedData(this);
    const { stack, cleanUp } = await startLocalStack("stack-give-up", { ARGUS_RESTARTS: "1" });
    try {
      await killOracle(stack);
      await restarted(stack, 1);
      expect(stack.output()).to.include("oracle stopped on its own (killed by SIGKILL); restarting it in 1 s (1 of at most 1 in a row)");
      await killOracle(stack);
      const exit = await stack.exited;
      expect(exit.code, stack.output().split("\n").slice(-20).join("\n")).to.equal(1);
      expect(stack.output()).to.match(
        /oracle keeps failing: it stopped 2 times in a row, each within 60 s of starting \(last: killed by SIGKILL\)/,
      );
      expect(stack.output()).to.match(/\[argus\]\s+stopped$/m);
    } finally {
      await cleanUp();
    }
  });
});
