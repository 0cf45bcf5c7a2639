/**
 * Just enough of the ONNX format to rewrite a graph: decode and encode a model, read an
 * initializer's values, and make new initializers and nodes. Built on `onnx-proto`
 * (the ONNX protobuf schema compiled for JavaScript).
 */
import onnxProto from "onnx-proto";

const { onnx } = onnxProto;
export type ModelProto = onnxProto.onnx.ModelProto;
export type NodeProto = onnxProto.onnx.INodeProto;
export type TensorProto = onnxProto.onnx.ITensorProto;

export const DataType = onnx.TensorProto.DataType;

export function decodeModel(bytes: Uint8Array): ModelProto {
  return onnx.ModelProto.decode(bytes);
}

export function encodeModel(model: ModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

/** The opset version the model imports for `domain` ("" is the default ONNX domain). */
export function opsetVersion(model: ModelProto, domain = ""): number | undefined {
  const entry = model.opsetImport.find((opset) => (opset.domain ?? "") === domain || (domain === "" && opset.domain === "ai.onnx"));
  return entry?.version === undefined || entry.version === null ? undefined : Number(entry.version);
}

/** An initializer's values as plain numbers, whatever its element type and storage. */
export function tensorValues(tensor: TensorProto): number[] {
  const raw = tensor.rawData;
  if (raw && raw.length > 0) {
    const bytes = new Uint8Array(raw); // a copy: the view below must be aligned
    switch (tensor.dataType) {
      case DataType.UINT8:
        return Array.from(bytes);
      case DataType.INT8:
        return Array.from(new Int8Array(bytes.buffer));
      case DataType.INT32:
        return Array.from(new Int32Array(bytes.buffer));
      case DataType.FLOAT:
        return Array.from(new Float32Array(bytes.buffer));
      case DataType.INT64:
        return Array.from(new BigInt64Array(bytes.buffer), Number);
      default:
        throw new Error(`initializer ${tensor.name}: element type ${tensor.dataType} is not supported here`);
    }
  }
  switch (tensor.dataType) {
    case DataType.UINT8:
    case DataType.INT8:
    case DataType.INT32:
      return (tensor.int32Data ?? []).map(Number);
    case DataType.FLOAT:
      return (tensor.floatData ?? []).map(Number);
    case DataType.INT64:
      return (tensor.int64Data ?? []).map(Number);
    default:
      throw new Error(`initializer ${tensor.name}: element type ${tensor.dataType} is not supported here`);
  }
}

export function tensorDims(tensor: TensorProto): number[] {
  return (tensor.dims ?? []).map(Number);
}

export function floatTensor(name: string, dims: readonly number[], values: ArrayLike<number>): TensorProto {
  return { name, dims: [...dims], dataType: DataType.FLOAT, rawData: new Uint8Array(Float32Array.from(values).buffer) };
}

export function doubleTensor(name: string, dims: readonly number[], values: ArrayLike<number>): TensorProto {
  return { name, dims: [...dims], dataType: DataType.DOUBLE, rawData: new Uint8Array(Float64Array.from(values).buffer) };
}

export function int64Tensor(name: string, dims: readonly number[], values: readonly number[]): TensorProto {
  return { name, dims: [...dims], dataType: DataType.INT64, rawData: new Uint8Array(BigInt64Array.from(values, BigInt).buffer) };
}

/** A scalar of the same element type as `like` (a zero point), holding `value`. */
export function scalarLike(name: string, like: TensorProto, value: number): TensorProto {
  const dataType = like.dataType ?? DataType.UINT8;
  const bytes = dataType === DataType.INT8 ? new Uint8Array(Int8Array.of(value).buffer) : Uint8Array.of(value);
  return { name, dims: [], dataType, rawData: bytes };
}

export function node(
  opType: string,
  inputs: readonly string[],
  outputs: readonly string[],
  attributes: onnxProto.onnx.IAttributeProto[] = [],
): NodeProto {
  return { opType, input: [...inputs], output: [...outputs], attribute: attributes, domain: "" };
}

export function intAttribute(name: string, value: number): onnxProto.onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INT, i: value };
}

export function intsAttribute(name: string, values: readonly number[]): onnxProto.onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INTS, ints: [...values] };
}
