/**
 * The "native-u8u8" form of an int8 network: every signed weight tensor of QLinearConv
 * and QLinearMatMul shifted by +128 into uint8, with its zero point shifted alike. The
 * arithmetic is unchanged ((w + 128) − (z + 128) = w − z), but onnxruntime then runs its
 * u8×u8 kernels, which widen to 16 bits before multiplying and so never saturate — on
 * AVX2-only CPUs too, where the u8×s8 kernels do (see reference-graph.ts).
 */
import { DataType, decodeModel, encodeModel, type TensorProto, tensorValues } from "./onnx-graph.ts";

export function unsignedWeightsGraph(weights: Uint8Array): Uint8Array {
  const model = decodeModel(weights);
  const initializers = new Map((model.graph?.initializer ?? []).map((tensor) => [tensor.name ?? "", tensor]));
  const shifted = new Set<string>();
  const uses = new Map<string, number>();
  for (const graphNode of model.graph?.node ?? []) for (const name of graphNode.input ?? []) uses.set(name, (uses.get(name) ?? 0) + 1);
  for (const graphNode of model.graph?.node ?? []) {
    if (graphNode.opType !== "QLinearConv" && graphNode.opType !== "QLinearMatMul") continue;
    const [weightName, zeroName] = [graphNode.input?.[3] ?? "", graphNode.input?.[5] ?? ""];
    const weightTensor = initializers.get(weightName);
    const zeroTensor = initializers.get(zeroName);
    if (weightTensor?.dataType !== DataType.INT8) continue;
    if (zeroTensor?.dataType !== DataType.INT8)
      throw new Error(`${graphNode.output?.[0]}: int8 weights need an int8 zero-point initializer`);
    for (const tensor of [weightTensor, zeroTensor]) {
      if (shifted.has(tensor.name ?? "")) continue;
      // Shared with another input (an activation's zero point, say), it must keep its meaning there.
      if ((uses.get(tensor.name ?? "") ?? 0) > 1) throw new Error(`${tensor.name} is shared by several inputs; cannot shift it to uint8`);
      shifted.add(tensor.name ?? "");
      tensor.rawData = shiftedToUnsigned(tensor);
      tensor.int32Data = [];
      tensor.dataType = DataType.UINT8;
    }
  }
  return encodeModel(model);
}

/** An int8 tensor's bytes plus 128, as uint8: flipping the top bit of each two's-complement byte. */
function shiftedToUnsigned(tensor: TensorProto): Uint8Array {
  const raw = tensor.rawData;
  const bytes = raw && raw.length > 0 ? new Uint8Array(raw) : Uint8Array.from(tensorValues(tensor), (value) => value & 0xff);
  for (let index = 0; index < bytes.length; index++) bytes[index] = bytes[index]! ^ 0x80;
  return bytes;
}
