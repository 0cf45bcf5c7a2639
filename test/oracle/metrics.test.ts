/**
 * The oracle's /metrics for Golem: chunks per provider, agreements, accepted debit notes
 * and invoices, GLM spent. The executor runs through golem-js with the fake yagna
 * services of support/golem-fakes.ts (real entry command, real models) and reports
 * through the hooks the oracle wires (golemMetricHooks) and the chunk accounting every
 * executor goes through (Economics); the Prometheus text is what a scrape returns.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { expect } from "chai";
import pino from "pino";
import type { Chunk } from "@argus/oracle/executors/executor";
import { createGolemExecutor } from "@argus/oracle/executors/golem";
import { DEFAULT_ENTRY_COMMAND } from "@argus/oracle/executors/golem/config";
import { createMetrics } from "@argus/oracle/metrics";
import { Economics } from "@argus/oracle/service/economics";
import { golemMetricHooks } from "@argus/oracle/service/executor-setup";
import { openDatabase } from "@argus/oracle/store/database";
import { RequestStore } from "@argus/oracle/store/request-store";
import { rawCidOfBytes } from "@argus/provider-image/file-cid";
import { REPO_ROOT, requireSharedData, SHARED_MODELS_DIR, sharedImage } from "../support/shared.ts";
import { FakeGolem } from "./support/golem-fakes.ts";

const [VM_NODE, VM_ENTRY] = DEFAULT_ENTRY_COMMAND;
const IMAGE_HASH = "5c385688be6ed4e339a43d8a68bfb674d60951b4970448ba20d1934d";

/** The value of one sample line (`name{labels} value`) of a Prometheus text exposition; undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  for (const line of text.split("\n")) {
    const match = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = match[2] ? match[2].split(",") : [];
    if (wanted.length === have.length && wanted.every((label) => have.includes(label))) return Number(match[3]);
  }
  return undefined;
}

describe("oracle metrics: Golem agreements, payments and chunks per provider", function () {
  this.timeout(120_000);

  before(function () {
    requireSharedData(this);
  });

  it("counts each chunk under the provider that computed it, each agreement, each accepted invoice and the GLM it paid", async function () {
    const golem = await FakeGolem.create([{ name: "alpha", invoiceGlm: "0.0375" }], {
      layout: {
        paths: { [VM_NODE]: process.execPath, [VM_ENTRY]: join(REPO_ROOT, "provider-image/src/bin/entry.ts") },
        env: { ARGUS_MODELS_DIR: SHARED_MODELS_DIR },
        entryProgram: VM_NODE,
      },
    });
    const metrics = createMetrics(new RequestStore(openDatabase(":memory:")));
    const economics = new Economics(metrics, pino({ level: "silent" }));
    const executor = createGolemExecutor(
      {
        paymentNetwork: "hoodi",
        imageUrl: "http://images.argus.test/{hash}.gvmi",
        imageHash: IMAGE_HASH,
        poolSize: 1,
        auditRate: 0,
        auditFirstChunks: 0,
        acquireTimeoutMs: 20_000,
        attemptTimeoutMs: 60_000,
        finalizeTimeoutMs: 10_000,
      },
      { override: golem.override(), hooks: golemMetricHooks(metrics) },
    );
    try {
      const manifest = JSON.parse(await readFile(join(REPO_ROOT, "provider-image/manifests/mobilenetv2-12-int8.json"), "utf8"));
      for (const [index, file] of ["wml_cat.jpg", "ortx_pineapple.png"].entries()) {
        const bytes = new Uint8Array(await readFile(sharedImage(file)));
        const chunk: Chunk = {
          id: `metrics-${index}`,
          batch: {
            batchVersion: 1,
            modelId: "mobilenetv2-12-int8",
            requests: [{ requestId: String(index + 1), imageCid: await rawCidOfBytes(bytes), imageFile: file }],
          },
          images: new Map([[file, bytes]]),
          weightsSha256: manifest.weights.sha256,
        };
        const started = Date.now();
        const outcome = await executor.run(chunk);
        economics.chunkDone({ chunkId: chunk.id, modelId: 2, size: 1, outcome, durationMs: Date.now() - started });
      }
    } finally {
      await executor.close(); // ends the agreement: its invoice arrives and is accepted
      await golem.dispose();
    }

    const alpha = golem.provider("alpha");
    const text = await metrics.registry.metrics();
    expect(sample(text, "argus_chunks_computed_total", { executor: "golem", provider: alpha.id, provider_name: "alpha" })).to.equal(2);
    expect(sample(text, "argus_golem_agreements_total", { provider: alpha.id, provider_name: "alpha" })).to.equal(1);
    expect(sample(text, "argus_golem_invoices_accepted_total", { provider: alpha.id })).to.equal(1);
    expect(sample(text, "argus_golem_cost_glm_total", { provider: alpha.id })).to.equal(0.0375);
    expect(sample(text, "argus_golem_allocations_created_total")).to.equal(1);
    // The fake providers send no debit notes; the emulated yagna's do (test/stack/golem-devnet.test.ts).
    expect(text).to.include("# TYPE argus_golem_debit_notes_accepted_total counter");
  });

  it("counts accepted debit notes per provider, and local chunks under the local executor", function () {
    const metrics = createMetrics(new RequestStore(openDatabase(":memory:")));
    const hooks = golemMetricHooks(metrics);
    const provider = { id: "0x0000000000000000000000000000000000000007", name: "seven" };
    for (const totalAmountDueGlm of [0.001, 0.002]) hooks.onDebitNoteAccepted?.({ agreementId: "a1", provider, totalAmountDueGlm });
    new Economics(metrics, pino({ level: "silent" })).chunkDone({
      chunkId: "c",
      modelId: 1,
      size: 3,
      outcome: { results: [], attempts: 1, computedBy: { executor: "local" }, cost: 0 },
      durationMs: 5,
    });
    return metrics.registry.metrics().then((text) => {
      expect(sample(text, "argus_golem_debit_notes_accepted_total", { provider: provider.id })).to.equal(2);
      expect(sample(text, "argus_chunks_computed_total", { executor: "local", provider: "", provider_name: "" })).to.equal(1);
    });
  });
});
