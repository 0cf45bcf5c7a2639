import { expect } from "chai";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import type { ModelRegistryReader } from "@argus/oracle/intake/model-registry";
import type { Executor } from "@argus/oracle/executors/executor";
import { ExecuteStage } from "@argus/oracle/pipeline/execute-stage";
import { type InferenceResult, InferenceResultSchema, RESULT_SCHEMA_VERSION } from "@argus/protocol/result";
import { ImageSpool } from "@argus/oracle/pipeline/image-spool";
import { openDatabase } from "@argus/oracle/store/database";
import { RequestStore } from "@argus/oracle/store/request-store";

/** A queue with requests 1, 2, … for model 1, their images spooled and ready to run. */
async function readyQueue(deadlines: bigint[]) {
  const store = new RequestStore(openDatabase(":memory:"));
  const spool = new ImageSpool(await mkdtemp(join(tmpdir(), "argus-spool-")));
  await spool.init();
  const event = (id: bigint, deadline: bigint) => ({
    requestId: id,
    requester: "0x0000000000000000000000000000000000000001" as const,
    modelId: 1,
    fee: 1n,
    deadline,
    callbackGasLimit: 0,
    imageCid: "bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq",
    blockNumber: 1n,
    blockHash: "0x01" as const,
    logIndex: Number(id),
  });
  const ids = deadlines.map((_, index) => BigInt(index + 1));
  store.recordRange(
    ids.map((id, index) => event(id, deadlines[index]!)),
    { number: 1n, hash: "0x01" },
    2n,
  );
  for (const id of ids) {
    await spool.put(id, new Uint8Array([1, 2, 3]));
    store.markReady(id, 3);
  }
  return { store, spool };
}

const registry = {
  get: async () => ({ name: "m", weightsSha256: `0x${"00".repeat(32)}`, providerImageHash: `0x${"00".repeat(32)}` }),
} as unknown as ModelRegistryReader;

describe("oracle execute stage: who computed a result", () => {
  it("records the executor's provider in each prediction it stores (hence pins); error entries stay as they are", async () => {
    const { store, spool } = await readyQueue([5_000n, 5_000n]);
    const provider = { id: "0x7ddb5e8d2d9a4f1e8c0e6b1a2f3c4d5e6f708192", name: "devnet-provider-3" };
    const executor: Executor = {
      kind: "golem",
      capacity: 1,
      async run(chunk) {
        const [first, second] = chunk.batch.requests;
        const common = {
          schemaVersion: RESULT_SCHEMA_VERSION as typeof RESULT_SCHEMA_VERSION,
          imageCid: first!.imageCid,
          modelId: chunk.batch.modelId,
        };
        const results: InferenceResult[] = [
          {
            ...common,
            requestId: first!.requestId,
            task: "classification",
            weightsSha256: "00".repeat(32),
            manifestCid: "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy",
            image: { width: 10, height: 10, format: "png" },
            top5: [{ classIndex: 281, label: "tabby", score: 0.9 }],
            timings: { decodeMs: 1, inferenceMs: 1, batchSize: 2 },
            runtime: { engine: "0.1.0", node: "24", onnxruntime: "1", sharp: "0", libvips: "8", inferencePath: "native-int8" },
          },
          { ...common, requestId: second!.requestId, error: { code: "NOT_AN_IMAGE", message: "random bytes" } },
        ];
        return { results, attempts: 1, computedBy: { executor: "golem", provider }, cost: 0 };
      },
      async close() {},
    };
    const stage = new ExecuteStage({
      store,
      executor,
      spool,
      registry,
      options: { maxSize: 16, maxBytes: 1 << 20, flushIntervalMs: 0, maxReady: 100, deadlineMarginS: 30 },
      log: pino({ level: "silent" }),
    });
    expect(stage.dispatch(Date.now(), 0n)).to.equal(1);
    await stage.drain();
    const computed = store.get(1n)!;
    expect(computed.state).to.equal("computed");
    const recorded = InferenceResultSchema.parse(JSON.parse(new TextDecoder().decode(computed.resultJson!)));
    expect(recorded).to.deep.include({ computedBy: { executor: "golem", provider } });
    expect(store.get(2n)?.state).to.equal("rejecting");
  });
});

describe("oracle execute stage: deadlines", () => {
  it("does not start a ready request too close to its deadline; it expires and its image is dropped", async () => {
    const { store, spool } = await readyQueue([1_000n, 5_000n]);
    const started: string[][] = [];
    const executor: Executor = {
      kind: "local",
      capacity: 4,
      async run(chunk) {
        started.push(chunk.batch.requests.map((request) => request.requestId));
        throw new Error("this test only looks at what is started");
      },
      async close() {},
    };
    const stage = new ExecuteStage({
      store,
      executor,
      spool,
      registry,
      options: { maxSize: 16, maxBytes: 1 << 20, flushIntervalMs: 0, maxReady: 100, deadlineMarginS: 30 },
      log: pino({ level: "silent" }),
    });

    // Chain time 980 s: request 1 (deadline 1,000) is inside the 30-s margin.
    expect(stage.dispatch(Date.now(), 980n)).to.equal(1);
    await stage.drain();
    expect(started).to.deep.equal([["2"]]);
    expect(store.get(1n)?.state).to.equal("expired");
    expect(store.get(1n)?.error).to.match(/deadline passed before it could be computed/);
    expect(await spool.get(1n)).to.equal(undefined);
    expect(store.get(2n)?.state).to.equal("ready"); // its chunk failed: back to ready, later
  });
});
