/**
 * `node scripts/measure/result-tolerances.ts`
 *
 * Measures how far two honest runs of the same model on the same photos drift apart, to
 * justify the tolerances in `@argus/protocol/compare-results`: every registered model,
 * every shared photo, run under settings that change the order of floating-point work
 * (1 vs 2 intra-op threads, whole batch vs one image per run, decode concurrency 1 vs 8,
 * every exact int8 path). Prints the largest score difference and the smallest box IoU
 * against the first setting, per model, as one JSON line.
 *
 * Each setting runs in its own process: the engine caches one onnxruntime session per
 * model and int8 path, whatever the thread count, so one process would measure nothing.
 */
import { execFileSync } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { join } from "node:path";
import { compareResults, iou } from "@argus/protocol/compare-results";
import type { Box, InferenceResult } from "@argus/protocol/result";
import { createEngine, type EngineOptions } from "@argus/provider-image/engine";
import { INT8_PATHS, probeAllPaths } from "@argus/provider-image/inference-path";
import { SHARED_IMAGES_DIR, SHARED_MODELS_DIR } from "../../test/support/shared.ts";

const MODELS = ["mobilenetv2-12-int8", "squeezenet1.1-fp16", "fastestdet-coco80"];
const names = (await readdir(SHARED_IMAGES_DIR)).filter((name) => /\.(jpe?g|png|webp|gif|avif)$/i.test(name)).sort();
const photos = await Promise.all(names.map((name) => readFile(join(SHARED_IMAGES_DIR, name))));
const requests = photos.map((bytes, index) => ({
  requestId: String(index + 1),
  imageCid: "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy",
  image: { bytes },
}));

interface Setting {
  name: string;
  options: EngineOptions;
  single: boolean;
}
const settings: Setting[] = [
  { name: "threads1-batch", options: { intraOpThreads: 1, decodeConcurrency: 1 }, single: false },
  { name: "threads2-batch", options: { intraOpThreads: 2, decodeConcurrency: 8 }, single: false },
  { name: "threads1-single", options: { intraOpThreads: 1, decodeConcurrency: 1 }, single: true },
  { name: "threads2-single", options: { intraOpThreads: 2, decodeConcurrency: 8 }, single: true },
];
const exact = await probeAllPaths();
for (const int8Path of INT8_PATHS.filter((path) => exact[path])) {
  settings.push({ name: `int8-${int8Path}`, options: { intraOpThreads: 2, int8Path }, single: false });
}

async function runAll(setting: Setting, modelId: string): Promise<InferenceResult[]> {
  const engine = createEngine({ referencePhotosDir: SHARED_IMAGES_DIR, modelsDir: SHARED_MODELS_DIR, ...setting.options });
  if (!setting.single) return engine.run(modelId, requests);
  const results: InferenceResult[] = [];
  for (const request of requests) results.push(...(await engine.run(modelId, [request])));
  return results;
}

const { values: flags } = parseArgs({ options: { setting: { type: "string" }, model: { type: "string" } } });
if (flags.setting !== undefined && flags.model !== undefined) {
  const setting = settings.find((candidate) => candidate.name === flags.setting);
  if (setting === undefined) throw new Error(`unknown setting ${flags.setting}`);
  process.stdout.write(JSON.stringify(await runAll(setting, flags.model)));
  process.exit(0);
}

function runInChild(setting: Setting, modelId: string): InferenceResult[] {
  const args = [import.meta.filename, "--setting", setting.name, "--model", modelId];
  return JSON.parse(execFileSync(process.execPath, args, { encoding: "utf8", maxBuffer: 64 << 20 })) as InferenceResult[];
}

const report: Record<string, { maxScoreDiff: number; minIou: number; disagreements: number; settings: number }> = {};
for (const modelId of MODELS) {
  const runs: InferenceResult[][] = [];
  for (const setting of settings) {
    if (setting.name.startsWith("int8-") && !modelId.includes("int8")) continue;
    runs.push(runInChild(setting, modelId));
  }
  const [reference, ...others] = runs;
  let maxScoreDiff = 0;
  let minIou = 1;
  let disagreements = 0;
  for (const run of others) {
    run.forEach((result, index) => {
      const want = reference?.[index];
      if (want === undefined || "error" in want || "error" in result) return;
      if (!compareResults(want, result, { classificationScore: 0, detectionScore: 0, detectionIou: 1 }).agree) disagreements++;
      const pairs =
        want.task === "classification" && result.task === "classification"
          ? want.top5.map((entry, k) => [entry, result.top5[k]] as const)
          : want.task === "detection" && result.task === "detection"
            ? want.detections.map((entry, k) => [entry, result.detections[k]] as const)
            : [];
      for (const [a, b] of pairs) {
        if (b === undefined) continue;
        maxScoreDiff = Math.max(maxScoreDiff, Math.abs(a.score - b.score));
        if ("box" in a && "box" in b) minIou = Math.min(minIou, iou(a.box as Box, b.box as Box));
      }
    });
  }
  report[modelId] = { maxScoreDiff, minIou, disagreements, settings: runs.length };
}
console.log(JSON.stringify({ photos: names.length, settings: settings.map((s) => s.name), models: report }));
