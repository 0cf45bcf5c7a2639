/**
 * `npm run bench:inference [-- --model ID --runs N --models-dir DIR --int8-path PATH]`
 *
 * Times a batch of 16 real photos (../shared/images, repeated to 16) through the
 * engine three ways and prints the median of several rounds:
 * - full: `engine.run` — read, decode, preprocess, inference, results;
 * - decode only: the same path without the network (`engine.decodeOnly`);
 * - inference only: `session.run` on an already prepared batch tensor.
 * Also reported: CPU time per image, which other load on the machine barely moves, and
 * the best full / decode-only ratio those CPU times allow with every core busy. For an
 * int8 model it names the inference path this CPU uses (the fastest that gives the
 * reference's bits; `--int8-path` forces one) and, for comparison, the inference-only
 * CPU time of every path that is exact here.
 * The last line is one JSON object, for scripts and CI logs.
 */
import { readdir, readFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createEngine } from "@argus/provider-image/engine";
import { INT8_PATHS, type Int8Path, probeAllPaths } from "@argus/provider-image/inference-path";
import { inputDims, toOrtTensor } from "@argus/provider-image/input-tensor";
import { SHARED_IMAGES_DIR, SHARED_MODELS_DIR } from "../../test/support/shared.ts";

const BATCH = 16;
const { values: flags } = parseArgs({
  options: {
    model: { type: "string", default: "mobilenetv2-12-int8" },
    runs: { type: "string", default: "11" },
    "models-dir": { type: "string" },
    "int8-path": { type: "string" },
  },
});
const int8Path = flags["int8-path"] as Int8Path | undefined;
if (int8Path !== undefined && !INT8_PATHS.includes(int8Path)) throw new Error(`--int8-path must be one of ${INT8_PATHS.join(", ")}`);
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

const engine = createEngine({ modelsDir, int8Path });
const model = await engine.load(modelId);
const [prepared] = await engine.decodeOnly(modelId, batch);
if (prepared === undefined) throw new Error("no photo decoded");
const feeds = { [model.inputName]: toOrtTensor(prepared.data, inputDims(model.manifest, prepared.runSize)) };

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
    // A fixed-batch model takes its chunk one image at a time: time as many runs.
    task: async () => {
      for (let run = 0; run < (model.fixedBatchSize === null ? 1 : BATCH); run++) await model.session.run(feeds);
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

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const [fullMs, decodeMs, inferenceMs] = stages.map((stage) => median(stage.wallMs)) as [number, number, number];
const perSecond = (ms: number) => Math.round((BATCH * 1000 * 10) / ms) / 10;
console.log(
  `${modelId}: ${BATCH} photos (${photoNames.length} distinct), median of ${runs} rounds, ` +
    `${model.fixedBatchSize === null ? "one batched session.run" : "one session.run per image"}, ${availableParallelism()} cores, ` +
    `inference path ${model.inferencePath}`,
);
for (const stage of stages) {
  const wall = median(stage.wallMs);
  const cpuPerImage = median(stage.cpuMs) / BATCH;
  const best = Math.min(...stage.wallMs);
  console.log(
    `  ${stage.name.padEnd(15)} ${wall.toFixed(1).padStart(7)} ms  ${String(perSecond(wall)).padStart(6)} images/s` +
      `  (best ${String(perSecond(best)).padStart(6)})  ${cpuPerImage.toFixed(1)} CPU-ms per image`,
  );
}
console.log(`  full / decode-only = ${(fullMs / decodeMs).toFixed(2)}×`);
// The network and the decoder draw on the same cores, so even with every core busy all
// the time the full pipeline needs their summed CPU time divided by the cores: the best
// ratio this machine allows, whatever the engine does.
const [decodeCpu, inferenceCpu] = [stages[1]!, stages[2]!].map((stage) => median(stage.cpuMs) / BATCH) as [number, number];
const fullFloorMs = ((decodeCpu + inferenceCpu) * BATCH) / availableParallelism();
console.log(
  `  CPU floor: (decode ${decodeCpu.toFixed(1)} + inference ${inferenceCpu.toFixed(1)} CPU-ms) × ${BATCH} photos / ${availableParallelism()} cores = ` +
    `${fullFloorMs.toFixed(1)} ms, so full / decode-only ≥ ${(fullFloorMs / decodeMs).toFixed(2)}× on this machine`,
);

// Every int8 path that gives the reference's bits on this CPU, inference only, same batch.
const pathCpuMs: Partial<Record<Int8Path, number>> = {};
if (model.inferencePath !== "native-float") {
  const exact = await probeAllPaths();
  for (const path of INT8_PATHS.filter((candidate) => exact[candidate])) {
    const other = await createEngine({ modelsDir, int8Path: path }).load(modelId);
    await other.session.run(feeds);
    const samples: number[] = [];
    for (let round = 0; round < Math.max(3, Math.floor(runs / 2)); round++) {
      const cpuBefore = process.cpuUsage();
      await other.session.run(feeds);
      const cpu = process.cpuUsage(cpuBefore);
      samples.push((cpu.user + cpu.system) / 1000 / BATCH);
    }
    pathCpuMs[path] = Math.round(median(samples) * 100) / 100;
  }
  const chosenCpu = pathCpuMs[model.inferencePath as Int8Path];
  console.log(
    `  int8 paths exact on this CPU, inference CPU-ms per image: ` +
      Object.entries(pathCpuMs)
        .map(([path, ms]) => `${path} ${ms}${chosenCpu ? ` (${(ms / chosenCpu).toFixed(2)}×)` : ""}`)
        .join(", "),
  );
}
const cpuPerImage = (stage: Stage) => Math.round((median(stage.cpuMs) / BATCH) * 100) / 100;
console.log(
  JSON.stringify({
    model: modelId,
    batch: BATCH,
    inferencePath: model.inferencePath,
    imagesPerSecond: perSecond(fullMs),
    decodeOnlyImagesPerSecond: perSecond(decodeMs),
    inferenceOnlyImagesPerSecond: perSecond(inferenceMs),
    fullCpuMsPerImage: cpuPerImage(stages[0]!),
    inferenceCpuMsPerImage: cpuPerImage(stages[2]!),
    exactPathsInferenceCpuMsPerImage: pathCpuMs,
  }),
);
