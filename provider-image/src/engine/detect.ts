/**
 * A detector's output for one image → detections in original-image pixels.
 *
 * Row layout `cxcywh-objectness-classes` (FastestDet and the YOLO family with decoding
 * in the graph): a row's score is objectness × its best class probability; rows under
 * the score threshold are dropped; class-wise non-maximum suppression keeps the best
 * box of each overlapping group; boxes are mapped back through the letterbox and
 * clipped to the image. Sorting is total (score, then class, then position), so the
 * output is deterministic.
 */
import type { DetectionManifest } from "@argus/protocol/manifest";
import type { Detection } from "@argus/protocol/result";
import { inputToSource, type ResizePlan, type Size } from "../image/resize-plan.ts";
import { clamp, roundHundredths, roundScore } from "./rounding.ts";

interface Candidate {
  classIndex: number;
  score: number;
  /** Corners in input pixels. */
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

export function detectObjects(
  values: ArrayLike<number>,
  offset: number,
  rowCount: number,
  rowLength: number,
  settings: DetectionManifest["detection"],
  labels: readonly string[],
  plan: ResizePlan,
  source: Size,
): Detection[] {
  const candidates = scoreRows(values, offset, rowCount, rowLength, settings.scoreThreshold);
  const kept = suppressNonMaxima(candidates, settings.nmsIouThreshold, settings.maxDetections);
  const detections: Detection[] = [];
  for (const candidate of kept) {
    const box = toSourceBox(candidate, plan, source);
    if (box.width <= 0 || box.height <= 0) continue; // entirely in the letterbox padding
    detections.push({
      classIndex: candidate.classIndex,
      label: labels[candidate.classIndex] ?? String(candidate.classIndex),
      score: roundScore(candidate.score),
      box,
    });
  }
  return detections;
}

function scoreRows(values: ArrayLike<number>, offset: number, rowCount: number, rowLength: number, threshold: number): Candidate[] {
  const candidates: Candidate[] = [];
  for (let row = 0; row < rowCount; row++) {
    const at = offset + row * rowLength;
    let classIndex = 0;
    let classProbability = -Infinity;
    for (let column = 5; column < rowLength; column++) {
      const probability = values[at + column]!;
      if (probability > classProbability) {
        classProbability = probability;
        classIndex = column - 5;
      }
    }
    const score = Math.min(1, Math.max(0, values[at + 4]! * classProbability));
    if (!(score >= threshold)) continue; // also drops NaN
    const [cx, cy, width, height] = [values[at]!, values[at + 1]!, values[at + 2]!, values[at + 3]!];
    candidates.push({ classIndex, score, x1: cx - width / 2, y1: cy - height / 2, x2: cx + width / 2, y2: cy + height / 2 });
  }
  return candidates.sort(
    (a, b) => b.score - a.score || a.classIndex - b.classIndex || a.x1 - b.x1 || a.y1 - b.y1 || a.x2 - b.x2 || a.y2 - b.y2,
  );
}

/** Greedy class-wise NMS over candidates sorted best first. */
function suppressNonMaxima(sorted: readonly Candidate[], iouThreshold: number, limit: number): Candidate[] {
  const kept: Candidate[] = [];
  for (const candidate of sorted) {
    if (kept.length === limit) break;
    const overlapped = kept.some((other) => other.classIndex === candidate.classIndex && iou(other, candidate) > iouThreshold);
    if (!overlapped) kept.push(candidate);
  }
  return kept;
}

function iou(a: Candidate, b: Candidate): number {
  const overlapWidth = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
  const overlapHeight = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  if (overlapWidth <= 0 || overlapHeight <= 0) return 0;
  const overlap = overlapWidth * overlapHeight;
  const union = (a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - overlap;
  return union > 0 ? overlap / union : 0;
}

function toSourceBox(candidate: Candidate, plan: ResizePlan, source: Size): Detection["box"] {
  const topLeft = inputToSource(plan, source, candidate.x1, candidate.y1);
  const bottomRight = inputToSource(plan, source, candidate.x2, candidate.y2);
  // Round the clipped corners, then measure: the box cannot leave the image by rounding.
  const x1 = roundHundredths(clamp(topLeft.x, 0, source.width));
  const y1 = roundHundredths(clamp(topLeft.y, 0, source.height));
  const x2 = roundHundredths(clamp(bottomRight.x, 0, source.width));
  const y2 = roundHundredths(clamp(bottomRight.y, 0, source.height));
  return { x: x1, y: y1, width: roundHundredths(Math.max(0, x2 - x1)), height: roundHundredths(Math.max(0, y2 - y1)) };
}
