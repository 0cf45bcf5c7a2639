/**
 * A classifier's output for one image → its top classes, best first.
 * Logits are turned into probabilities with a numerically stable softmax over all
 * outputs (in float64); probability outputs are used as they are. With a background
 * class, output 0 takes part in the softmax but is never reported, and output i + 1 is
 * class i. Ties are broken by the lower class index, so the order is deterministic.
 *
 * Pure and browser-safe: the engine and the web UI's browser recompute read outputs the same way.
 */
import type { ClassificationManifest } from "./manifest.ts";
import type { ClassScore } from "./result.ts";

export const TOP_K = 5;

export type ClassifierOutputSpec = Pick<ClassificationManifest["output"], "kind" | "backgroundClass">;

export function topClasses(
  values: ArrayLike<number>,
  offset: number,
  outputCount: number,
  output: ClassifierOutputSpec,
  labels: readonly string[],
  k = TOP_K,
): ClassScore[] {
  const all = new Float64Array(outputCount);
  for (let index = 0; index < outputCount; index++) all[index] = values[offset + index]!;
  if (output.kind === "logits") softmaxInPlace(all);
  const probabilities = output.backgroundClass ? all.subarray(1) : all;
  const classCount = probabilities.length;

  const best: number[] = []; // class indices, best first
  for (let index = 0; index < classCount; index++) {
    const score = probabilities[index]!;
    if (best.length === k && score <= probabilities[best[k - 1]!]!) continue;
    let at = best.length;
    while (at > 0 && probabilities[best[at - 1]!]! < score) at--;
    best.splice(at, 0, index);
    if (best.length > k) best.pop();
  }
  return best.map((classIndex) => ({
    classIndex,
    label: labels[classIndex] ?? String(classIndex),
    score: roundScore(Math.min(1, Math.max(0, probabilities[classIndex]!))),
  }));
}

function softmaxInPlace(values: Float64Array): void {
  let max = -Infinity;
  for (const value of values) if (value > max) max = value;
  let sum = 0;
  for (let index = 0; index < values.length; index++) {
    const exponent = Math.exp(values[index]! - max);
    values[index] = exponent;
    sum += exponent;
  }
  for (let index = 0; index < values.length; index++) values[index]! /= sum;
}

/** Scores are written with 6 decimals: float noise below that is not information, and rounding it away keeps two runs on one CPU byte-identical. */
export function roundScore(score: number): number {
  return Math.round(score * 1e6) / 1e6;
}
