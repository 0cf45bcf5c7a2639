/**
 * `npm run bench:inference [-- --model ID --runs N --models-dir DIR]`
 *
 * Times a batch of 16 real photos (../shared/images, repeated to 16) through the
 * engine three ways and prints the median of several runs:
 * - full: `engine.run` — read, decode, preprocess, inference, results;
 * - decode only: the same path without the network (`engine.decodeOnly`);
 * - inference only: `session.run` on an already prepared batch tensor.
 * The last line is one JSON object, for scripts and CI logs.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createEngine } from "../provider-image/src/engine.ts";
import { inputDims, toOrtTensor } from "../provider-image/src/input-tensor.ts";
import { SHARED_IMAGES_DIR, SHARED_MODELS_DIR } from "../test/support/shared.ts";

const BATCH = 16;
const { values: flags } = parseArgs({
  options: {
    model: { type: "string", default: "mobilenetv2-12-int8" },
    runs: { type: "string", default: "9" },
    "models-dir": { type: "string" },
  },
});
const modelId = flags.model;
const runs = Number(flags.runs);
const modelsDir = flags["models-dir"] ?? process.env.ARGUS_MODELS_DIR ?? SHARED_MODELS_DIR;

const photoNames = (await readdir(SHARED_IMAGES_DIR)).filter((name) => /\.(jpe?g|png|webp|gif|avif)$/i.test(name)).sort();
if (photoNames.length === 0) throw new Error(`no photos in ${SHARED_IMAGES_DIR} (set ARGUS_SHARED_DIR)`);
const photos = await Promise.all(photoNames.map((name) => readFile(join(SHARED_IMAGES_DIR, name))));
const batch = Array.from({ length: BATCH }, (_, index) => ({ bytes: photos[index % photos.length]! }));
const requests = batch.map((image, index) => ({
  requestId: String(index + 1),
  imageCid: "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy",
  image,
}));

const engine = createEngine({ modelsDir });
const model = await engine.load(modelId);
const [prepared] = await engine.decodeOnly(modelId, batch);
if (prepared === undefined) throw new Error("no photo decoded");
const feeds = { [model.manifest.input.name]: toOrtTensor(prepared.data, inputDims(model.manifest, prepared.runSize)) };

/** Median wall time of `runs` runs of `task`, after one warm-up run. */
async function medianMs(task: () => Promise<unknown>): Promise<number> {
  await task();
  const times: number[] = [];
  for (let run = 0; run < runs; run++) {
    const started = performance.now();
    await task();
    times.push(performance.now() - started);
  }
  if (process.env.BENCH_DEBUG) console.log(times.map((t) => t.toFixed(0)).join(' '));
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

const fullMs = await medianMs(async () => {
  const results = await engine.run(modelId, requests);
  const failed = results.filter((result) => "error" in result);
  if (failed.length > 0) throw new Error(`${failed.length} photos failed: ${JSON.stringify(failed[0])}`);
});
const decodeMs = await medianMs(() => engine.decodeOnly(modelId, batch));
const inferenceMs = await medianMs(() =>
  // A fixed-batch model takes its chunk one image at a time: time the same number of runs.
  model.fixedBatchSize === null ? model.session.run(feeds) : (async () => { for (let i = 0; i < BATCH; i++) await model.session.run(feeds); })(),
);

const perSecond = (ms: number) => Math.round((BATCH * 1000 * 10) / ms) / 10;
console.log(`${modelId}: ${BATCH} photos, median of ${runs} runs (${photoNames.length} distinct photos, ${model.fixedBatchSize === null ? "one batched session.run" : "one session.run per image"})`);
console.log(`  full pipeline   ${fullMs.toFixed(1)} ms  ${perSecond(fullMs)} images/s`);
console.log(`  decode only     ${decodeMs.toFixed(1)} ms  ${perSecond(decodeMs)} images/s`);
console.log(`  inference only  ${inferenceMs.toFixed(1)} ms  ${perSecond(inferenceMs)} images/s`);
console.log(`  full / decode-only = ${(fullMs / decodeMs).toFixed(2)}×`);
console.log(
  JSON.stringify({
    model: modelId,
    batch: BATCH,
    imagesPerSecond: perSecond(fullMs),
    decodeOnlyImagesPerSecond: perSecond(decodeMs),
    inferenceOnlyImagesPerSecond: perSecond(inferenceMs),
  }),
);
