/**
 * Disagreements between providers are kept and pinned: the execute stage records the
 * answers an executor's cross-check was decided on (a decided chunk, and one that failed
 * with no majority) before it records any result, and the pin stage pins each answer to
 * the real embedded IPFS node, where anyone can read it by the CID `/disagreements` lists.
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import pino from "pino";
import { CID } from "multiformats/cid";
import { createIpfsClient } from "@argus/ipfs-node/client";
import { type Chunk, type ChunkOutcome, type Executor, ExecutorError } from "@argus/oracle/executors/executor";
import type { ModelRegistryReader } from "@argus/oracle/intake/model-registry";
import { ExecuteStage } from "@argus/oracle/pipeline/execute-stage";
import { ImageSpool } from "@argus/oracle/pipeline/image-spool";
import { PinStage } from "@argus/oracle/pipeline/pin-stage";
import { AuditEvidenceStore, type PinnedAnswer } from "@argus/oracle/store/audit-evidence";
import { openDatabase } from "@argus/oracle/store/database";
import { RequestStore } from "@argus/oracle/store/request-store";
import { type InferenceResult, RESULT_SCHEMA_VERSION } from "@argus/protocol/result";
import { startTestNode } from "../ipfs-node/support/ipfs.ts";

const HONEST = { id: "0x1111111111111111111111111111111111111111", name: "honest" };
const LIAR = { id: "0x2222222222222222222222222222222222222222", name: "liar" };
const registry = {
  get: async () => ({ name: "m", weightsSha256: `0x${"00".repeat(32)}`, providerImageHash: `0x${"00".repeat(32)}` }),
} as unknown as ModelRegistryReader;

type ChunkRequests = { batch: { modelId: string; requests: readonly { requestId: string; imageCid: string }[] } };

function answer(chunk: ChunkRequests, classIndex: number): InferenceResult[] {
  return chunk.batch.requests.map((request) => ({
    schemaVersion: RESULT_SCHEMA_VERSION,
    requestId: request.requestId,
    imageCid: request.imageCid,
    modelId: chunk.batch.modelId,
    task: "classification" as const,
    weightsSha256: "00".repeat(32),
    manifestCid: "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy",
    image: { width: 10, height: 10, format: "png" as const },
    top5: [{ classIndex, label: `class ${classIndex}`, score: 0.9 }],
    timings: { decodeMs: 1, inferenceMs: 1, batchSize: 1 },
    runtime: { engine: "0.1.0", node: "24", onnxruntime: "1", sharp: "0", libvips: "8", inferencePath: "native-int8" as const },
  }));
}

async function queueWith(requestIds: bigint[]) {
  const db = openDatabase(":memory:");
  const store = new RequestStore(db);
  const spool = new ImageSpool(await mkdtemp(join(tmpdir(), "argus-spool-")));
  await spool.init();
  store.recordRange(
    requestIds.map((requestId) => ({
      requestId,
      requester: "0x0000000000000000000000000000000000000001" as const,
      modelId: 1,
      fee: 1n,
      deadline: 5_000n,
      callbackGasLimit: 0,
      imageCid: "bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq",
      blockNumber: 1n,
      blockHash: "0x01" as const,
      logIndex: Number(requestId),
    })),
    { number: 1n, hash: "0x01" },
    2n,
  );
  for (const id of requestIds) {
    await spool.put(id, new Uint8Array([1, 2, 3]));
    store.markReady(id, 3);
  }
  return { store, spool, evidence: new AuditEvidenceStore(db) };
}

describe("oracle: disagreements between providers are kept and pinned", function () {
  this.timeout(60_000);

  it("records a decided disagreement before the chunk's results, and one with no majority when the chunk fails", async function () {
    const { store, spool, evidence } = await queueWith([1n, 2n]);
    const outcomes: ((chunk: Chunk) => ChunkOutcome)[] = [
      (chunk) => ({
        results: answer(chunk, 281),
        attempts: 3,
        cost: 0,
        computedBy: { executor: "golem", provider: HONEST, audit: { providers: 3, agreed: false, outvoted: LIAR.id } },
        evidence: {
          requestIds: ["1"],
          answers: [
            { by: LIAR, outvoted: true, results: answer(chunk, 7) },
            { by: HONEST, outvoted: false, results: answer(chunk, 281) },
          ],
        },
      }),
      (chunk) => {
        throw new ExecutorError("three providers gave three answers", 3, {
          evidence: {
            requestIds: ["2"],
            answers: [1, 2, 3].map((classIndex) => ({ by: "oracle", outvoted: false, results: answer(chunk, classIndex) })),
          },
        });
      },
    ];
    const executor: Executor = {
      kind: "golem",
      capacity: 1,
      async run(chunk) {
        // Evidence is on record before any result of the chunk is.
        expect(store.get(BigInt(chunk.batch.requests[0]!.requestId))?.state).to.equal("running");
        return outcomes.shift()!(chunk);
      },
      async close() {},
    };
    const stage = new ExecuteStage({
      store,
      executor,
      spool,
      registry,
      options: { maxSize: 1, maxBytes: 1 << 20, flushIntervalMs: 0, maxReady: 100, deadlineMarginS: 30 },
      log: pino({ level: "silent" }),
      evidence,
    });
    stage.dispatch(Date.now(), 0n);
    await stage.drain();
    stage.dispatch(Date.now(), 0n);
    await stage.drain();

    const [noMajority, decided] = evidence.recent(10);
    expect(decided).to.deep.include({ chunkId: decided!.chunkId, modelId: 1, requestIds: ["1"] });
    expect(decided!.answers).to.deep.equal([
      { by: LIAR.id, name: "liar", outvoted: true, cid: null },
      { by: HONEST.id, name: "honest", outvoted: false, cid: null },
    ]);
    expect(noMajority!.requestIds).to.deep.equal(["2"]);
    expect(noMajority!.answers.map((entry) => entry.by)).to.deep.equal(["oracle", "oracle", "oracle"]);
    expect(store.get(1n)?.state).to.equal("computed");
    expect(store.get(2n)?.state).to.equal("ready");
    expect(evidence.unpinned(10)).to.have.length(5);
  });

  it("pins every answer to IPFS, retrying while the node is down, and lists the CIDs", async function () {
    const { store, evidence } = await queueWith([1n]);
    const chunk: ChunkRequests = {
      batch: { modelId: "1", requests: [{ requestId: "1", imageCid: "bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq" }] },
    };
    evidence.record("chunk-7", 1, {
      requestIds: ["1"],
      answers: [
        { by: LIAR, outvoted: true, results: answer(chunk, 7) },
        { by: "oracle", outvoted: false, results: answer(chunk, 281) },
      ],
    });

    // No node yet: nothing is pinned, nothing is lost.
    const down = new PinStage({ store, ipfs: createIpfsClient("http://127.0.0.1:9"), log: pino({ level: "silent" }), evidence });
    await down.runOnce();
    expect(evidence.unpinned(10)).to.have.length(2);

    const node = await startTestNode();
    try {
      const ipfs = createIpfsClient(node.apiUrl);
      await new PinStage({ store, ipfs, log: pino({ level: "silent" }), evidence }).runOnce();
      expect(evidence.unpinned(10)).to.have.length(0);
      const [listed] = evidence.recent(1);
      const pinned: PinnedAnswer[] = [];
      for (const entry of listed!.answers) {
        const bytes = await ipfs.block.get(CID.parse(entry.cid!));
        pinned.push(JSON.parse(new TextDecoder().decode(bytes)) as PinnedAnswer);
      }
      expect(pinned.map((document) => [document.kind, document.chunkId, document.outvoted, document.by])).to.deep.equal([
        ["argus-audit-answer", "chunk-7", true, LIAR],
        ["argus-audit-answer", "chunk-7", false, "oracle"],
      ]);
      expect(pinned.map((document) => (document.results[0] as { top5: { classIndex: number }[] }).top5[0]!.classIndex)).to.deep.equal([
        7, 281,
      ]);
    } finally {
      await node.stop();
    }
  });
});
