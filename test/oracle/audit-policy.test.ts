/**
 * Which chunks the Golem executor cross-checks (executors/golem/audit.ts), with the
 * provider runs replaced by functions that answer as a given provider would: a new
 * provider's first chunks, a doubtful provider's every chunk, a share of the rest.
 */
import { expect } from "chai";
import type { ChunkOutcome } from "@argus/oracle/executors/executor";
import { type AuditDeps, DOUBTFUL_SUCCESS_SHARE, runAudited } from "@argus/oracle/executors/golem/audit";
import { MIN_ATTEMPTS_FOR_RATE, ProviderReputation } from "@argus/oracle/executors/golem/reputation";
import { type InferenceResult, RESULT_SCHEMA_VERSION } from "@argus/protocol/result";

const PROVIDERS = ["0xa", "0xb", "0xc"].map((id) => ({ id, name: `provider ${id}` }));

function answer(provider: { id: string; name: string }, classIndex = 281): ChunkOutcome & { durationMs: number } {
  const result: InferenceResult = {
    schemaVersion: RESULT_SCHEMA_VERSION,
    requestId: "1",
    imageCid: "bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq",
    modelId: "1",
    task: "classification",
    weightsSha256: "00".repeat(32),
    manifestCid: "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy",
    image: { width: 10, height: 10, format: "png" },
    top5: [{ classIndex, label: `class ${classIndex}`, score: 0.9 }],
    timings: { decodeMs: 1, inferenceMs: 1, batchSize: 1 },
    runtime: { engine: "0.1.0", node: "24", onnxruntime: "1", sharp: "0", libvips: "8", inferencePath: "native-int8" },
  };
  return { results: [result], attempts: 1, cost: 0.01, computedBy: { executor: "golem", provider }, durationMs: 100 };
}

/** Runs one chunk whose first run lands on `first`; later runs on the first provider not avoided. */
function runChunk(reputation: ProviderReputation, first: (typeof PROVIDERS)[number], random: number) {
  let runs = 0;
  const deps: AuditDeps = {
    policy: { enabled: true, rate: 0.1, firstChunks: 3, random: () => random },
    reputation,
    banLiar: () => {},
    log: () => {},
  };
  return runAudited(async (avoid) => {
    runs++;
    return answer(runs === 1 ? first : PROVIDERS.find((provider) => !avoid.has(provider.id))!);
  }, deps).then((outcome) => ({ outcome, runs }));
}

describe("Golem executor: which chunks are cross-checked", function () {
  it("audits a provider's first chunks, then only the drawn share", async function () {
    const reputation = new ProviderReputation();
    const audits: unknown[] = [];
    for (let chunk = 0; chunk < 5; chunk++) audits.push((await runChunk(reputation, PROVIDERS[0]!, 0.5)).outcome.computedBy.audit);
    expect(audits.slice(0, 3)).to.deep.equal(Array(3).fill({ providers: 2, agreed: true }));
    expect(audits.slice(3)).to.deep.equal(["unaudited", "unaudited"]);
    // A draw under the rate is audited.
    expect((await runChunk(reputation, PROVIDERS[0]!, 0.05)).outcome.computedBy.audit).to.deep.equal({ providers: 2, agreed: true });
  });

  it("audits every chunk of a provider whose attempts often fail", async function () {
    const reputation = new ProviderReputation();
    const doubtful = PROVIDERS[1]!;
    for (let chunk = 0; chunk < 3; chunk++) await runChunk(reputation, doubtful, 0.5);
    expect((await runChunk(reputation, doubtful, 0.5)).outcome.computedBy.audit).to.equal("unaudited");
    // Failed attempts bring its success share under the threshold: it is checked again.
    const failures = Math.ceil(reputation.record(doubtful).chunks * (1 / DOUBTFUL_SUCCESS_SHARE - 1)) + 1;
    for (let failure = 0; failure < failures; failure++) reputation.failed(doubtful);
    expect(reputation.record(doubtful).chunks + reputation.record(doubtful).failures).to.be.at.least(MIN_ATTEMPTS_FOR_RATE);
    expect(reputation.successShare(doubtful.id)).to.be.below(DOUBTFUL_SUCCESS_SHARE);
    const { outcome, runs } = await runChunk(reputation, doubtful, 0.5);
    expect(outcome.computedBy.audit).to.deep.equal({ providers: 2, agreed: true });
    expect(runs).to.equal(2);
  });
});
