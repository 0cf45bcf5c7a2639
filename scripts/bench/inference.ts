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
 * It also measures, in a fresh child process, the memory peak (max RSS) of one
 * 16-photo chunk at the largest image the engine accepts (ARGUS_MAX_IMAGE_PIXELS,
 * within ARGUS_MAX_IMAGE_BYTES): what the provider image's memory requirement must cover.
 * For an int8 model it names the inference path this CPU uses and the inference CPU
 * time of every path that is exact here. The last line is one JSON object (with the
 * 1-minute load average it ran under), for scripts and CI logs.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import sharp from "sharp";
import { createEngine } from "@argus/provider-image/engine";
import { DEFAULT_IMAGE_LIMITS } from "@argus/provider-image/image-limits";
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
    "memory-child": { type: "string" },
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

if (flags["memory-child"] !== undefined) {
  await measureMemoryPeak(flags["memory-child"]);
  process.exit(0);
}

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
for (const chunk of await engine.decodeOnly(modelId, batch)) {
  prepared.set(chunk.data.subarray(0, chunk.slots.length * perImage), placed * perImage);
  placed += chunk.slots.length;
}
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

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const cores = availableParallelism();
const [full, decode, inference] = stages as [Stage, Stage, Stage];
const perSecond = (ms: number) => Math.round((BATCH * 1000 * 10) / ms) / 10;
const cpuPerImage = (stage: Stage) => median(stage.cpuMs) / BATCH;
console.log(
  `${modelId}: ${BATCH} photos (${photoNames.length} distinct), median of ${runs} rounds, ` +
    `${model.fixedBatchSize === null ? "dynamic batch" : `fixed batch of ${model.fixedBatchSize}`}, ${cores} cores, ` +
    `inference path ${model.inferencePath}`,
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

const memory = await memoryPeakInChild();
console.log(
  `  memory: ${memory.afterLoadMiB} MiB after loading the model, peak ${memory.peakMiB} MiB running ${BATCH} ${memory.format} images of ` +
    `${memory.width}×${memory.height} (${memory.megapixels} MP, ${memory.fileKiB} KiB each)`,
);
console.log(
  JSON.stringify({
    model: modelId,
    batch: BATCH,
    cores,
    inferencePath: model.inferencePath,
    imagesPerSecond: perSecond(fullMs),
    fullMs: round2(fullMs),
    floorMs: round2(floorMs),
    floorRatio: round2(fullMs / floorMs),
    decodeCpuMsPerImage: round2(cpuPerImage(decode)),
    inferenceCpuMsPerImage: round2(cpuPerImage(inference)),
    fullCpuMsPerImage: round2(cpuPerImage(full)),
    decodeOnlyImagesPerSecond: perSecond(median(decode.wallMs)),
    inferenceOnlyImagesPerSecond: perSecond(median(inference.wallMs)),
    exactPathsInferenceCpuMsPerImage: pathCpuMs,
    memoryPeakMiB: memory.peakMiB,
    memoryAfterLoadMiB: memory.afterLoadMiB,
    memoryImage: `${memory.format} ${memory.width}x${memory.height}`,
    loadAverage1m: round2(loadavg()[0]!),
  }),
);

/**
 * Writes the largest image the limits accept — as a JPEG (which libvips decodes
 * shrunk, never at full size) and as a PNG (which it must decode whole) — and runs this
 * script again as `--memory-child <image>` for each: a fresh process, whose peak
 * resident set is the model and the chunk. Answers with the worse of the two.
 */
async function memoryPeakInChild() {
  const { maxPixels, maxBytes } = DEFAULT_IMAGE_LIMITS;
  const side = Math.floor(Math.sqrt(maxPixels));
  const dir = await mkdtemp(join(tmpdir(), "argus-bench-"));
  try {
    const peaks = [];
    for (const [format, bytes] of [
      ["jpeg", await largestJpeg(side, maxBytes)],
      ["png", await largestPng(side, maxBytes)],
    ] as const) {
      const image = join(dir, `largest.${format}`);
      await writeFile(image, bytes);
      const script = fileURLToPath(import.meta.url);
      const args = [
        script,
        "--memory-child",
        image,
        "--model",
        modelId,
        "--models-dir",
        modelsDir,
        ...(int8Path ? ["--int8-path", int8Path] : []),
      ];
      const { stdout } = await promisify(execFile)(process.execPath, args, { maxBuffer: 1 << 20 });
      const peak = JSON.parse(stdout.trim().split("\n").pop()!) as {
        peakMiB: number;
        afterLoadMiB: number;
        width: number;
        height: number;
        megapixels: number;
        fileKiB: number;
      };
      peaks.push({ ...peak, format });
    }
    return peaks.reduce((worst, peak) => (peak.peakMiB > worst.peakMiB ? peak : worst));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** In the child: 16 copies of the largest image the limits accept, through the whole pipeline once. */
async function measureMemoryPeak(imagePath: string): Promise<void> {
  const image = await readFile(imagePath);
  const { width, height } = await sharp(image, { limitInputPixels: false }).metadata();
  const side = width;
  if (side !== height) throw new Error("expected a square image");
  await engine.load(modelId);
  const afterLoad = await peakRssMiB();
  const results = await engine.run(modelId, requestsFor(Array.from({ length: BATCH }, () => ({ bytes: image }))));
  const failed = results.find((result) => "error" in result);
  if (failed) throw new Error(`the largest image failed: ${JSON.stringify(failed)}`);
  console.log(
    JSON.stringify({
      peakMiB: await peakRssMiB(),
      afterLoadMiB: afterLoad,
      width: side,
      height: side,
      megapixels: round2((side * side) / 1e6),
      fileKiB: Math.round(image.length / 1024),
    }),
  );
}

/**
 * This process's resident-set high-water mark. Linux's VmHWM starts afresh at exec,
 * unlike getrusage's maxRSS, which a spawned child inherits from its parent's peak.
 */
async function peakRssMiB(): Promise<number> {
  const status = await readFile("/proc/self/status", "utf8").catch(() => "");
  const kilobytes = /^VmHWM:\s+(\d+) kB/m.exec(status)?.[1];
  return Math.round((kilobytes === undefined ? process.resourceUsage().maxRSS : Number(kilobytes)) / 1024);
}

/** A smooth gradient, side × side, as a PNG (it compresses to almost nothing, so any pixel count fits the byte cap). */
async function largestPng(side: number, maxBytes: number): Promise<Buffer> {
  const pixels = Buffer.alloc(side * side * 3);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) pixels.set([(x * 255) / side, (y * 255) / side, 128], (y * side + x) * 3);
  }
  const png = await sharp(pixels, { raw: { width: side, height: side, channels: 3 }, limitInputPixels: false })
    .png({ compressionLevel: 9 })
    .toBuffer();
  if (png.length > maxBytes) throw new Error(`a ${side}×${side} gradient PNG takes ${png.length} bytes, more than ${maxBytes}`);
  return png;
}

/** A real photo scaled up to side × side, as a JPEG no larger than `maxBytes` (lower quality until it fits). */
async function largestJpeg(side: number, maxBytes: number): Promise<Buffer> {
  const photo = await readFile(join(SHARED_IMAGES_DIR, "wml_cat.jpg"));
  for (const quality of [80, 60, 40, 20, 10]) {
    const jpeg = await sharp(photo, { limitInputPixels: false }).resize(side, side, { fit: "fill" }).jpeg({ quality }).toBuffer();
    if (jpeg.length <= maxBytes) return jpeg;
  }
  throw new Error(`cannot fit a ${side}×${side} JPEG into ${maxBytes} bytes`);
}
