/**
 * What cross-checking Golem providers costs, and what it catches: the Golem executor on
 * the devnet (3 providers, one of them lying from its first chunk on: valid results
 * files, wrong classes) runs ARGUS_BENCH_REQUESTS requests (default 200) in chunks of 8
 * shared photos, 3 at a time (the pool cross-checks need), with the default audit policy (a provider's first 3
 * chunks, then 10%). Every answer given out is compared with the engine run here.
 *
 *   npm run bench:audit       (needs the built image: npm run build:provider-image)
 *
 * The last line is one JSON object: {requests, auditRate, auditFirstChunks, chunks,
 * providerRuns, extraProviderSeconds, extraGlm, glm, wrongPosted, liarsBanned}.
 * "Extra" is every attempt after a chunk's first successful one: the audits and
 * tie-breaks. wrongPosted counts answers the executor gave out whose top class differs
 * from this machine's engine (the int8 path is exact, so the same on every CPU).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Chunk, ChunkOutcome } from "@argus/oracle/executors/executor";
import { createEngine } from "@argus/provider-image/engine";
import { rawCidOfBytes } from "@argus/provider-image/file-cid";
import type { ClassificationResult } from "@argus/protocol/result";
import { REPO_ROOT, SHARED_IMAGES_DIR, SHARED_MODELS_DIR, sharedImage } from "../../test/support/shared.ts";
import { executorOn, MODEL_ID } from "../../test/golem-devnet/support/executor-run.ts";
import { providerSpecs, startDevnet } from "../../test/golem-devnet/support/yagna-harness.ts";

const REQUESTS = Number(process.env.ARGUS_BENCH_REQUESTS ?? 200);
const PER_CHUNK = 8;
const AT_ONCE = 3;
const AUDIT = { auditRate: 0.1, auditFirstChunks: 3 };
const PHOTOS = ["wml_cat.jpg", "ortx_pineapple.png", "wonnx_bald_eagle.jpeg", "glow_dog_207.png", "mlg_kitten.jpg", "wml_kitten.jpg"];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const topClass = (result: unknown) => (result as ClassificationResult).top5?.[0]?.classIndex;

const manifest = JSON.parse(await readFile(join(REPO_ROOT, "provider-image/manifests", `${MODEL_ID}.json`), "utf8")) as {
  weights: { sha256: string };
};
const photos = await Promise.all(
  PHOTOS.map(async (name) => {
    const bytes = new Uint8Array(await readFile(sharedImage(name)));
    return { name, bytes, cid: await rawCidOfBytes(bytes) };
  }),
);
const engine = createEngine({ referencePhotosDir: SHARED_IMAGES_DIR, modelsDir: SHARED_MODELS_DIR });
const honest = new Map<string, number | undefined>();
for (const [index, photo] of photos.entries()) {
  const [result] = await engine.run(MODEL_ID, [{ requestId: String(index + 1), imageCid: photo.cid, image: { bytes: photo.bytes } }]);
  honest.set(photo.name, topClass(result));
}

const handle = await startDevnet({ providers: providerSpecs(3, { threads: 2, memoryGib: 4 }) });
const { devnet } = handle;
const run = await executorOn(handle, { poolSize: AT_ONCE, maxAttempts: 3, ...AUDIT });

let nextRequest = 1;
function chunkOf(count: number, index: number): Chunk {
  const requests = Array.from({ length: count }, (_, offset) => {
    const photo = photos[(index * PER_CHUNK + offset) % photos.length]!;
    return { requestId: String(nextRequest++), imageCid: photo.cid, imageFile: photo.name };
  });
  return {
    id: `bench-audit-${index}`,
    batch: { batchVersion: 1, modelId: MODEL_ID, requests },
    images: new Map(photos.map((photo) => [photo.name, photo.bytes])),
    weightsSha256: manifest.weights.sha256,
    providerImageHash: `0x${handle.hash}00000000`,
  };
}

const chunks = Array.from({ length: Math.ceil(REQUESTS / PER_CHUNK) }, (_, index) =>
  chunkOf(Math.min(PER_CHUNK, REQUESTS - index * PER_CHUNK), index),
);
const outcomes: { chunk: Chunk; outcome: ChunkOutcome }[] = [];
let liar: string | undefined;
const started = performance.now();
try {
  // The provider of the first activity lies from then on.
  const watch = (async () => {
    while (devnet.view.activities().length === 0) await sleep(5);
    liar = devnet.view.activities()[0]!.providerId;
    devnet.setFaults(liar, { lie: true });
  })();
  let next = 0;
  await Promise.all(
    Array.from({ length: AT_ONCE }, async () => {
      while (next < chunks.length) {
        const chunk = chunks[next++]!;
        outcomes.push({ chunk, outcome: await run.executor.run(chunk) });
      }
    }),
  );
  await watch;
} finally {
  await run.executor.close();
  await handle.close();
}
const seconds = (performance.now() - started) / 1000;

let wrongPosted = 0;
for (const { chunk, outcome } of outcomes) {
  outcome.results.forEach((result, index) => {
    if (topClass(result) !== honest.get(chunk.batch.requests[index]!.imageFile)) wrongPosted += 1;
  });
}
// Per chunk, attempts after its first successful one are the cross-checks' (audits and tie-breaks).
let extraMs = 0;
let extraGlm = 0;
let glm = 0;
const seenOk = new Set<string>();
for (const attempt of run.attempts) {
  glm += attempt.estimatedCost;
  if (seenOk.has(attempt.chunkId)) {
    extraMs += attempt.durationMs;
    extraGlm += attempt.estimatedCost;
  } else if (attempt.outcome === "ok") seenOk.add(attempt.chunkId);
}
const records = run.executor.providers();
const liarsBanned = records.filter((record) => record.id === liar && record.outvoted > 0).length;
const liarChunks = records.find((record) => record.id === liar)?.chunks ?? 0;
console.log(
  `${REQUESTS} requests in ${chunks.length} chunks, ${seconds.toFixed(1)} s: ${run.attempts.length} provider runs, ` +
    `${(extraMs / 1000).toFixed(1)} provider-seconds and ${extraGlm.toFixed(4)} of ${glm.toFixed(4)} GLM on cross-checks; ` +
    `the liar ran ${liarChunks} chunk(s) and was ${liarsBanned ? "banned" : "NOT banned"}; ${wrongPosted} wrong answers given out`,
);
for (const record of records)
  console.log(`  ${record.name} ${record.id}: ${JSON.stringify({ ...record, id: undefined, name: undefined })}`);
console.log(
  JSON.stringify({
    requests: REQUESTS,
    auditRate: AUDIT.auditRate,
    auditFirstChunks: AUDIT.auditFirstChunks,
    chunks: chunks.length,
    providerRuns: run.attempts.length,
    extraProviderSeconds: Math.round(extraMs / 100) / 10,
    extraGlm: Math.round(extraGlm * 1e6) / 1e6,
    glm: Math.round(glm * 1e6) / 1e6,
    wrongPosted,
    liarsBanned,
  }),
);
