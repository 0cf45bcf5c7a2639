/**
 * `npm run bench:inference [-- --model ID --runs N --models-dir DIR --int8-path PATH --intra-op-threads N]`
 *
 * Times a batch of 16 real photos (../shared/images, repeated to 16) through the
 * engine and prints the median of several rounds:
 * - full: `engine.run` — read, decode, preprocess, inference, results;
 * - decode only: the same path without the network (`engine.decodeOnly`);
 * - inference only: `session.run` on an already prepared batch tensor (one run for a
 *   dynamic batch dimension, one per image for a fixed one).
 * The network and the decoder draw on the same cores, so no engine can do the full
 * pipeline faster than the CPU floor: (decode + inference CPU time per photo) × photos
 * / cores. `floorRatio` is the full pipeline's wall time over that floor — 1.0 means
 * every core was busy with useful work the whole time, whatever the CPU.
 *
 * A shared host makes the same work cost more CPU in some rounds than in others, and
 * such a round moves the floor and the pipeline alike. So the JSON also gives each
 * round's own ratio (its pipeline over its own floor: quartiles) and how far the
 * batch's CPU cost drifted between rounds (`cpuDrift`: interquartile range of the full
 * pipeline's CPU time over its median). A run with a wide drift says more about the
 * host than about the engine.
 *
 * A round's ratio is `cpuOverhead / coreUse`, which the JSON gives apart (medians over
 * rounds): `cpuOverhead`, the full pipeline's CPU time over decode + inference CPU time
 * (work the stages alone do not do, and the cost of running them side by side on shared
 * caches), and `coreUse`, the full pipeline's CPU time over cores × its wall time (how
 * busy it kept the cores). `decodeFloorRatio` is decode only against its own floor
 * (decode CPU time / cores; median of rounds): the pipeline spends most of its CPU
 * decoding, so a host where decoding alone cannot keep the cores busy holds the full
 * pipeline's ratio up too, whatever the engine does around it.
 *
 * (The memory a chunk of the largest images needs is `npm run bench:engine-memory`.)
 * For an int8 model it names the inference path this CPU uses and the inference CPU
 * time of every path that is exact here. The last line is one JSON object (with the
 * 1-minute load average it ran under), for scripts and CI logs.
 */
import { readdir, readFile } from "node:fs/promises";
import { availableParallelism, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createEngine } from "@argus/provider-image/engine";
import { INT8_PATHS, type Int8Path, probeAllPaths } from "@argus/provider-image/inference-path";
import { allocateInputData, inputDims, toOrtTensor } from "@argus/provider-image/input-tensor";
import { SHARED_IMAGES_DIR, SHARED_MODELS_DIR } from "../../test/support/shared.ts";

const BATCH = 16;
const CID = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy";
const { values: flags } = parseArgs({
  options: {
    model: { type: "string", default: "mobilenetv2-12-int8" },
    runs: { type: "string", default: "11" },
    "models-dir": { type: "string" },
    "int8-path": { type: "string" },
    "intra-op-threads": { type: "string" },
  },
});
const int8Path = flags["int8-path"] as Int8Path | undefined;
if (int8Path !== undefined && !INT8_PATHS.includes(int8Path)) throw new Error(`--int8-path must be one of ${INT8_PATHS.join(", ")}`);
const modelId = flags.model;
const runs = Number(flags.runs);
const modelsDir = flags["models-dir"] ?? process.env.ARGUS_MODELS_DIR ?? SHARED_MODELS_DIR;
const intraOpThreads = flags["intra-op-threads"] === undefined ? undefined : Number(flags["intra-op-threads"]);
const engine = createEngine({ referencePhotosDir: SHARED_IMAGES_DIR, modelsDir, int8Path, intraOpThreads });
const round2 = (value: number) => Math.round(value * 100) / 100;
const requestsFor = (images: readonly { bytes: Uint8Array }[]) =>
  images.map((image, index) => ({ requestId: String(index + 1), imageCid: CID, image }));

const photoNames = (await readdir(SHARED_IMAGES_DIR)).filter((name) => /\.(jpe?g|png|webp|gif|avif)$/i.test(name)).sort();
if (photoNames.length === 0) throw new Error(`no photos in ${SHARED_IMAGES_DIR} (set ARGUS_SHARED_DIR)`);
const photos = await Promise.all(photoNames.map((name) => readFile(join(SHARED_IMAGES_DIR, name))));
const batch = Array.from({ length: BATCH }, (_, index) => ({ bytes: photos[index % photos.length]! }));
const requests = requestsFor(batch);

const model = await engine.load(modelId);
// Inference only: the batch's decoded images in one tensor, run the way the pipeline would at best.
const prepared = allocateInputData(model.manifest, BATCH);
const perImage = prepared.length / BATCH;
let placed = 0;
await engine.decodeOnly(modelId, batch, (chunk) => {
  prepared.set(chunk.data.subarray(0, chunk.slots.length * perImage), placed * perImage);
  placed += chunk.slots.length;
});
const runSize = model.fixedBatchSize ?? BATCH;
const inferenceRuns = Array.from({ length: BATCH / runSize }, (_, run) => ({
  [model.inputName]: toOrtTensor(
    prepared.subarray(run * runSize * perImage, (run + 1) * runSize * perImage),
    inputDims(model.manifest, runSize),
  ),
}));

interface Stage {
  name: string;
  task: () => Promise<unknown>;
  wallMs: number[];
  cpuMs: number[];
}

const stages: Stage[] = [
  {
    name: "full pipeline",
    task: async () => {
      const results = await engine.run(modelId, requests);
      const failed = results.filter((result) => "error" in result);
      if (failed.length > 0) throw new Error(`${failed.length} photos failed: ${JSON.stringify(failed[0])}`);
    },
  },
  { name: "decode only", task: () => engine.decodeOnly(modelId, batch) },
  {
    name: "inference only",
    task: async () => {
      for (const feeds of inferenceRuns) await model.session.run(feeds);
    },
  },
].map((stage) => ({ ...stage, wallMs: [], cpuMs: [] }));

// Rounds interleave the three measurements, so that whatever else the machine is doing
// weighs on all three alike; one warm-up round first.
for (let round = -1; round < runs; round++) {
  for (const stage of stages) {
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    await stage.task();
    const wallMs = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    if (round < 0) continue;
    stage.wallMs.push(wallMs);
    stage.cpuMs.push((cpu.user + cpu.system) / 1000);
  }
}

const quantile = (values: number[], q: number) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) * q + 0.5)]!;
const median = (values: number[]) => quantile(values, 0.5);
const cores = availableParallelism();
const [full, decode, inference] = stages as [Stage, Stage, Stage];
const floorCpuMs = decode.cpuMs.map((decodeMs, round) => decodeMs + inference.cpuMs[round]!); // per round
const roundRatios = full.wallMs.map((wallMs, round) => wallMs / (floorCpuMs[round]! / cores));
const cpuOverheads = full.cpuMs.map((cpuMs, round) => cpuMs / floorCpuMs[round]!);
const coreUses = full.cpuMs.map((cpuMs, round) => cpuMs / (cores * full.wallMs[round]!));
const decodeRatios = decode.wallMs.map((wallMs, round) => wallMs / (decode.cpuMs[round]! / cores));
const cpuDrift = (quantile(full.cpuMs, 0.75) - quantile(full.cpuMs, 0.25)) / median(full.cpuMs);
const perSecond = (ms: number) => Math.round((BATCH * 1000 * 10) / ms) / 10;
const cpuPerImage = (stage: Stage) => median(stage.cpuMs) / BATCH;
console.log(
  `${modelId}: ${BATCH} photos (${photoNames.length} distinct), median of ${runs} rounds, ` +
    `${model.fixedBatchSize === null ? "dynamic batch" : `fixed batch of ${model.fixedBatchSize}`}, ${cores} cores, ` +
    `inference path ${model.inferencePath}, ${model.intraOpThreads} onnxruntime thread${model.intraOpThreads === 1 ? "" : "s"}`,
);
for (const stage of stages) {
  const wall = median(stage.wallMs);
  console.log(
    `  ${stage.name.padEnd(15)} ${wall.toFixed(1).padStart(7)} ms  ${String(perSecond(wall)).padStart(6)} images/s` +
      `  (best ${String(perSecond(Math.min(...stage.wallMs))).padStart(6)})  ${cpuPerImage(stage).toFixed(2)} CPU-ms per image`,
  );
}
const fullMs = median(full.wallMs);
const floorMs = ((cpuPerImage(decode) + cpuPerImage(inference)) * BATCH) / cores;
console.log(
  `  CPU floor: (decode ${cpuPerImage(decode).toFixed(2)} + inference ${cpuPerImage(inference).toFixed(2)} CPU-ms) × ${BATCH} photos / ` +
    `${cores} cores = ${floorMs.toFixed(1)} ms; the full pipeline took ${(fullMs / floorMs).toFixed(2)}× that`,
);
console.log(
  `  each round against its own floor: ${quantile(roundRatios, 0.25).toFixed(2)}–${quantile(roundRatios, 0.75).toFixed(2)}× ` +
    `(quartiles); the batch's CPU cost drifted ${(100 * cpuDrift).toFixed(0)}% between rounds (interquartile range over median)`,
);
console.log(
  `  that ratio is CPU overhead ${median(cpuOverheads).toFixed(2)}× (full pipeline's CPU over decode + inference CPU) ` +
    `over core use ${median(coreUses).toFixed(2)} (its CPU over cores × wall time); medians of rounds`,
);
console.log(`  decode only against its own floor (decode CPU / ${cores} cores): ${median(decodeRatios).toFixed(2)}× (median of rounds)`);

// Every int8 path that gives the reference's bits on this CPU, inference only, same batch.
const pathCpuMs: Partial<Record<Int8Path, number>> = {};
if (model.inferencePath !== "native-float") {
  const exact = await probeAllPaths();
  for (const path of INT8_PATHS.filter((candidate) => exact[candidate])) {
    const other = await createEngine({ referencePhotosDir: SHARED_IMAGES_DIR, modelsDir, int8Path: path }).load(modelId);
    const samples: number[] = [];
    for (let round = -1; round < Math.max(3, Math.floor(runs / 2)); round++) {
      const cpuBefore = process.cpuUsage();
      for (const feeds of inferenceRuns) await other.session.run(feeds);
      const cpu = process.cpuUsage(cpuBefore);
      if (round >= 0) samples.push((cpu.user + cpu.system) / 1000 / BATCH);
    }
    pathCpuMs[path] = round2(median(samples));
  }
  const chosenCpu = pathCpuMs[model.inferencePath as Int8Path];
  console.log(
    `  int8 paths exact on this CPU, inference CPU-ms per image: ` +
      Object.entries(pathCpuMs)
        .map(([path, ms]) => `${path} ${ms}${chosenCpu ? ` (${(ms / chosenCpu).toFixed(2)}×)` : ""}`)
        .join(", "),
  );
}

console.log(
  JSON.stringify({
    model: modelId,
    batch: BATCH,
    cores,
    inferencePath: model.inferencePath,
    intraOpThreads: model.intraOpThreads,
    imagesPerSecond: perSecond(fullMs),
    fullMs: round2(fullMs),
    floorMs: round2(floorMs),
    floorRatio: round2(fullMs / floorMs),
    roundFloorRatio: {
      p25: round2(quantile(roundRatios, 0.25)),
      median: round2(median(roundRatios)),
      p75: round2(quantile(roundRatios, 0.75)),
    },
    cpuOverhead: round2(median(cpuOverheads)),
    coreUse: round2(median(coreUses)),
    decodeFloorRatio: round2(median(decodeRatios)),
    cpuDrift: round2(cpuDrift),
    decodeCpuMsPerImage: round2(cpuPerImage(decode)),
    inferenceCpuMsPerImage: round2(cpuPerImage(inference)),
    fullCpuMsPerImage: round2(cpuPerImage(full)),
    decodeOnlyImagesPerSecond: perSecond(median(decode.wallMs)),
    inferenceOnlyImagesPerSecond: perSecond(median(inference.wallMs)),
    exactPathsInferenceCpuMsPerImage: pathCpuMs,
    loadAverage1m: round2(loadavg()[0]!),
  }),
);
