/**
 * Variants of the shared MobileNetV2 graph that need manifest fields the shared models
 * do not: an NHWC input, a 1001-class output with a background class first, a 299×299
 * input. Each is the same network with a few nodes added or a dimension changed, so
 * its answers are known — which is what lets a test show that the field is honoured.
 */
import { createHash } from "node:crypto";
import { copyFile, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeModel, encodeModel, floatTensor, intsAttribute, type ModelProto, node } from "@argus/provider-image/onnx-graph";
import { SHARED_MODELS_DIR } from "../../support/shared.ts";

type Edit = (model: ModelProto) => void;

function graphOf(model: ModelProto) {
  const graph = model.graph;
  if (!graph?.input?.[0] || !graph.output?.[0] || !graph.node) throw new Error("MobileNetV2 has an input, an output and nodes");
  return { graph, input: graph.input[0], output: graph.output[0], nodes: graph.node };
}

/** The input becomes `[N, 224, 224, 3]`, transposed to NCHW by the graph's first node. */
export const nhwcInput: Edit = (model) => {
  const { input, nodes } = graphOf(model);
  const dims = input.type!.tensorType!.shape!.dim!;
  input.name = "input_nhwc";
  input.type!.tensorType!.shape!.dim = [dims[0]!, dims[2]!, dims[3]!, dims[1]!];
  nodes.unshift(node("Transpose", ["input_nhwc"], ["input"], [intsAttribute("perm", [0, 3, 1, 2])]));
};

/**
 * The output becomes `[N, 1001]`: a "background" logit first, ten below the image's
 * lowest class logit (so the class ranking and, nearly, the scores stay the same).
 */
export const backgroundFirst: Edit = (model) => {
  const { graph, output, nodes } = graphOf(model);
  graph.initializer!.push(floatTensor("background_margin", [], [10]));
  nodes.push(
    node("ReduceMin", ["output"], ["lowest_logit"], [intsAttribute("axes", [1])]),
    node("Sub", ["lowest_logit", "background_margin"], ["background_logit"]),
    node("Concat", ["background_logit", "output"], ["output_1001"], [{ name: "axis", type: 2, i: 1 }]),
  );
  output.name = "output_1001";
  output.type!.tensorType!.shape!.dim![1] = { dimValue: 1001 };
};

/** The input becomes 299×299 (the network is convolutional up to a global pool, so it runs unchanged). */
export const input299: Edit = (model) => {
  const dims = graphOf(model).input.type!.tensorType!.shape!.dim!;
  dims[2] = { dimValue: 299 };
  dims[3] = { dimValue: 299 };
};

/**
 * Writes MobileNetV2 with `edits` applied as `<name>.onnx` into a fresh models folder
 * (with the ImageNet labels) and returns the folder and the file's sha256.
 */
export async function mobilenetVariant(name: string, ...edits: Edit[]): Promise<{ dir: string; file: string; sha256: string }> {
  const model = decodeModel(await readFile(join(SHARED_MODELS_DIR, "mobilenetv2-12-int8.onnx")));
  for (const edit of edits) edit(model);
  const bytes = encodeModel(model);
  const dir = await mkdtemp(join(tmpdir(), "argus-variant-"));
  const file = `${name}.onnx`;
  await writeFile(join(dir, file), bytes);
  await copyFile(join(SHARED_MODELS_DIR, "imagenet-synset.txt"), join(dir, "imagenet-synset.txt"));
  return { dir, file, sha256: createHash("sha256").update(bytes).digest("hex") };
}
