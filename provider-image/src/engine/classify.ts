/**
 * A classifier's output for one image → its top classes, best first.
 * Logits are turned into probabilities with a numerically stable softmax over all
 * classes (in float64); probability outputs are used as they are. Ties are broken by
 * the lower class index, so the order is deterministic.
 */
import type { ClassScore } from "@argus/protocol/result";
import { roundScore } from "./rounding.ts";

export const TOP_K = 5;

export function topClasses(
  values: ArrayLike<number>,
  offset: number,
  classCount: number,
  kind: "logits" | "probabilities",
  labels: readonly string[],
  k = TOP_K,
): ClassScore[] {
  const probabilities = new Float64Array(classCount);
  for (let index = 0; index < classCount; index++) probabilities[index] = values[offset + index]!;
  if (kind === "logits") softmaxInPlace(probabilities);

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
