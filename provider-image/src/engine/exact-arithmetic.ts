/**
 * The proofs behind the reference graph's exactness (reference-graph.ts): that its float
 * operations never round where onnxruntime's integer kernels would not, for every
 * possible input, checked from the weights and scales when a model is loaded.
 */

/** The graph uses a quantized operator the rewrite does not know, or values outside its exactness proof. */
export class ReferenceGraphError extends Error {
  override name = "ReferenceGraphError";
}

export const f32 = Math.fround;
const TWO_24 = 2 ** 24;

/** The values a quantized tensor's element can take: [-128, 127] or [0, 255]. */
export type IntegerRange = readonly [number, number];

/**
 * No accumulator can leave the exact float32 integers: for each output channel,
 * Σ|w − zW| · max|x − zX| + |bias| < 2^24, whatever the input; then every sum of
 * products is exact in float32 and its order cannot change a bit.
 */
export function checkIntegerAccumulators(
  where: string,
  inputRange: IntegerRange,
  inputZero: number,
  channels: number,
  weightsOf: (channel: number) => readonly number[],
  bias: readonly number[],
): void {
  const largestInput = Math.max(Math.abs(inputRange[0] - inputZero), Math.abs(inputRange[1] - inputZero));
  for (let channel = 0; channel < channels; channel++) {
    const weightSum = weightsOf(channel).reduce((sum, value) => sum + Math.abs(value), 0);
    const bound = weightSum * largestInput + Math.abs(bias[channel] ?? 0);
    if (bound >= TWO_24) {
      throw new ReferenceGraphError(`${where}: channel ${channel} can accumulate up to ${bound}, beyond the exact float32 integers (2^24)`);
    }
  }
}

/**
 * For every integer q in `range` and every addend t, q·ratio + t must be exact in
 * float64 (so that rounding it once to float32 is the fma's single rounding). Returns
 * the float32 results, the addends of the next fma.
 */
export function checkExactFma(range: readonly number[], ratio: number, addends: readonly number[], where: string): number[] {
  const results = new Set<number>();
  for (let q = range[0]!; q <= range[1]!; q++) {
    const product = q * ratio; // exact: 8 × 24 significant bits
    for (const addend of addends) {
      const sum = product + addend;
      if (twoSumError(product, addend, sum) !== 0)
        throw new ReferenceGraphError(`${where}: ${q}·${ratio} + ${addend} is not exact in float64`);
      results.add(f32(sum));
    }
  }
  return [...results];
}

/** The rounding error of `sum = a + b` in float64 (Knuth's TwoSum): zero iff the sum is exact. */
function twoSumError(a: number, b: number, sum: number): number {
  const bVirtual = sum - a;
  const aVirtual = sum - bVirtual;
  return a - aVirtual + (b - bVirtual);
}
