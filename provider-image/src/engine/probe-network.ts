/**
 * A tiny int8 network that holds the cases where onnxruntime's native kernels can part
 * from exact integer arithmetic, with inputs that trigger them (see inference-path.ts):
 *
 * - a 1×1 QLinearConv and a QLinearMatMul with int8 weights, fed a row of 255s against
 *   columns of −128: each pair of products sums to −65,280, which a saturating 16-bit
 *   multiply-add (AVX2 `vpmaddubsw`) clips to −32,768 — the requantized outputs then
 *   differ by dozens of steps; the other rows are pseudo-random;
 * - a QLinearAdd over all 65,536 pairs of input bytes, whose float rounding differs
 *   between onnxruntime's kernels (x86 AVX2 fused multiply-adds, SSE2, arm64 fixed point).
 */
import { Tensor } from "onnxruntime-node";
import { DataType, encodeModel, floatTensor, intsAttribute, node, type TensorProto } from "./onnx-graph.ts";

const ROWS = 8;
const DEPTH = 64;
const COLUMNS = 16;
const SATURATING_COLUMNS = 4;

export function probeNetwork(): { model: Uint8Array; feeds: Record<string, Tensor> } {
  const random = lcg(0x5eed);
  const weights = Int8Array.from({ length: COLUMNS * DEPTH }, (_, index) => {
    const column = Math.floor(index / DEPTH);
    return column < SATURATING_COLUMNS ? -128 : (random() % 256) - 128;
  });
  // QLinearMatMul wants [depth, columns]: the transpose of the conv's [columns, depth].
  const transposed = Int8Array.from(
    { length: COLUMNS * DEPTH },
    (_, index) => weights[(index % COLUMNS) * DEPTH + Math.floor(index / COLUMNS)]!,
  );
  const weightScales = Array.from({ length: COLUMNS }, (_, column) => 0.002 + 0.0001 * column);
  const initializers: TensorProto[] = [
    floatTensor("x_scale", [], [0.02]),
    bytes("x_zero", DataType.UINT8, [], [0]),
    bytes("w", DataType.INT8, [COLUMNS, DEPTH, 1, 1], weights),
    floatTensor("w_scale", [COLUMNS], weightScales),
    bytes("w_zero", DataType.INT8, [], [0]),
    floatTensor("y_scale", [], [1.31]),
    bytes("y_zero", DataType.UINT8, [], [128]),
    floatTensor("a_scale", [], [0.02]),
    bytes("a_zero", DataType.UINT8, [], [17]),
    bytes("b", DataType.INT8, [DEPTH, COLUMNS], transposed),
    floatTensor("b_scale", [COLUMNS], weightScales),
    bytes("b_zero", DataType.INT8, [COLUMNS], new Array<number>(COLUMNS).fill(0)),
    floatTensor("m_scale", [], [1.29]),
    bytes("m_zero", DataType.UINT8, [], [120]),
    floatTensor("p_scale", [], [0.0123]),
    bytes("p_zero", DataType.UINT8, [], [3]),
    floatTensor("q_scale", [], [0.0456]),
    bytes("q_zero", DataType.UINT8, [], [250]),
    floatTensor("s_scale", [], [0.0789]),
    bytes("s_zero", DataType.UINT8, [], [128]),
  ];
  const nodes = [
    node(
      "QLinearConv",
      ["x", "x_scale", "x_zero", "w", "w_scale", "w_zero", "y_scale", "y_zero"],
      ["conv"],
      [intsAttribute("kernel_shape", [1, 1])],
    ),
    node("QLinearMatMul", ["a", "a_scale", "a_zero", "b", "b_scale", "b_zero", "m_scale", "m_zero"], ["matmul"]),
    { ...node("QLinearAdd", ["p", "p_scale", "p_zero", "q", "q_scale", "q_zero", "s_scale", "s_zero"], ["add"]), domain: "com.microsoft" },
  ];
  const model = encodeModel({
    irVersion: 7,
    opsetImport: [
      { domain: "", version: 12 },
      { domain: "com.microsoft", version: 1 },
    ],
    graph: {
      name: "argus-kernel-probe",
      node: nodes,
      initializer: initializers,
      input: [valueInfo("x", [ROWS, DEPTH, 1, 1]), valueInfo("a", [ROWS, DEPTH]), valueInfo("p", [65536]), valueInfo("q", [65536])],
      output: [valueInfo("conv", [ROWS, COLUMNS, 1, 1]), valueInfo("matmul", [ROWS, COLUMNS]), valueInfo("add", [65536])],
    },
  } as never);

  const rows = Uint8Array.from({ length: ROWS * DEPTH }, (_, index) => (index < DEPTH ? 255 : random() % 256));
  const pairs = Uint8Array.from({ length: 65536 }, (_, index) => index & 255);
  const partners = Uint8Array.from({ length: 65536 }, (_, index) => index >> 8);
  return {
    model,
    feeds: {
      x: new Tensor("uint8", rows, [ROWS, DEPTH, 1, 1]),
      a: new Tensor("uint8", rows, [ROWS, DEPTH]),
      p: new Tensor("uint8", pairs, [65536]),
      q: new Tensor("uint8", partners, [65536]),
    },
  };
}

function bytes(name: string, dataType: number, dims: number[], values: ArrayLike<number>): TensorProto {
  const raw = dataType === DataType.INT8 ? new Uint8Array(Int8Array.from(values).buffer) : Uint8Array.from(values);
  return { name, dims, dataType, rawData: raw };
}

function valueInfo(name: string, dims: number[]) {
  return { name, type: { tensorType: { elemType: DataType.UINT8, shape: { dim: dims.map((dimValue) => ({ dimValue })) } } } };
}

/** A small deterministic generator (Numerical Recipes' LCG): the probe must be the same everywhere. */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state >>> 16;
  };
}
