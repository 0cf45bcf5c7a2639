/**
 * Settlements followed until final (issue #21), with the oracle in this process on a
 * local chain and `npm start`'s oracle settings (confirmations 0, 500 ms polls, 1 s
 * flush, settlementFinalityBlocks at its default of 64):
 * - on a node whose `finalized` block is its head (Hardhat's), a settlement is watched
 *   until 64 blocks deep, then never read again;
 * - on a node whose `finalized` block lags (finality-node.ts), that block decides, and
 *   one header read per poll covers every watched settlement, no receipt at all;
 * - an answer rewound off the chain is posted again and lands exactly once;
 * - a request whose own block is rewound after it was answered ends in
 *   `orphaned_requests`, said so in the log, and is never settled on the new chain.
 * The same scenarios under `npm start`, with SIGKILLs, are in test/stack/finality.test.ts.
 */
import { expect } from "chai";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import pino from "pino";
import { startOracle, type RunningOracle } from "@argus/oracle/oracle";
import { openDatabase } from "@argus/oracle/store/database";
import { WatchedSettlements } from "@argus/oracle/store/watched-settlements";
import { requireSharedData } from "../support/shared.ts";
import { eventually } from "./support/crash-harness.ts";
import { assertBalanceInvariant } from "./support/escrow-checks.ts";
import { type FinalityNode, startFinalityNode } from "./support/finality-node.ts";
import { photoVariants } from "./support/images.ts";
import { fulfilledOnce, requestAtSnapshot, rewindPastAnswer } from "./support/rewind.ts";
import { pinImage, settlements, startStack, type Stack, waitForSettlements } from "./support/stack.ts";
import { hardhatRpc, MOBILENET, type PlannedRequest, SQUEEZENET, submitRequests } from "./support/workload.ts";

/** `npm start`'s oracle settings on the local chain (scripts/stack/stack-launch.ts). */
const NPM_START_SETTINGS = { confirmations: 0, pollIntervalMs: 500, flushIntervalMs: 1_000 };

describe("oracle: settlements followed until final", function () {
  this.timeout(240_000);
  let stack: Stack;
  let node: FinalityNode;
  let photos: string[];
  let nextPhoto = 0;
  let oracle: RunningOracle | undefined;
  let logs: Record<string, unknown>[] = [];
  let scenario = 0;

  before(async function () {
    requireSharedData(this);
    stack = await startStack("finality");
    node = await startFinalityNode(stack.chain.rpcUrl);
    photos = await Promise.all((await photoVariants(16)).map((bytes) => pinImage(stack, bytes)));
  });

  afterEach(async function () {
    await oracle?.stop();
    oracle = undefined;
    node?.finalizeUpTo(undefined);
    if (stack) await assertBalanceInvariant(stack);
  });

  after(async function () {
    await node?.close();
    await stack?.close();
  });

  /** An oracle with its own queue, reading from the current block on, through the finality node; its log lines in `logs`. */
  async function startScenarioOracle(): Promise<RunningOracle> {
    const head = await stack.client.getBlockNumber({ cacheTime: 0 });
    logs = [];
    const log = pino({ level: "info" }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) });
    oracle = await startOracle(
      stack.oracleConfig({
        ...NPM_START_SETTINGS,
        rpcUrl: node.url,
        dataDir: join(stack.workDir, `oracle-${++scenario}`),
        startBlock: head,
      }),
      { log },
    );
    return oracle;
  }

  function fresh(user: number, model = MOBILENET): PlannedRequest {
    return { user, modelId: stack.modelId(model), imageCid: photos[nextPhoto++ % photos.length]!, expect: { kind: "fulfilled" } };
  }

  /** Samples of the oracle's /metrics without labels (histograms as name_count, name_sum). */
  async function metric(name: string): Promise<number> {
    const text = await (await fetch(`${oracle!.statusUrl}/metrics`)).text();
    const match = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
    if (!match) throw new Error(`no ${name} in /metrics`);
    return Number(match[1]);
  }

  /** Waits until the oracle has looked at the chain `polls` more times (the intake asks for the head once per poll). */
  async function polls(count: number): Promise<void> {
    const from = node.calls.length;
    const seen = await eventually(
      async () => node.count("eth_blockNumber", from),
      (calls) => calls >= count * 2,
      30_000,
    );
    expect(seen, "the oracle kept polling").to.be.at.least(count * 2);
  }

  it("on a node whose finalized block is its head, a settlement is watched until 64 blocks deep, then never read again", async function () {
    const running = await startScenarioOracle();
    const rpc = hardhatRpc(stack.client);
    const [request] = await submitRequests(stack, [fresh(3)]);
    const id = request!.terms.requestId;
    const answerBlock = (await waitForSettlements(stack, [id], 90_000)).get(id)!.blockNumber;
    expect(
      await eventually(
        () => metric("argus_settlement_watch_size"),
        (size) => size === 1,
      ),
    ).to.equal(1);
    const txHash = running.store.get(id)!.settleTx;

    await rpc.mine(Number(answerBlock + 63n - (await stack.client.getBlockNumber({ cacheTime: 0 }))));
    let from = node.calls.length;
    await eventually(
      async () => node.blockReads(answerBlock, from),
      (reads) => reads >= 3,
      30_000,
    );
    expect(await metric("argus_settlement_watch_size"), "63 blocks deep: still watched").to.equal(1);
    expect(node.count("eth_getTransactionReceipt", from), "receipts read while watching").to.equal(0);

    await rpc.mine(1);
    expect(
      await eventually(
        () => metric("argus_settlement_watch_size"),
        (size) => size === 0,
        30_000,
      ),
      "64 deep: final",
    ).to.equal(0);
    expect(await metric("argus_settlement_blocks_to_finality_count")).to.equal(1);
    expect(await metric("argus_settlement_blocks_to_finality_sum")).to.equal(64);
    expect(running.store.get(id)).to.include({ state: "fulfilled", settleTx: txHash });

    from = node.calls.length;
    await polls(5);
    expect(node.blockReads(answerBlock, from), "reads of the final settlement's block").to.equal(0);
    expect(node.count("eth_getTransactionReceipt", from, txHash), "reads of its receipt").to.equal(0);
  });

  it("on a node whose finalized block lags, that block decides; one header read per poll watches them all, and those at or below it are no longer read", async function () {
    const rpc = hardhatRpc(stack.client);
    const start = await stack.client.getBlockNumber({ cacheTime: 0 });
    node.finalizeUpTo(start);
    await startScenarioOracle();
    // Three settlements in three blocks, one after another.
    const blocks: bigint[] = [];
    for (const user of [4, 5, 6]) {
      const [request] = await submitRequests(stack, [fresh(user, user === 5 ? SQUEEZENET : MOBILENET)]);
      blocks.push((await waitForSettlements(stack, [request!.terms.requestId], 90_000)).get(request!.terms.requestId)!.blockNumber);
    }
    const [first, second, third] = blocks as [bigint, bigint, bigint];
    expect(
      await eventually(
        () => metric("argus_settlement_watch_size"),
        (size) => size === 3,
      ),
    ).to.equal(3);

    // Far deeper than settlementFinalityBlocks: the node's finalized block still decides.
    await rpc.mine(100);
    let from = node.calls.length;
    await eventually(
      async () => node.blockReads(third, from),
      (reads) => reads >= 5,
      30_000,
    );
    expect(await metric("argus_settlement_watch_size"), "above the finalized block: watched").to.equal(3);
    expect(node.blockReads(first, from) + node.blockReads(second, from), "reads of the older watched blocks").to.equal(0);
    expect(node.count("eth_getTransactionReceipt", from), "receipts read while watching").to.equal(0);
    const checks = node.blockReads(third, from);
    const heads = node.count("eth_blockNumber", from);
    expect(checks, "header reads of the newest watched block vs head reads (two loops ask for the head)").to.be.at.most(heads);

    node.finalizeUpTo(second);
    await rpc.mine(1);
    expect(
      await eventually(
        () => metric("argus_settlement_watch_size"),
        (size) => size === 1,
        30_000,
      ),
    ).to.equal(1);
    from = node.calls.length;
    await polls(5);
    expect(node.blockReads(first, from) + node.blockReads(second, from), "reads of final settlements' blocks").to.equal(0);
    expect(node.blockReads(third, from), "the one still watched").to.be.at.least(1);

    node.finalizeUpTo(third);
    await rpc.mine(1);
    expect(
      await eventually(
        () => metric("argus_settlement_watch_size"),
        (size) => size === 0,
        30_000,
      ),
    ).to.equal(0);
    expect(await metric("argus_settlement_blocks_to_finality_count")).to.equal(3);
  });

  for (const depth of [1, 3, 20]) {
    it(`an answer rewound ${depth} block(s) off the chain is posted again and lands exactly once`, async function () {
      const running = await startScenarioOracle();
      const scenario = await requestAtSnapshot(stack, fresh(7 + (depth % 3)));
      const id = scenario.request.terms.requestId;
      const rewind = await rewindPastAnswer(stack, scenario, depth, async () => {
        // The watch has seen the old chain's head (so the depth it reports is the whole reorg's).
        const from = node.calls.length;
        await polls(2);
        expect(node.count("eth_blockNumber", from)).to.be.at.least(4);
      });
      const { at } = await fulfilledOnce(stack, id);
      console.log(`      re-posted and landed ${at - rewind.revertedAt} ms after the revert`);
      await eventually(
        async () => running.store.get(id)?.state,
        (state) => state === "fulfilled",
      );
      expect(running.store.get(id)?.state).to.equal("fulfilled");
      expect(
        await eventually(
          () => metric("argus_settlement_reorgs_total"),
          (count) => count === 1,
        ),
      ).to.equal(1);
      expect(await metric("argus_settlement_reposted_requests_total")).to.equal(1);
      const line = logs.find((entry) => String(entry.msg).includes("settlement transaction(s) left the chain"));
      expect(line, "the watch's log line").to.not.equal(undefined);
      expect(line!.depth, "the depth it names").to.equal(Number(rewind.oldHead - rewind.answerBlock + 1n));
      expect(rewind.answerBlock, "answered in the block after the request's").to.equal(scenario.request.blockNumber + 1n);
    });
  }

  it("a request whose own block is rewound after it was answered ends in orphaned_requests, logged, and is never settled on the new chain", async function () {
    const running = await startScenarioOracle();
    const rpc = hardhatRpc(stack.client);
    const snapshot = await rpc.snapshot();
    const forkBlock = await stack.client.getBlockNumber({ cacheTime: 0 });
    const [doomed] = await submitRequests(stack, [fresh(10)]);
    const id = doomed!.terms.requestId;
    await waitForSettlements(stack, [id], 90_000);
    await eventually(
      async () => running.store.get(id)?.state,
      (state) => state === "fulfilled",
    );
    const settleTx = running.store.get(id)!.settleTx;
    const oldHead = await stack.client.getBlockNumber({ cacheTime: 0 });
    // The intake has read the old chain to its head (so the depth it reports is the whole reorg's).
    await eventually(
      async () => ((await (await fetch(`${running.statusUrl}/healthz`)).json()) as { readUpTo?: string }).readUpTo,
      (readUpTo) => readUpTo === oldHead.toString(),
    );

    expect(await rpc.revert(snapshot)).to.equal(true);
    await rpc.mine(Number(oldHead - forkBlock) + 1);
    // Another request on the new chain is answered as usual, after the oracle has caught up with the reorg.
    const [later] = await submitRequests(stack, [fresh(11, SQUEEZENET)]);
    await fulfilledOnce(stack, later!.terms.requestId);

    const orphaned = await eventually(
      async () => running.store.orphanedRequests().find((request) => request.requestId === id),
      (found) => found !== undefined,
    );
    // Fulfilled, or posting again if the settlement watch saw the reorg first: either way with the settlement it had.
    expect(orphaned, "its record").to.deep.include({ settleTx, blockNumber: doomed!.blockNumber, forkBlock });
    expect(["fulfilled", "posting"]).to.include(orphaned!.state);
    expect(running.store.get(id), "no longer in the queue").to.equal(undefined);
    const line = logs.find((entry) => String(entry.msg).startsWith("reorg ") && entry.orphaned === 1);
    expect(line, "the intake's log line").to.deep.include({ depth: Number(oldHead - forkBlock), forkBlock: Number(forkBlock) });
    expect((line!.requests as { id: string; state: string }[])[0]).to.deep.include({ id: id.toString(), state: orphaned!.state, settleTx });
    // The watch saw its settlement's block go too; posted again or not, it settles nothing: the request does not exist here.
    expect(
      await eventually(
        () => metric("argus_settlement_reorgs_total"),
        (count) => count === 1,
      ),
    ).to.equal(1);
    expect((await settlements(stack)).has(id), "settled on the new chain").to.equal(false);
  });
});

describe("oracle queue: schema 1 → 2", function () {
  it("keeps a queue written by an oracle that did not watch settlements: its mined ones count as final", async function () {
    const dir = await mkdtemp(join(tmpdir(), "argus-queue-v1-"));
    try {
      const path = join(dir, "queue.sqlite");
      const old = new DatabaseSync(path);
      old.exec(`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
        INSERT INTO meta (key, value) VALUES ('schema_version', '1');
        CREATE TABLE transactions (hash TEXT PRIMARY KEY, nonce INTEGER NOT NULL, kind TEXT NOT NULL, request_ids TEXT NOT NULL,
          raw TEXT NOT NULL, state TEXT NOT NULL, max_fee_per_gas TEXT NOT NULL, sent_at INTEGER NOT NULL, gas_used TEXT, gas_cost_wei TEXT) STRICT;
        INSERT INTO transactions VALUES ('0x01', 0, 'fulfil', '["7"]', '0x', 'mined', '1', 1, '21000', '21000');
        INSERT INTO transactions VALUES ('0x02', 1, 'fulfil', '["8"]', '0x', 'sent', '1', 2, NULL, NULL);`);
      old.close();
      const db = openDatabase(path);
      expect(db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get()).to.deep.equal({ value: "2" });
      expect(db.prepare("SELECT hash, state, block_number FROM transactions ORDER BY hash").all()).to.deep.equal([
        { hash: "0x01", state: "final", block_number: null },
        { hash: "0x02", state: "sent", block_number: null },
      ]);
      expect(new WatchedSettlements(db).count(), "watched").to.equal(0);
      db.close();
      openDatabase(path).close(); // and opens again as schema 2
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
