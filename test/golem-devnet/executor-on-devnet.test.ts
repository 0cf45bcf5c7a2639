/**
 * Acceptance: the oracle's real Golem executor on the devnet. No `override`: golem-js
 * talks to the emulated yagna over HTTP and WebSocket, the chunk is uploaded over the
 * GSB API, and the provider image's entry command runs inside the real .gvmi in the
 * exe-unit's sandbox. Only the URLs differ from a real deployment.
 *
 * Skipped (saying why) without the shared photos and models, the built image, or
 * bubblewrap/squashfs-tools.
 */
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { expect } from "chai";
import { expectClose } from "../support/close-to.ts";
import sharp from "sharp";
import type { BatchRequest } from "@argus/protocol/batch";
import { MAX_BATCH_SIZE, MAX_IMAGE_BYTES } from "@argus/protocol/limits";
import type { ClassificationResult, InferenceResult } from "@argus/protocol/result";
import type { Chunk } from "@argus/oracle/executors/executor";
import { createGolemExecutor } from "@argus/oracle/executors/golem";
import type { AttemptReport, GolemExecutor } from "@argus/oracle/executors/golem";
import type { AgreementCost } from "@argus/oracle/executors/golem/costs";
import type { GolemExecutorConfigInput } from "@argus/oracle/executors/golem/config";
import { createEngine } from "@argus/provider-image/engine";
import { rawCidOfBytes } from "@argus/provider-image/file-cid";
import type { GolemDevnet } from "@argus/golem-devnet/devnet";
import { REPO_ROOT, requireSharedData, SHARED_IMAGES_DIR, SHARED_MODELS_DIR, sharedImage } from "../support/shared.ts";
import { ensureProviderImage, type DevnetHandle, eventually, providerSpecs, startDevnet } from "./support/yagna-harness.ts";

const MODEL_ID = "mobilenetv2-12-int8";

interface Expectation {
  accept: number[];
  name: string;
}

describe("golem-devnet acceptance: the oracle's Golem executor on the devnet", function () {
  this.timeout(600_000);
  let handle: DevnetHandle | undefined;
  let executor: GolemExecutor | undefined;
  let weightsSha256: string;
  let expected: Record<string, Expectation>;
  let chunkCount = 0;

  before(async function () {
    requireSharedData(this);
    await ensureProviderImage(this);
    const manifest = JSON.parse(await readFile(join(REPO_ROOT, "provider-image/manifests", `${MODEL_ID}.json`), "utf8")) as {
      weights: { sha256: string };
    };
    weightsSha256 = manifest.weights.sha256;
    expected = JSON.parse(await readFile(sharedImage("expected.json"), "utf8")) as Record<string, Expectation>;
  });

  afterEach(async function () {
    await executor?.close();
    executor = undefined;
    await handle?.close();
    handle = undefined;
  });

  interface Run {
    devnet: GolemDevnet;
    executor: GolemExecutor;
    attempts: AttemptReport[];
    costs: AgreementCost[];
  }

  async function start(
    config: GolemExecutorConfigInput = {},
    providers = 3,
    onAttempt?: (report: AttemptReport, devnet: GolemDevnet) => void,
  ): Promise<Run> {
    handle = await startDevnet({ providers: providerSpecs(providers, { threads: 2, memoryGib: 4 }) });
    const { devnet } = handle;
    const attempts: AttemptReport[] = [];
    const costs: AgreementCost[] = [];
    executor = createGolemExecutor(
      {
        apiKey: devnet.appKey,
        apiUrl: devnet.url,
        paymentNetwork: "hoodi",
        minCpuThreads: 2,
        minMemGib: 2,
        minStorageGib: 4,
        poolSize: 1,
        maxAttempts: 3,
        // Cross-checks have their own suite (executor-audit.test.ts).
        auditRate: 0,
        auditFirstChunks: 0,
        acquireTimeoutMs: 60_000,
        attemptTimeoutMs: 180_000,
        finalizeTimeoutMs: 30_000,
        ...config,
      },
      {
        hooks: {
          onAttempt: (report) => {
            attempts.push(report);
            onAttempt?.(report, devnet);
          },
          onAgreementCost: (cost) => costs.push(cost),
        },
      },
    );
    return { devnet, executor, attempts, costs };
  }

  async function chunkOf(files: Map<string, Uint8Array>, order: string[] = [...files.keys()]): Promise<Chunk> {
    const id = `devnet-chunk-${++chunkCount}`;
    const requests: BatchRequest[] = [];
    for (const [index, name] of order.entries()) {
      requests.push({ requestId: String(chunkCount * 100 + index), imageCid: await rawCidOfBytes(files.get(name)!), imageFile: name });
    }
    return {
      id,
      batch: { batchVersion: 1, modelId: MODEL_ID, requests },
      images: files,
      weightsSha256,
      providerImageHash: `0x${handle!.hash}00000000`,
    };
  }

  /** The 9 labelled photos and 7 re-encoded copies (other sizes, JPEG): 16 distinct files. */
  async function sixteenPhotos(): Promise<{ files: Map<string, Uint8Array>; labels: Map<string, Expectation> }> {
    const files = new Map<string, Uint8Array>();
    const labels = new Map<string, Expectation>();
    const names = Object.keys(expected).sort();
    for (const name of names) {
      files.set(name, new Uint8Array(await readFile(sharedImage(name))));
      labels.set(name, expected[name]!);
    }
    for (const [index, name] of names
      .filter((entry) => !entry.startsWith("ortx_cat"))
      .slice(0, 7)
      .entries()) {
      const copy = `copy-${index}-${name.replace(/\.\w+$/, "")}.jpg`;
      files.set(
        copy,
        new Uint8Array(
          await sharp(files.get(name)!)
            .resize({ width: 256 + 32 * index })
            .jpeg({ quality: 90 })
            .toBuffer(),
        ),
      );
      labels.set(copy, expected[name]!);
    }
    return { files, labels };
  }

  const topClass = (result: InferenceResult) => (result as ClassificationResult).top5?.[0]?.classIndex;

  /** Every debit note and invoice accepted before its deadline, and the allocation spent exactly the invoices. */
  function expectPaidInFull(devnet: GolemDevnet, costs: AgreementCost[]): void {
    const notes = devnet.view.debitNotes();
    expect(
      notes.filter((note) => !note.acceptedInTime),
      "debit notes accepted late or never",
    ).to.deep.equal([]);
    const invoices = devnet.view.invoices();
    expect(invoices.map((invoice) => invoice.agreementId).sort()).to.deep.equal(
      devnet.view
        .agreements()
        .map((agreement) => agreement.id)
        .sort(),
    );
    expect(invoices.filter((invoice) => invoice.status !== "ACCEPTED")).to.deep.equal([]);
    const invoiced = invoices.reduce((sum, invoice) => sum + Number(invoice.amount), 0);
    const spent = devnet.view.allocations().reduce((sum, allocation) => sum + Number(allocation.spentAmount), 0);
    expectClose(spent, invoiced, 1e-15);
    expect(devnet.status().glmSpent).to.equal(devnet.status().invoicedGlm);
    expectClose(
      costs.reduce((sum, cost) => sum + cost.amount, 0),
      invoiced,
      1e-12,
    );
    expect(devnet.view.allocations().every((allocation) => allocation.released)).to.equal(true);
  }

  it("runs a chunk of 16 photos inside the image with the right top-1, and pays every debit note and invoice in time", async function () {
    const { devnet, executor, attempts, costs } = await start();
    const { files, labels } = await sixteenPhotos();
    const chunk = await chunkOf(files);
    expect(chunk.batch.requests).to.have.length(16);

    const started = performance.now();
    const outcome = await executor.run(chunk);
    const firstMs = performance.now() - started;
    expect(outcome.attempts).to.equal(1);
    expect(devnet.providers, "the outcome names the provider, id and name").to.deep.include(outcome.computedBy.provider);
    expect(outcome.results.map((result) => result.requestId)).to.deep.equal(chunk.batch.requests.map((request) => request.requestId));

    // the same answers as the engine on this machine, and the labels' classes (MobileNetV2-int8 takes the orange kitten for a hare)
    const engine = createEngine({ referencePhotosDir: SHARED_IMAGES_DIR, modelsDir: SHARED_MODELS_DIR });
    const local = await engine.run(
      MODEL_ID,
      chunk.batch.requests.map((request) => ({
        requestId: request.requestId,
        imageCid: request.imageCid,
        image: { bytes: files.get(request.imageFile)! },
      })),
    );
    expect(outcome.results.map(topClass)).to.deep.equal(local.map(topClass));
    const misses = chunk.batch.requests.filter(
      (request, index) => !labels.get(request.imageFile)!.accept.includes(topClass(outcome.results[index]!)!),
    );
    expect(misses.map((request) => request.imageFile)).to.deep.equal(["ortx_cat_224x224.jpg"]);

    // a second chunk reuses the deployed provider: no deploy, no new agreement
    const again = performance.now();
    const second = await executor.run(await chunkOf(files, [...files.keys()].slice(0, 4)));
    const secondMs = performance.now() - again;
    expect([second.attempts, second.computedBy.provider?.id]).to.deep.equal([1, outcome.computedBy.provider?.id]);
    expect(devnet.view.agreements()).to.have.length(1);
    console.log(
      `      16 photos on the devnet: ${(firstMs / 1000).toFixed(1)} s with deploy, 4 more on the deployed provider ${(secondMs / 1000).toFixed(1)} s`,
    );

    await executor.close();
    expect(attempts.map((report) => report.outcome)).to.deep.equal(["ok", "ok"]);
    // The engine the first chunk started in the VM answered the second: no second model load.
    const engines = attempts.map((report) => {
      const { engine, warm } = JSON.parse(report.summary!) as { engine: string; warm: boolean };
      return { engine, warm };
    });
    expect(engines).to.deep.equal([
      { engine: "resident", warm: false },
      { engine: "resident", warm: true },
    ]);
    expectPaidInFull(devnet, costs);
    expect(devnet.violations()).to.deep.equal([]);
  });

  it("retries a chunk on another provider when the first one crashes mid-chunk", async function () {
    const { devnet, executor, attempts, costs } = await start({}, 3, (report, net) => {
      // whichever provider crashed first, the others are healthy from now on
      if (report.outcome === "failed")
        for (const provider of net.providers) if (provider.id !== report.provider.id) net.setFaults(provider.id, {});
    });
    // 100 ms is inside the script's first commands on any machine (starting Node and loading onnxruntime alone
    // takes longer), so the crash always lands mid-script; 1.5 s let a quiet machine finish 6 photos first.
    for (const provider of devnet.providers) devnet.setFaults(provider.id, { crashAfterMs: 100 });
    const { files } = await sixteenPhotos();
    const outcome = await executor.run(await chunkOf(files, [...files.keys()].slice(0, 6)));
    expect(outcome.attempts).to.equal(2);
    expect(attempts.map((report) => report.outcome)).to.deep.equal(["failed", "ok"]);
    // The crash lands in whichever command runs at 100 ms: the folder clean-up or the entry command.
    expect(attempts[0]!.error).to.match(/(clearing the input folder|running the entry command) failed: .*the provider crashed/);
    expect(outcome.computedBy.provider?.id).to.not.equal(attempts[0]!.provider.id);
    expect(outcome.results).to.have.length(6);

    // the crashed provider's agreement was ended and paid; it is not rented again
    await eventually(
      () => devnet.view.agreements().find((agreement) => agreement.providerId === attempts[0]!.provider.id)?.state === "Terminated",
      30_000,
      "the crashed provider's agreement to end",
    );
    await executor.close();
    expect(devnet.view.agreements().filter((agreement) => agreement.providerId === attempts[0]!.provider.id)).to.have.length(1);
    expectPaidInFull(devnet, costs);
    expect(devnet.violations()).to.deep.equal([]);
  });

  it("rejects a results file that fails validation, bans that provider, and takes the answer from another", async function () {
    const { devnet, executor, attempts, costs } = await start({ poolSize: 2 }, 3, (report, net) => {
      if (report.outcome === "invalid-results")
        for (const provider of net.providers) if (provider.id !== report.provider.id) net.setFaults(provider.id, {});
    });
    for (const provider of devnet.providers) devnet.setFaults(provider.id, { invalidResults: true });
    const { files } = await sixteenPhotos();
    const names = [...files.keys()];
    const outcome = await executor.run(await chunkOf(files, names.slice(0, 3)));
    expect(attempts.map((report) => report.outcome)).to.deep.equal(["invalid-results", "ok"]);
    const banned = attempts[0]!.provider.id;
    expect(outcome.computedBy.provider?.id).to.not.equal(banned);

    // two chunks at once need two providers: the banned one is not among them
    const more = await Promise.all([
      executor.run(await chunkOf(files, names.slice(3, 5))),
      executor.run(await chunkOf(files, names.slice(5, 7))),
    ]);
    expect(more.map((entry) => entry.computedBy.provider?.id)).to.not.include(banned);
    expect(devnet.view.agreements().filter((agreement) => agreement.providerId === banned)).to.have.length(1);
    await executor.close();
    expectPaidInFull(devnet, costs);
    expect(devnet.violations()).to.deep.equal([]);
  });

  it("moves a 32 MiB chunk (16 images at the 2 MiB limit) over the GSB transfers", async function () {
    const { devnet, executor, costs } = await start({}, 2);
    const files = new Map<string, Uint8Array>();
    const side = 835; // an RGB PNG of noise this size is just under MAX_IMAGE_BYTES
    for (let index = 0; index < MAX_BATCH_SIZE; index++) {
      const noise = randomBytes(side * side * 3); // incompressible, so the PNG keeps its size
      const png = await sharp(noise, { raw: { width: side, height: side, channels: 3 } })
        .png({ compressionLevel: 0 })
        .toBuffer();
      expect(png.length).to.be.within(MAX_IMAGE_BYTES - 64 * 1024, MAX_IMAGE_BYTES);
      files.set(`noise-${index}.png`, new Uint8Array(png));
    }
    const total = [...files.values()].reduce((sum, bytes) => sum + bytes.length, 0);
    expect(total).to.be.above(31.5 * 1024 * 1024);
    const started = performance.now();
    const outcome = await executor.run(await chunkOf(files));
    console.log(
      `      ${(total / 1024 / 1024).toFixed(1)} MiB chunk on the devnet: ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    expect(outcome.attempts).to.equal(1);
    expect(outcome.results).to.have.length(16);
    expect(outcome.results.every((result) => !("error" in result) && result.task === "classification")).to.equal(true);
    await executor.close();
    expectPaidInFull(devnet, costs);
    expect(devnet.violations()).to.deep.equal([]);
  });
});
