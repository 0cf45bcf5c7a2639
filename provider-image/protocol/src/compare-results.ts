/**
 * When two results for the same request count as the same answer: the one definition the
 * oracle's cross-check, `argus verify --recompute` and the browser's recompute use.
 *
 * - Both must be about the same request, image and model, and (predictions) name the same
 *   weights, task and decoded image. Timings and runtime versions are never compared:
 *   they say how an answer was computed, not what it is.
 * - Error entries agree when their codes agree (messages may word the same fault differently).
 * - Classification: the same top classes (as a set: two classes whose scores tie within
 *   the tolerance may swap places honestly), each score within `classificationScore`
 *   (1e-4). int8 networks give the reference graph's bits on every CPU, so two honest
 *   runs agree exactly; float networks move in their last digits, far below 1e-4.
 * - Detection: the same number of detections, matched one to one by class with
 *   IoU ≥ `detectionIou` (0.9) and scores within `detectionScore`. The score tolerance
 *   is measured (see DETECTION_SCORE_TOLERANCE), not guessed.
 *
 * Browser-safe: no imports beyond the result types.
 */
import type { Box, ClassScore, Detection, InferenceResult } from "./result.ts";

/** Largest honest difference between two scores of the same class (classification). */
export const CLASSIFICATION_SCORE_TOLERANCE = 1e-4;
/** Smallest intersection-over-union for two boxes to be the same detection. */
export const DETECTION_MIN_IOU = 0.9;
/**
 * Largest honest difference between two detection scores. Measured by
 * `node scripts/measure/result-tolerances.ts` on the 10 shared photos, every model, each
 * setting in its own process: 1 vs 2 intra-op threads, whole batches vs one image per
 * run, decode concurrency 1 vs 8 (and every exact int8 path for int8 models). The largest
 * score difference was 0 for all three models (fastestdet-coco80 included) and the
 * smallest box IoU 0.99999999999999 (the same box, rounded to 1/100 px): scores are
 * rounded to 6 decimals and the float graph is deterministic on one CPU. What moves a
 * float score is another CPU's kernels, in the last ~7 significant digits (float32), so
 * 1e-4 keeps a margin of ~100× over that while a lying answer changes classes or scores
 * by far more. The same bound as classification, so one number describes both.
 */
export const DETECTION_SCORE_TOLERANCE = 1e-4;

export interface ComparisonTolerances {
  classificationScore: number;
  detectionIou: number;
  detectionScore: number;
}

export const DEFAULT_TOLERANCES: Readonly<ComparisonTolerances> = Object.freeze({
  classificationScore: CLASSIFICATION_SCORE_TOLERANCE,
  detectionIou: DETECTION_MIN_IOU,
  detectionScore: DETECTION_SCORE_TOLERANCE,
});

/** One way two results differ, in words a user can read. */
export interface ResultDifference {
  /** What differs: "requestId", "top5", "detections[2]", … */
  field: string;
  expected: string;
  actual: string;
}

export type ResultComparison = { agree: true; differences: [] } | { agree: false; differences: ResultDifference[] };

/**
 * Compares `actual` with `expected` (the reference: the recomputed or the audit answer).
 * Symmetric up to which side each difference names as expected.
 */
export function compareResults(
  expected: InferenceResult,
  actual: InferenceResult,
  tolerances: Partial<ComparisonTolerances> = {},
): ResultComparison {
  const limits = { ...DEFAULT_TOLERANCES, ...tolerances };
  const differences: ResultDifference[] = [];
  const differ = (field: string, e: unknown, a: unknown) => differences.push({ field, expected: text(e), actual: text(a) });
  for (const field of ["requestId", "imageCid", "modelId"] as const) {
    if (expected[field] !== actual[field]) differ(field, expected[field], actual[field]);
  }
  if ("error" in expected || "error" in actual) {
    const e = "error" in expected ? expected.error.code : "a prediction";
    const a = "error" in actual ? actual.error.code : "a prediction";
    if (e !== a) differ("error", e, a);
  } else if (expected.task !== actual.task) {
    differ("task", expected.task, actual.task);
  } else {
    if (expected.weightsSha256 !== actual.weightsSha256) differ("weightsSha256", expected.weightsSha256, actual.weightsSha256);
    const [ei, ai] = [expected.image, actual.image];
    if (ei.width !== ai.width || ei.height !== ai.height || ei.format !== ai.format) differ("image", ei, ai);
    if (expected.task === "classification" && actual.task === "classification") {
      differences.push(...compareTop5(expected.top5, actual.top5, limits.classificationScore));
    } else if (expected.task === "detection" && actual.task === "detection") {
      differences.push(...compareDetections(expected.detections, actual.detections, limits));
    }
  }
  return differences.length === 0 ? { agree: true, differences: [] } : { agree: false, differences };
}

function compareTop5(expected: readonly ClassScore[], actual: readonly ClassScore[], tolerance: number): ResultDifference[] {
  const classes = (list: readonly ClassScore[]) => list.map((entry) => entry.classIndex);
  const actualScores = new Map(actual.map((entry) => [entry.classIndex, entry.score]));
  const sameSet = expected.length === actual.length && expected.every((entry) => actualScores.has(entry.classIndex));
  if (!sameSet) return [{ field: "top5", expected: classes(expected).join(","), actual: classes(actual).join(",") }];
  const differences: ResultDifference[] = [];
  for (const entry of expected) {
    const score = actualScores.get(entry.classIndex) ?? Number.NaN;
    if (!(Math.abs(score - entry.score) <= tolerance)) {
      differences.push({ field: `top5[class ${entry.classIndex}].score`, expected: String(entry.score), actual: String(score) });
    }
  }
  // Order may differ only between scores that tie within the tolerance.
  for (let index = 0; index < actual.length; index++) {
    const e = expected[index];
    const a = actual[index];
    if (e !== undefined && a !== undefined && e.classIndex !== a.classIndex && Math.abs(e.score - a.score) > tolerance) {
      differences.push({ field: `top5[${index}]`, expected: `class ${e.classIndex}`, actual: `class ${a.classIndex}` });
    }
  }
  return differences;
}

function compareDetections(expected: readonly Detection[], actual: readonly Detection[], limits: ComparisonTolerances): ResultDifference[] {
  if (expected.length !== actual.length) {
    return [{ field: "detections.length", expected: String(expected.length), actual: String(actual.length) }];
  }
  const differences: ResultDifference[] = [];
  const unmatched = new Set(actual.map((_, index) => index));
  expected.forEach((want, index) => {
    let best: { index: number; iou: number } | undefined;
    for (const candidate of unmatched) {
      const got = actual[candidate];
      if (got === undefined || got.classIndex !== want.classIndex) continue;
      const overlap = iou(want.box, got.box);
      if (best === undefined || overlap > best.iou) best = { index: candidate, iou: overlap };
    }
    const field = `detections[${index}]`;
    const got = best === undefined ? undefined : actual[best.index];
    if (best === undefined || got === undefined || best.iou < limits.detectionIou) {
      differences.push({ field, expected: describe(want), actual: got === undefined ? "no box of that class" : describe(got) });
      return;
    }
    unmatched.delete(best.index);
    if (!(Math.abs(got.score - want.score) <= limits.detectionScore)) {
      differences.push({ field: `${field}.score`, expected: String(want.score), actual: String(got.score) });
    }
  });
  return differences;
}

/** Intersection over union of two boxes; 0 when both are empty. */
export function iou(a: Box, b: Box): number {
  const width = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const height = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  const intersection = Math.max(0, width) * Math.max(0, height);
  const union = a.width * a.height + b.width * b.height - intersection;
  return union > 0 ? intersection / union : 0;
}

function describe(detection: Detection): string {
  const { x, y, width, height } = detection.box;
  return `class ${detection.classIndex} (${detection.score}) at ${x},${y} ${width}×${height}`;
}

function text(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}
