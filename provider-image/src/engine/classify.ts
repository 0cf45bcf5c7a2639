/**
 * A classifier's output for one image → its top classes, best first.
 * Logits are turned into probabilities with a numerically stable softmax over all
 * outputs (in float64); probability outputs are used as they are. With a background
 * class, output 0 takes part in the softmax but is never reported, and output i + 1 is
 * class i. Ties are broken by the lower class index, so the order is deterministic.
 */
import type { ClassificationManifest } from "@argus/protocol/manifest";
import type { ClassScore } from "@argus/protocol/result";
import { roundScore } from "./rounding.ts";

export const TOP_K = 5;

type OutputSpec = Pick<ClassificationManifest["output"], "kind" | "backgroundClass">;

export function topClasses(
  values: ArrayLike<number>,
  offset: number,
  outputCount: number,
  output: OutputSpec,
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

/** How far a probability distribution's sum may be from 1 (float16 outputs round each of 1000 values). */
const SUM_TOLERANCE = 0.02;

/**
 * Whether one image's raw output can be what the manifest says it is: probabilities are
 * non-negative and sum to 1; logits are not already a probability distribution (a
 * softmax over probabilities flattens every score towards 1 / classes, which looks
 * like a working model at top-1 and is not). Undefined when it fits, else why not.
 */
export function outputKindProblem(values: ArrayLike<number>, offset: number, outputCount: number, output: OutputSpec): string | undefined {
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let index = 0; index < outputCount; index++) {
    const value = values[offset + index]!;
    sum += value;
    if (value < min) min = value;
    if (value > max) max = value;
  }
  const isDistribution = min >= -1e-6 && max <= 1 + 1e-6 && Math.abs(sum - 1) <= SUM_TOLERANCE;
  const range = `values from ${min.toPrecision(3)} to ${max.toPrecision(3)}, summing to ${sum.toPrecision(4)}`;
  if (output.kind === "probabilities" && !isDistribution) {
    return `the manifest declares the output as probabilities, but it is not a probability distribution (${range}): are they logits?`;
  }
  if (output.kind === "logits" && isDistribution) {
    return `the manifest declares the output as logits, but it already is a probability distribution (${range}): softmaxing it again flattens every score`;
  }
  return undefined;
}
