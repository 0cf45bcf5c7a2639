/**
 * The ISA-independent form of an int8 network ("qdq-reference").
 *
 * onnxruntime's native u8×s8 kernels are exact on CPUs with VNNI (32-bit
 * multiply-accumulate) and on arm64, but on AVX2-only x86 they multiply-add pairs into
 * saturating 16-bit sums (`vpmaddubsw`), so the same network and image give other
 * classes there. This module rewrites every QOperator node into the QDQ form —
 * DequantizeLinear → float op → QuantizeLinear — arranged so that the float op computes
 * the exact integer answer on every CPU:
 *
 * - Conv and MatMul run on integer-valued floats (inputs minus their zero points, and
 *   weights minus theirs, baked into new initializers). Their accumulators are exact
 *   integers as long as they stay below 2^24 in magnitude, which is checked here for
 *   every output channel from the weights (the worst case over all inputs), so the
 *   summation order a kernel picks cannot change a bit.
 * - Requantization then repeats x86 onnxruntime's arithmetic operation by operation:
 *   one float32 multiply by (x_scale · w_scale / y_scale), round half to even, add the
 *   zero point, saturate. QLinearAdd's fused multiply-adds are reproduced in float64
 *   (every intermediate is exact there, which is checked) followed by one rounding to
 *   float32; QLinearGlobalAveragePool's integer sum and scale likewise.
 *
 * So on a CPU whose native kernels are exact, the native graph and this one give
 * bit-identical outputs, and on any CPU this one gives those same bits. The session
 * that runs it must not fuse the scale multiplies back into Conv/MatMul weights
 * (`referenceSessionOptions`).
 */
import { checkExactFma, checkIntegerAccumulators, f32, type IntegerRange, ReferenceGraphError } from "./exact-arithmetic.ts";
import {
  DataType,
  decodeModel,
  doubleTensor,
  encodeModel,
  floatTensor,
  int64Tensor,
  intAttribute,
  intsAttribute,
  type ModelProto,
  type NodeProto,
  node,
  opsetVersion,
  scalarLike,
  type TensorProto,
  tensorDims,
  tensorValues,
} from "./onnx-graph.ts";

export { ReferenceGraphError };

/** The QOperator node types; a graph with none of them has no int8 arithmetic to make exact. */
const QUANTIZED_OPERATORS = new Set([
  "QLinearConv",
  "QLinearMatMul",
  "QLinearAdd",
  "QLinearGlobalAveragePool",
  "QLinearMul",
  "QLinearAveragePool",
  "QLinearConcat",
  "QLinearLeakyRelu",
  "QLinearSigmoid",
  "QLinearSoftmax",
  "QGemm",
  "ConvInteger",
  "MatMulInteger",
  "DynamicQuantizeLinear",
]);

export function hasQuantizedOperators(weights: Uint8Array): boolean {
  return decodeModel(weights).graph?.node?.some((graphNode) => QUANTIZED_OPERATORS.has(graphNode.opType ?? "")) ?? false;
}

/** Session options under which the reference graph keeps its exactness. */
export const referenceSessionOptions = {
  // No layout transforms (NCHWc may pick Winograd convolutions, whose transforms are inexact).
  graphOptimizationLevel: "basic",
  extra: {
    session: { disable_quant_qdq: "1" },
    // Folding the per-channel scale into the Conv/MatMul weights would make them non-integers.
    optimization: { disable_specified_optimizers: "ConvMulFusion;ConvAddFusion;ConvBNFusion;MatMulScaleFusion;MatMulAddFusion" },
  },
} as const;

/** Rewrites `weights` (an ONNX model) into its reference form; returns the new model's bytes. */
export function referenceGraph(weights: Uint8Array): Uint8Array {
  const model = decodeModel(weights);
  new Rewriter(model).run();
  return encodeModel(model);
}

class Rewriter {
  private readonly initializers: Map<string, TensorProto>;
  private readonly added: TensorProto[] = [];
  private readonly opset: number;
  private readonly model: ModelProto;

  constructor(model: ModelProto) {
    this.model = model;
    const graph = model.graph;
    if (!graph) throw new ReferenceGraphError("the model has no graph");
    this.initializers = new Map((graph.initializer ?? []).map((tensor) => [tensor.name ?? "", tensor]));
    this.opset = opsetVersion(model) ?? 0;
    if (this.opset < 10) throw new ReferenceGraphError(`opset ${this.opset} is too old for QuantizeLinear`);
  }

  run(): void {
    const graph = this.model.graph!;
    const nodes: NodeProto[] = [];
    this.added.push(floatTensor("argus_ref/one", [], [1]));
    for (const original of graph.node ?? []) nodes.push(...this.rewrite(original));
    graph.node = nodes;
    graph.initializer = [...(graph.initializer ?? []), ...this.added];
  }

  private rewrite(original: NodeProto): NodeProto[] {
    switch (original.opType) {
      case "QuantizeLinear":
        return this.quantizeLinear(original);
      case "DequantizeLinear":
        return this.dequantizeLinear(original);
      case "QLinearConv":
        return this.qlinearConv(original);
      case "QLinearMatMul":
        return this.qlinearMatMul(original);
      case "QLinearAdd":
        return this.qlinearAdd(original);
      case "QLinearGlobalAveragePool":
        return this.qlinearGlobalAveragePool(original);
      default:
        if (QUANTIZED_OPERATORS.has(original.opType ?? "")) {
          throw new ReferenceGraphError(
            `the reference graph does not support ${original.opType} yet (node ${original.name || original.output?.[0]})`,
          );
        }
        return [original];
    }
  }

  /** q = saturate(round(x / s) + z): the division as its own op, then a scale-1 quantize (a plain round). */
  private quantizeLinear(original: NodeProto): NodeProto[] {
    const [x, scale, zeroPoint] = inputs(original, 3);
    const [y] = outputs(original);
    if (!this.isScalarInitializer(scale)) return [original];
    const divided = this.name(y, "divided");
    return [node("Div", [x, scale], [divided]), node("QuantizeLinear", [divided, "argus_ref/one", zeroPoint], [y])];
  }

  /** x = (q − z) · s: an exact integer, then one float32 multiply. */
  private dequantizeLinear(original: NodeProto): NodeProto[] {
    const [q, scale, zeroPoint] = inputs(original, 3);
    const [x] = outputs(original);
    if (!this.isScalarInitializer(scale)) return [original];
    const integer = this.name(x, "integer");
    return [node("DequantizeLinear", [q, "argus_ref/one", zeroPoint], [integer]), node("Mul", [integer, scale], [x])];
  }

  private qlinearConv(original: NodeProto): NodeProto[] {
    const [x, xScale, xZero, w, wScale, wZero, yScale, yZero, bias] = inputs(original, 8);
    const [y] = outputs(original);
    const weights = this.initializer(w, original);
    const dims = tensorDims(weights);
    const outChannels = dims[0]!;
    const perChannel = tensorValues(weights).length / outChannels;
    const weightZeros = this.perChannel(wZero, outChannels, original);
    const centred = tensorValues(weights).map((value, index) => value - weightZeros[Math.floor(index / perChannel)]!);
    const biasValues = bias ? tensorValues(this.initializer(bias, original)) : new Array<number>(outChannels).fill(0);
    this.checkAccumulators(
      original,
      x,
      xZero,
      outChannels,
      (channel) => centred.slice(channel * perChannel, (channel + 1) * perChannel),
      biasValues,
    );

    const scales = this.requantizeScales(original, xScale, wScale, yScale, outChannels);
    const integerInput = this.name(y, "x");
    const accumulator = this.name(y, "acc");
    const scaled = this.name(y, "scaled");
    const weightName = this.addInitializer(floatTensor(this.name(y, "w"), dims, centred));
    const biasName = this.addInitializer(floatTensor(this.name(y, "b"), [outChannels], biasValues));
    const scaleName = this.addInitializer(floatTensor(this.name(y, "scale"), [outChannels, 1, 1], scales));
    return [
      node("DequantizeLinear", [x, "argus_ref/one", xZero], [integerInput]),
      node("Conv", [integerInput, weightName, biasName], [accumulator], original.attribute ?? []),
      node("Mul", [accumulator, scaleName], [scaled]),
      node("QuantizeLinear", [scaled, "argus_ref/one", yZero], [y]),
    ];
  }

  private qlinearMatMul(original: NodeProto): NodeProto[] {
    const [a, aScale, aZero, b, bScale, bZero, yScale, yZero] = inputs(original, 8);
    const [y] = outputs(original);
    const weights = this.initializer(b, original);
    const dims = tensorDims(weights);
    if (dims.length !== 2) throw new ReferenceGraphError(`QLinearMatMul ${y}: only a 2-D constant right-hand side is supported`);
    const [rows, columns] = dims as [number, number];
    const weightZeros = this.perChannel(bZero, columns, original);
    const values = tensorValues(weights);
    const centred = values.map((value, index) => value - weightZeros[index % columns]!);
    const column = (channel: number) => Array.from({ length: rows }, (_, row) => centred[row * columns + channel]!);
    this.checkAccumulators(original, a, aZero, columns, column, new Array<number>(columns).fill(0));

    const scales = this.requantizeScales(original, aScale, bScale, yScale, columns);
    const integerInput = this.name(y, "a");
    const accumulator = this.name(y, "acc");
    const scaled = this.name(y, "scaled");
    const weightName = this.addInitializer(floatTensor(this.name(y, "b"), dims, centred));
    const scaleName = this.addInitializer(floatTensor(this.name(y, "scale"), [columns], scales));
    return [
      node("DequantizeLinear", [a, "argus_ref/one", aZero], [integerInput]),
      node("MatMul", [integerInput, weightName], [accumulator]),
      node("Mul", [accumulator, scaleName], [scaled]),
      node("QuantizeLinear", [scaled, "argus_ref/one", yZero], [y]),
    ];
  }

  /**
   * x86 onnxruntime (the AVX2 kernel, also used on AVX-512 CPUs) computes
   *   c = fma(a, sA/sC, fma(b, sB/sC, zC − (sA/sC·zA + sB/sC·zB)))
   * on the raw integers, then rounds half to even and saturates. Each fma is an exact
   * float64 product and sum (checked for every possible input) rounded once to float32.
   */
  private qlinearAdd(original: NodeProto): NodeProto[] {
    const [a, aScale, aZero, b, bScale, bZero, cScale, cZero] = inputs(original, 8);
    const [c] = outputs(original);
    const scaleA = this.scalar(aScale, original);
    const scaleB = this.scalar(bScale, original);
    const scaleC = this.scalar(cScale, original);
    const zeroA = this.scalar(aZero, original);
    const zeroB = this.scalar(bZero, original);
    const zeroC = this.scalar(cZero, original);
    const ratioA = f32(scaleA / scaleC);
    const ratioB = f32(scaleB / scaleC);
    const fixed = f32(f32(zeroC) - f32(f32(ratioA * zeroA) + f32(ratioB * zeroB)));
    const zeroTensor = this.initializer(cZero, original);
    const range = zeroTensor.dataType === DataType.INT8 ? [-128, 127] : [0, 255];
    if (this.elementCount(a) === 1 || this.elementCount(b) === 1) {
      throw new ReferenceGraphError(`QLinearAdd ${c}: a scalar operand takes another kernel path, not supported yet`);
    }
    const inner = checkExactFma(range, ratioB, [fixed], `QLinearAdd ${c}`);
    checkExactFma(range, ratioA, inner, `QLinearAdd ${c}`);

    const ratioAName = this.addInitializer(doubleTensor(this.name(c, "ratio_a"), [], [ratioA]));
    const ratioBName = this.addInitializer(doubleTensor(this.name(c, "ratio_b"), [], [ratioB]));
    const fixedName = this.addInitializer(doubleTensor(this.name(c, "fixed"), [], [fixed]));
    const zeroName = this.addInitializer(scalarLike(this.name(c, "zero"), zeroTensor, 0));
    const n = (suffix: string) => this.name(c, suffix);
    return [
      node("Cast", [b], [n("b64")], [intAttribute("to", DataType.DOUBLE)]),
      node("Mul", [n("b64"), ratioBName], [n("b_product")]),
      node("Add", [n("b_product"), fixedName], [n("inner64")]),
      node("Cast", [n("inner64")], [n("inner32")], [intAttribute("to", DataType.FLOAT)]),
      node("Cast", [n("inner32")], [n("inner")], [intAttribute("to", DataType.DOUBLE)]),
      node("Cast", [a], [n("a64")], [intAttribute("to", DataType.DOUBLE)]),
      node("Mul", [n("a64"), ratioAName], [n("a_product")]),
      node("Add", [n("a_product"), n("inner")], [n("sum64")]),
      node("Cast", [n("sum64")], [n("sum32")], [intAttribute("to", DataType.FLOAT)]),
      node("QuantizeLinear", [n("sum32"), "argus_ref/one", zeroName], [c]),
    ];
  }

  /** x86 onnxruntime: acc = Σx − zX·N (exact integer), y = round(acc · f32(sX / (sY · N))) + zY. */
  private qlinearGlobalAveragePool(original: NodeProto): NodeProto[] {
    const [x, xScale, xZero, yScale, yZero] = inputs(original, 5);
    const [y] = outputs(original);
    const channelsLast = original.attribute?.find((attribute) => attribute.name === "channels_last")?.i;
    if (channelsLast !== undefined && channelsLast !== null && Number(channelsLast) !== 0) {
      throw new ReferenceGraphError(`QLinearGlobalAveragePool ${y}: channels_last is not supported`);
    }
    this.scalar(xScale, original);
    this.scalar(yScale, original);
    const n = (suffix: string) => this.name(y, suffix);
    const axes = this.addInitializer(int64Tensor(n("axes"), [2], [2, 3]));
    const spatial = this.addInitializer(int64Tensor(n("spatial"), [1], [2]));
    const reduce =
      this.opset >= 13
        ? node("ReduceSum", [n("x"), axes], [n("sum")], [intAttribute("keepdims", 1)])
        : node("ReduceSum", [n("x")], [n("sum")], [intsAttribute("axes", [2, 3]), intAttribute("keepdims", 1)]);
    // N = H·W comes from the tensor's shape at run time; f32(N) is exact below 2^24.
    return [
      node("DequantizeLinear", [x, "argus_ref/one", xZero], [n("x")]),
      reduce,
      node("Shape", [x], [n("shape")]),
      node("Slice", [n("shape"), spatial, this.addInitializer(int64Tensor(n("end"), [1], [4]))], [n("hw")]),
      node("ReduceProd", [n("hw")], [n("pixels64")], [intAttribute("keepdims", 0)]),
      node("Cast", [n("pixels64")], [n("pixels")], [intAttribute("to", DataType.FLOAT)]),
      node("Mul", [yScale, n("pixels")], [n("denominator")]),
      node("Div", [xScale, n("denominator")], [n("scale")]),
      node("Mul", [n("sum"), n("scale")], [n("scaled")]),
      node("QuantizeLinear", [n("scaled"), "argus_ref/one", yZero], [y]),
    ];
  }

  /** f32(f32(sX · sW[c]) / sY): the order x86 onnxruntime computes its requantization scale in. */
  private requantizeScales(at: NodeProto, xScale: string, wScale: string, yScale: string, channels: number): number[] {
    const inputScale = this.scalar(xScale, at);
    const outputScale = this.scalar(yScale, at);
    return this.perChannel(wScale, channels, at).map((weightScale) => f32(f32(inputScale * weightScale) / outputScale));
  }

  /**
   * Proves that no accumulator can leave the exact float32 integers: for each output
   * channel, Σ|w − zW| · max|x − zX| + |bias| < 2^24, whatever the input.
   */
  private checkAccumulators(
    at: NodeProto,
    input: string,
    inputZero: string,
    channels: number,
    weightsOf: (channel: number) => readonly number[],
    bias: readonly number[],
  ): void {
    const zero = this.scalar(inputZero, at);
    const type = this.initializer(inputZero, at).dataType;
    const range: IntegerRange = type === DataType.INT8 ? [-128, 127] : [0, 255];
    checkIntegerAccumulators(`${at.opType} ${at.output?.[0]} (input ${input})`, range, zero, channels, weightsOf, bias);
  }

  private initializer(name: string, at: NodeProto): TensorProto {
    const tensor = this.initializers.get(name);
    if (!tensor) throw new ReferenceGraphError(`${at.opType} ${at.output?.[0]}: ${name} must be a constant initializer`);
    return tensor;
  }

  private isScalarInitializer(name: string): boolean {
    const tensor = this.initializers.get(name);
    return tensor !== undefined && tensorValues(tensor).length === 1;
  }

  private scalar(name: string, at: NodeProto): number {
    const values = tensorValues(this.initializer(name, at));
    if (values.length !== 1) throw new ReferenceGraphError(`${at.opType} ${at.output?.[0]}: ${name} must be a scalar`);
    return values[0]!;
  }

  private perChannel(name: string, channels: number, at: NodeProto): number[] {
    const values = tensorValues(this.initializer(name, at));
    if (values.length === 1) return new Array<number>(channels).fill(values[0]!);
    if (values.length !== channels)
      throw new ReferenceGraphError(`${at.opType} ${at.output?.[0]}: ${name} has ${values.length} values for ${channels} channels`);
    return values;
  }

  private elementCount(name: string): number | undefined {
    const tensor = this.initializers.get(name);
    return tensor ? tensorValues(tensor).length : undefined;
  }

  private addInitializer(tensor: TensorProto): string {
    this.added.push(tensor);
    return tensor.name!;
  }

  private name(base: string, suffix: string): string {
    return `argus_ref/${base}/${suffix}`; // node outputs are unique, so these are too
  }
}

/** A node's inputs, the first `required` of them checked present; the optional rest may be "" or undefined. */
function inputs(
  original: NodeProto,
  required: number,
): [string, string, string, string, string, string, string, string, string | undefined] {
  const names = original.input ?? [];
  if (names.length < required || names.slice(0, required).some((name) => !name)) {
    throw new ReferenceGraphError(`${original.opType} ${original.output?.[0]} has ${names.length} inputs, needs ${required}`);
  }
  const padded = Array.from({ length: 8 }, (_, index) => names[index] ?? "");
  return [...padded, names[8] || undefined] as [string, string, string, string, string, string, string, string, string | undefined];
}

function outputs(original: NodeProto): [string] {
  const name = original.output?.[0];
  if (!name) throw new ReferenceGraphError(`${original.opType} has no output`);
  return [name];
}
