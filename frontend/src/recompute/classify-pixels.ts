/// <reference lib="esnext.float16" />
/**
 * A classifier run on one image's pixels with onnxruntime-web (WASM, one thread), its
 * output read exactly as the engine reads it: the input data from @argus/protocol's pixel
 * writer (the engine's), the top classes from @argus/protocol's `topClasses` (the
 * engine's). Only the kernels differ: onnxruntime's WASM build instead of its native one.
 * Runs in the browser and in Node (the measurement script and its test use it there).
 */
import { allocateInputData, createPixelWriter, inputDims } from "@argus/protocol/input-data";
import type { ClassificationManifest } from "@argus/protocol/manifest";
import type { ClassScore } from "@argus/protocol/result";
import { topClasses } from "@argus/protocol/top-classes";

/** The onnxruntime-web module (`import("onnxruntime-web/wasm")`). */
export type OrtModule = typeof import("onnxruntime-web/wasm");
export type OrtSession = Awaited<ReturnType<OrtModule["InferenceSession"]["create"]>>;

/** One session per model: single-threaded, so no SharedArrayBuffer is needed for it. */
export async function createClassifierSession(ort: OrtModule, weights: Uint8Array): Promise<OrtSession> {
  ort.env.wasm.numThreads = 1;
  return ort.InferenceSession.create(weights, { executionProviders: ["wasm"], graphOptimizationLevel: "all", logSeverityLevel: 3 });
}

/** The top-5 classes of one image, from its `input.height × input.width × 3` RGB pixels. */
export async function classifyPixels(
  ort: OrtModule,
  session: OrtSession,
  manifest: ClassificationManifest,
  pixels: Uint8Array,
  labels: readonly string[],
): Promise<ClassScore[]> {
  const data = allocateInputData(manifest, 1);
  createPixelWriter(manifest)(pixels, data, 0);
  const input =
    data instanceof Float32Array
      ? new ort.Tensor("float32", data, inputDims(manifest, 1))
      : // onnxruntime-web takes float16 as the raw bits.
        new ort.Tensor("float16", new Uint16Array(data.buffer, data.byteOffset, data.length), inputDims(manifest, 1));
  // A manifest may leave the names out when the graph has one input and one output (as the engine allows).
  const inputName = manifest.input.name ?? onlyName(session.inputNames, "input");
  const outputName = manifest.output.name ?? onlyName(session.outputNames, "output");
  const outputs = await session.run({ [inputName]: input });
  const output = outputs[outputName];
  if (output === undefined) throw new Error(`the network has no output named ${outputName}`);
  try {
    const values = output.type === "float16" ? float16Values(output.data) : (output.data as Float32Array);
    return topClasses(values, 0, values.length, manifest.output, labels);
  } finally {
    input.dispose();
    output.dispose();
  }
}

function onlyName(names: readonly string[], side: string): string {
  if (names.length !== 1 || names[0] === undefined) throw new Error(`the manifest names no ${side} and the graph has ${names.length}`);
  return names[0];
}

/** float16 output data → numbers (onnxruntime-web hands out Float16Array where it exists, else the raw bits). */
function float16Values(data: unknown): ArrayLike<number> {
  if (data instanceof Float16Array) return data;
  if (data instanceof Uint16Array) return new Float16Array(data.buffer, data.byteOffset, data.length);
  throw new Error("unexpected float16 output data");
}
