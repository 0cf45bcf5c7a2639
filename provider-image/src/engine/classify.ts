/**
 * A classifier's output for one image → its top classes (defined in
 * @argus/protocol/top-classes, shared with the web UI's browser recompute), and the
 * check that an output is what its manifest says it is.
 */
import { type ClassifierOutputSpec as OutputSpec, TOP_K, topClasses } from "@argus/protocol/top-classes";

export { TOP_K, topClasses };

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
