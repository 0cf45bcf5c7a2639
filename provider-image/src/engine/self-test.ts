/**
 * The self-test a model passes before it goes live. A wrong preprocessing line (BGR for
 * RGB, a missing /255, logits taken for probabilities) does not fail loudly: the model
 * answers confident nonsense. So before a model is registered (`argus models add`) or
 * served (every load by the engine), it runs on the reference photos
 * (models/reference-set.ts) through exactly the pipeline requests take, and counts what
 * it gets right; fewer than the manifest's `selfTest.minimumCorrect` refuses it, and so
 * does a classifier output that is not what the manifest says it is (probabilities that
 * do not sum to 1, or "logits" that already do).
 */
import { MAX_BATCH_SIZE } from "@argus/protocol/limits";
import type { ReferenceSet } from "@argus/protocol/manifest";
import type { ClassScore, Detection } from "@argus/protocol/result";
import { DEFAULT_IMAGE_LIMITS } from "../image/image-limits.ts";
import { type LoadedPhoto, photosOf, type ReferenceBox, type ReferencePhotosSource, referencePhotos } from "../models/reference-set.ts";
import { outputKindProblem } from "./classify.ts";
import { defaultDecodeConcurrency } from "./concurrency.ts";
import { inferChunk } from "./infer-chunk.ts";
import { decodeIntoChunks } from "./input-chunks.ts";
import type { LoadedModel } from "./loaded-model.ts";
import { classifyOrDetect } from "./predictions.ts";

/** A detection counts for a reference object when it overlaps it by at least this much. */
export const MIN_BOX_IOU = 0.5;
const IMAGENET_CLASSES = 1000;

export interface SelfTestItem {
  /** The reference photo's file name. */
  photo: string;
  /** What a right answer is, in words. */
  expected: string;
  /** What the model answered, in words. */
  obtained: string;
  correct: boolean;
}

export interface SelfTestReport {
  modelId: string;
  referenceSet: ReferenceSet;
  minimumCorrect: number;
  correct: number;
  total: number;
  items: SelfTestItem[];
  /** Problems that fail the test whatever the count (an output that is not what the manifest says). */
  problems: string[];
  passed: boolean;
}

/** A model whose self-test failed: the message names the model, the count and every miss. */
export class SelfTestFailedError extends Error {
  override name = "SelfTestFailedError";
  readonly report: SelfTestReport;
  constructor(report: SelfTestReport) {
    super(describeFailure(report));
    this.report = report;
  }
}

/**
 * Runs `model` on its reference set and judges the answers. `onRun`, when given, hears
 * the CPU time of each network run (loaded-model.ts weighs the network against decoding with it).
 */
export async function runSelfTest(
  model: LoadedModel,
  referencePhotosSource: ReferencePhotosSource,
  onRun?: (cpuMs: number, images: number) => void,
): Promise<SelfTestReport> {
  const { manifest } = model;
  const { referenceSet, minimumCorrect } = manifest.selfTest;
  const photos = photosOf(await referencePhotos(referencePhotosSource), referenceSet);
  const items: SelfTestItem[] = [];
  const problems = new Set<string>();
  if (referenceSet === "imagenet-photos-v1" && model.labels.length !== IMAGENET_CLASSES) {
    problems.add(
      `${referenceSet} needs the ${IMAGENET_CLASSES} ImageNet classes in their usual order; ${manifest.labels.file} names ${model.labels.length}`,
    );
  }

  const answers = new Map<number, ReturnType<typeof classifyOrDetect>>();
  const chunking = { limits: DEFAULT_IMAGE_LIMITS, decodeConcurrency: defaultDecodeConcurrency(), maxChunk: MAX_BATCH_SIZE };
  const rejections = await decodeIntoChunks(
    model,
    photos.map((photo) => ({ bytes: photo.bytes })),
    chunking,
    async (chunk) => {
      const outcomes = await inferChunk(model, chunk);
      // Each run once: its first image's outcome (a retried chunk ran image by image, each at offset 0).
      for (const outcome of outcomes) {
        if ("cpuMs" in outcome && outcome.offset === 0) onRun?.(outcome.cpuMs, outcome.imagesInRun);
      }
      for (const [slotIndex, outcome] of outcomes.entries()) {
        const slot = chunk.slots[slotIndex]!;
        if ("rejection" in outcome) {
          problems.add(`${photos[slot.imageIndex]!.file}: ${outcome.rejection.message}`);
          continue;
        }
        if (manifest.task === "classification") {
          const problem = outputKindProblem(outcome.values, outcome.offset, model.outputValuesPerImage, manifest.output);
          if (problem !== undefined) problems.add(problem);
        }
        answers.set(slot.imageIndex, classifyOrDetect(model, outcome.values, outcome.offset, slot.decoded));
      }
    },
  );
  for (const [index, rejection] of rejections) problems.add(`${photos[index]!.file}: ${rejection.message}`);

  for (const [index, photo] of photos.entries()) {
    const answer = answers.get(index);
    if (manifest.task === "classification") items.push(classificationItem(photo, answer?.task === "classification" ? answer.top5 : []));
    else items.push(...matchObjects(photo, answer?.task === "detection" ? answer.detections : []));
  }
  const correct = items.filter((item) => item.correct).length;
  const total = items.length;
  if (minimumCorrect > total) problems.add(`the manifest requires ${minimumCorrect} right, but ${referenceSet} has only ${total} items`);
  return {
    modelId: manifest.id,
    referenceSet,
    minimumCorrect,
    correct,
    total,
    items,
    problems: [...problems],
    passed: problems.size === 0 && correct >= minimumCorrect,
  };
}

/** Right when the top class is one the photo accepts. */
function classificationItem(photo: LoadedPhoto, top5: readonly ClassScore[]): SelfTestItem {
  const top = top5[0];
  const accept = photo.imagenet?.accept ?? [];
  return {
    photo: photo.file,
    expected: `${photo.imagenet?.name} (${accept.join(" or ")})`,
    obtained: top === undefined ? "nothing" : `${top.label.split(",")[0]} (${top.classIndex}) ${percent(top.score)}`,
    correct: top !== undefined && accept.includes(top.classIndex),
  };
}

/** One item per reference object: found when a detection of its label overlaps it enough (each detection counts once). */
function matchObjects(photo: LoadedPhoto, detections: readonly Detection[]): SelfTestItem[] {
  const used = new Set<number>();
  return photo.objects.map((object) => {
    let best: { index: number; iou: number } | undefined;
    for (const [index, detection] of detections.entries()) {
      if (used.has(index) || detection.label.toLowerCase() !== object.label.toLowerCase()) continue;
      const overlap = iou(detection.box, object.box);
      if (overlap >= MIN_BOX_IOU && (best === undefined || overlap > best.iou)) best = { index, iou: overlap };
    }
    if (best !== undefined) used.add(best.index);
    const found = best === undefined ? undefined : detections[best.index]!;
    const nearest = found ?? bestOverlap(object.box, detections);
    return {
      photo: photo.file,
      expected: `${object.label} at ${describeBox(object.box)}`,
      obtained:
        nearest === undefined
          ? "nothing there"
          : `${nearest.label} ${percent(nearest.score)} at ${describeBox(nearest.box)} (IoU ${iou(nearest.box, object.box).toFixed(2)})`,
      correct: found !== undefined,
    };
  });
}

function bestOverlap(box: ReferenceBox, detections: readonly Detection[]): Detection | undefined {
  let best: Detection | undefined;
  for (const detection of detections) if (iou(detection.box, box) > (best === undefined ? 0 : iou(best.box, box))) best = detection;
  return best;
}

function iou(a: ReferenceBox, b: ReferenceBox): number {
  const width = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const height = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  if (width <= 0 || height <= 0) return 0;
  const overlap = width * height;
  return overlap / (a.width * a.height + b.width * b.height - overlap);
}

const describeBox = (box: ReferenceBox) => `[${[box.x, box.y, box.width, box.height].map((value) => Math.round(value)).join(", ")}]`;
const percent = (score: number) => `${(score * 100).toFixed(1)}%`;

function describeFailure(report: SelfTestReport): string {
  const misses = report.items.filter((item) => !item.correct);
  return [
    `model ${report.modelId} failed its self-test on ${report.referenceSet}: ${report.correct} of ${report.total} right, ` +
      `its manifest requires ${report.minimumCorrect}.`,
    ...report.problems,
    ...misses.map((item) => `${item.photo}: expected ${item.expected}, obtained ${item.obtained}`),
    "Check the manifest's preprocessing (colour order, scale, mean, std, resize) and output kind against how the network was trained.",
  ].join("\n  ");
}
