import { expect } from "chai";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import type { ModelRegistryReader } from "@argus/oracle/intake/model-registry";
import type { Executor } from "@argus/oracle/executors/executor";
import { ExecuteStage } from "@argus/oracle/pipeline/execute-stage";
import { ImageSpool } from "@argus/oracle/pipeline/image-spool";
import { openDatabase } from "@argus/oracle/store/database";
import { RequestStore } from "@argus/oracle/store/request-store";

describe("oracle execute stage: deadlines", () => {
  it("does not start a ready request too close to its deadline; it expires and its image is dropped", async () => {
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
    store.recordRange([event(1n, 1_000n), event(2n, 5_000n)], { number: 1n, hash: "0x01" }, 2n);
    for (const id of [1n, 2n]) {
      await spool.put(id, new Uint8Array([1, 2, 3]));
      store.markReady(id, 3);
    }
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
    const registry = {
      get: async () => ({ name: "m", weightsSha256: `0x${"00".repeat(32)}`, providerImageHash: `0x${"00".repeat(32)}` }),
    } as unknown as ModelRegistryReader;
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
