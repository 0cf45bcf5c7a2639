/**
 * The oracle under the chain's and the queue's awkward moments (issue #5): reorgs
 * beneath unconfirmed and already-read requests, the same events read twice, a model
 * deactivated after it was paid for, and a request whose deadline passed while the
 * oracle was away. Each scenario runs its own oracle (own queue, reading from the
 * current block) on one shared stack, and ends with the escrow's books balancing.
 * The crash run is in resilience-crash.test.ts; outages are in test/chaos/.
 */
import { expect } from "chai";
import { join } from "node:path";
import pino from "pino";
import { predictionEscrowAbi } from "@argus/escrow/abi";
import type { OracleConfig } from "@argus/oracle/config";
import { RequestIntake } from "@argus/oracle/intake/request-events";
import { startOracle, type RunningOracle } from "@argus/oracle/oracle";
import { openDatabase } from "@argus/oracle/store/database";
import { RequestStore, type RequestedEvent } from "@argus/oracle/store/request-store";
import { requireSharedData } from "../support/shared.ts";
import { eventually } from "./support/crash-harness.ts";
import { assertBalanceInvariant, settlementTransactions } from "./support/escrow-checks.ts";
import { photoVariants } from "./support/images.ts";
import { pinImage, settlements, startStack, waitForSettlements, type Stack } from "./support/stack.ts";
import { hardhatRpc, MOBILENET, type PlannedRequest, submitRequests, SQUEEZENET } from "./support/workload.ts";

describe("oracle resilience: reorgs, duplicate events, deactivated models, expiry", function () {
  this.timeout(180_000);
  let stack: Stack;
  let photos: string[];
  let nextPhoto = 0;
  let oracle: RunningOracle | undefined;
  let scenario = 0;

  before(async function () {
    requireSharedData(this);
    stack = await startStack("resilience");
    photos = await Promise.all((await photoVariants(24)).map((bytes) => pinImage(stack, bytes)));
  });

  afterEach(async function () {
    await oracle?.stop();
    oracle = undefined;
    if (stack) await assertBalanceInvariant(stack);
  });

  after(async function () {
    await stack?.close();
  });

  /** An oracle with its own queue, reading from the current block on. */
  async function startScenarioOracle(overrides: Partial<Record<keyof OracleConfig, unknown>> = {}): Promise<RunningOracle> {
    const head = await stack.client.getBlockNumber({ cacheTime: 0 });
    oracle = await startOracle(
      stack.oracleConfig({ dataDir: join(stack.workDir, `oracle-${++scenario}`), startBlock: head, ...overrides }),
      {
        log: pino({ level: process.env.ARGUS_TEST_LOG_LEVEL ?? "error" }),
      },
    );
    return oracle;
  }

  /** A request for a photo no earlier request used (so the result cache cannot answer it). */
  function fresh(user: number, model = MOBILENET): PlannedRequest {
    return { user, modelId: stack.modelId(model), imageCid: photos[nextPhoto++ % photos.length]!, expect: { kind: "fulfilled" } };
  }

  /** The same request once more: same account, model and image. */
  function again(request: PlannedRequest): PlannedRequest {
    return { user: request.user, modelId: request.modelId, imageCid: request.imageCid, expect: { kind: "fulfilled" } };
  }

  describe("reorgs", function () {
    it("with confirmations ≥ 1, requests reorganised away before they were confirmed are never answered; later ones are", async function () {
      const running = await startScenarioOracle({ confirmations: 3 });
      const rpc = hardhatRpc(stack.client);
      const snapshot = await rpc.snapshot();
      const doomed = await submitRequests(stack, [fresh(3), fresh(4, SQUEEZENET)]);
      // Two blocks deep, one short of confirmed: the oracle must not have taken them yet.
      await new Promise((resolve) => setTimeout(resolve, 600));
      for (const request of doomed) expect(running.store.get(request.terms.requestId), "read before confirmation").to.equal(undefined);
      expect(await rpc.revert(snapshot)).to.equal(true);
      await rpc.mine(4);

      const later = await submitRequests(stack, [fresh(5), fresh(6, SQUEEZENET)]);
      await rpc.mine(3);
      const settled = await waitForSettlements(
        stack,
        later.map((request) => request.terms.requestId),
        60_000,
      );
      for (const request of later) expect(settled.get(request.terms.requestId)?.kind).to.equal("fulfilled");
      for (const request of doomed) {
        if (later.some((other) => other.terms.requestId === request.terms.requestId)) continue; // the id was issued again on the new branch
        expect(running.store.get(request.terms.requestId), "a reorganised-away request").to.equal(undefined);
        expect(settled.has(request.terms.requestId)).to.equal(false);
      }
    });

    it("with confirmations 0, a request read and fetched, then reorganised away, is dropped; the new branch's requests are answered", async function () {
      const running = await startScenarioOracle({ confirmations: 0 });
      running.pauseExecution(true);
      const rpc = hardhatRpc(stack.client);
      const snapshot = await rpc.snapshot();
      const [doomed] = await submitRequests(stack, [fresh(7)]);
      const id = doomed!.terms.requestId;
      await eventually(
        async () => running.store.get(id)?.state,
        (state) => state === "ready",
      );
      expect(running.store.get(id)?.state, "read and fetched before the reorg").to.equal("ready");

      expect(await rpc.revert(snapshot)).to.equal(true);
      // The same account asks again for the same image at the same height: the escrow issues the very same id.
      const replacement = await submitRequests(stack, [again(doomed!), fresh(8, SQUEEZENET)]);
      expect(replacement[0]!.terms.requestId, "the new branch reissued the orphaned request's id").to.equal(id);
      running.pauseExecution(false);
      const settled = await waitForSettlements(
        stack,
        replacement.map((request) => request.terms.requestId),
        60_000,
      );
      for (const request of replacement) {
        expect(settled.get(request.terms.requestId)?.kind).to.equal("fulfilled");
        expect(running.store.get(request.terms.requestId)?.imageCid).to.equal(request.imageCid);
      }
    });

    it("with confirmations 0, a request answered and then reorganised away together with its answer does not block the new branch's request", async function () {
      const running = await startScenarioOracle({ confirmations: 0 });
      const rpc = hardhatRpc(stack.client);
      const snapshot = await rpc.snapshot();
      const [answered] = await submitRequests(stack, [fresh(9)]);
      await waitForSettlements(stack, [answered!.terms.requestId], 60_000);
      await eventually(
        async () => running.store.get(answered!.terms.requestId)?.state,
        (state) => state === "fulfilled",
      );

      expect(await rpc.revert(snapshot)).to.equal(true);
      // Asked again for the same image, so the id is reissued (another image would get another id).
      const replacement = await submitRequests(stack, [again(answered!), fresh(10, SQUEEZENET)]);
      expect(replacement[0]!.terms.requestId, "the new branch reissued the orphaned request's id").to.equal(answered!.terms.requestId);
      const settled = await waitForSettlements(
        stack,
        replacement.map((request) => request.terms.requestId),
        60_000,
      );
      for (const request of replacement) {
        expect(settled.get(request.terms.requestId)?.kind).to.equal("fulfilled");
        await eventually(
          async () => running.store.get(request.terms.requestId)?.state,
          (state) => state === "fulfilled",
        );
        expect(running.store.get(request.terms.requestId)).to.include({ imageCid: request.imageCid, state: "fulfilled" });
      }
    });
  });

  describe("duplicate events", function () {
    it("the queue ignores a range read twice and keeps each request's progress", function () {
      const store = new RequestStore(openDatabase(":memory:"));
      const event = (n: number): RequestedEvent => ({
        requestId: 1000n + BigInt(n),
        requester: "0x0000000000000000000000000000000000000003",
        modelId: 1,
        fee: 10n ** 15n,
        deadline: 2_000_000_000n,
        callbackGasLimit: 0,
        imageCid: "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy",
        blockNumber: 10n + BigInt(n),
        blockHash: `0x${"ab".repeat(31)}${n.toString(16).padStart(2, "0")}`,
        logIndex: 0,
      });
      const events = [event(1), event(2), event(3)];
      expect(store.recordRange(events, { number: 13n, hash: events[2]!.blockHash }, 14n)).to.equal(3);
      store.markReady(1001n, 1234);
      expect(store.recordRange(events, { number: 13n, hash: events[2]!.blockHash }, 14n), "the same range again").to.equal(0);
      expect(store.recordRange([events[1]!, event(4)], { number: 14n, hash: event(4).blockHash }, 15n), "overlapping").to.equal(1);
      expect(store.get(1001n)).to.include({ state: "ready", imageSize: 1234 });
      expect(store.countInState("received")).to.equal(3);
    });

    it("an intake that reads the same blocks again adds nothing, and the oracle settles nothing twice", async function () {
      const running = await startScenarioOracle();
      const requests = await submitRequests(stack, [fresh(3), fresh(4, SQUEEZENET), fresh(5)]);
      const ids = requests.map((request) => request.terms.requestId);
      await waitForSettlements(stack, ids, 60_000);
      for (const id of ids)
        await eventually(
          async () => running.store.get(id)?.state,
          (state) => state === "fulfilled",
        );
      const before = await settlementTransactions(stack);

      // A second intake over the very same queue, from the same start: every event is a duplicate.
      const start = BigInt(requests[0]!.blockNumber) - 1n;
      const intake = new RequestIntake(stack.client, running.store, {
        escrow: stack.argus.escrow,
        confirmations: 0,
        logRangeBlocks: 1,
        startBlock: start,
      });
      running.store.setMeta("next_block", start.toString());
      const progress = await intake.poll();
      expect(progress.added).to.equal(0);
      expect(progress.readUpTo).to.be.at.least(requests.at(-1)!.blockNumber);
      // And the running oracle's own loop re-reads them too (the cursor was moved back under it).
      running.store.setMeta("next_block", start.toString());
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      for (const id of ids) expect(running.store.get(id)?.state).to.equal("fulfilled");
      const after = await settlementTransactions(stack);
      expect(after.fulfil.size, "no new fulfilment transactions").to.equal(before.fulfil.size);
      await settlements(stack); // throws on a double settlement
    });
  });

  it("a request for a model deactivated after it was paid for is still fulfilled", async function () {
    const running = await startScenarioOracle();
    running.pauseExecution(true);
    const modelId = stack.modelId(SQUEEZENET);
    const admin = stack.user(0);
    const [request] = await submitRequests(stack, [fresh(6, SQUEEZENET)]);
    const setActive = async (active: boolean) => {
      const hash = await admin.writeContract({
        address: stack.argus.escrow,
        abi: predictionEscrowAbi,
        functionName: "setModelActive",
        args: [modelId, active],
        chain: admin.chain,
        account: admin.account,
      } as never);
      await stack.client.waitForTransactionReceipt({ hash });
    };
    await setActive(false);
    try {
      const model = await stack.client.readContract({
        address: stack.argus.escrow,
        abi: predictionEscrowAbi,
        functionName: "getModel",
        args: [modelId],
      });
      expect(model.active).to.equal(false);
      running.pauseExecution(false);
      const settled = await waitForSettlements(stack, [request!.terms.requestId], 60_000);
      expect(settled.get(request!.terms.requestId)?.kind).to.equal("fulfilled");
    } finally {
      await setActive(true);
    }
  });

  it("a request whose deadline passed while the oracle was away is not worked on; its requester reclaims the fee", async function () {
    const rpc = hardhatRpc(stack.client);
    const head = await stack.client.getBlockNumber({ cacheTime: 0 });
    const [request] = await submitRequests(stack, [fresh(11)]);
    const { terms } = request!;
    const block = await stack.client.getBlock({ blockNumber: request!.blockNumber });
    await rpc.increaseTime(Number(terms.deadline - block.timestamp) + 60);
    await rpc.mine(1);

    const running = await startScenarioOracle({ startBlock: head });
    await eventually(
      async () => running.store.get(terms.requestId)?.state,
      (state) => state === "expired",
    );
    expect(running.store.get(terms.requestId)).to.include({ state: "expired", resultDigest: null, settleTx: null });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect((await settlements(stack)).has(terms.requestId), "the oracle settled it").to.equal(false);

    const user = stack.user(11);
    const NATIVE = "0x0000000000000000000000000000000000000000";
    const balance = () =>
      stack.client.readContract({
        address: stack.argus.escrow,
        abi: predictionEscrowAbi,
        functionName: "balanceOf",
        args: [NATIVE, user.account.address],
      });
    const before = await balance();
    const hash = await user.writeContract({
      address: stack.argus.escrow,
      abi: predictionEscrowAbi,
      functionName: "reclaim",
      args: [{ ...terms, deadline: Number(terms.deadline) }],
      chain: user.chain,
      account: user.account,
    } as never);
    expect((await stack.client.waitForTransactionReceipt({ hash })).status).to.equal("success");
    expect((await settlements(stack)).get(terms.requestId)?.kind).to.equal("expired");
    expect((await balance()) - before).to.equal(terms.fee);
  });
});
