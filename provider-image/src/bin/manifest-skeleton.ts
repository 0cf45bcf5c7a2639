/**
 * `npm run models:manifest -- MODEL.onnx [options]`
 *
 * Writes the manifest skeleton for a local ONNX file: its sha256, and the input and
 * output names, types and sizes as the graph declares them. What the graph cannot
 * say — how the network was trained to see images, and whether it outputs logits —
 * is filled with the most common choice (ImageNet / torchvision preprocessing, logits,
 * a self-test threshold one short of the reference set) and listed on stderr as
 * "check these". The result is validated against the schema
 * before it is written to `<out>/<id>.json` (never over an existing file without --force).
 *
 * Options:
 *   --id ID                 model id (default: the file name without .onnx)
 *   --name NAME             human-readable name (default: the id)
 *   --task classification|detection   (default: classification)
 *   --labels FILE           label file (default for 1000 classes: the ImageNet labels of the built-in models)
 *   --labels-format F       synset-lines | lines | json-array (default: guessed from the file)
 *   --url URL               where the ONNX file can be downloaded (recommended)
 *   --out DIR               where to write (default: provider-image/manifests)
 *   --force                 overwrite an existing manifest
 *   --stdout                print instead of writing
 */
import { readFile, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { InferenceSession } from "onnxruntime-node";
import { BUILTIN_MANIFESTS_DIR, listManifests } from "../models/catalog.ts";
import { optionalUserPath, parseCliArgs, runCli, UsageError, userPath } from "./cli.ts";
import { LabelFormatSchema, type LabelFormat, type ModelManifest, parseLabels, parseManifest } from "@argus/protocol/manifest";
import { sha256Hex } from "../models/sha256-file.ts";

const USAGE =
  "usage: npm run models:manifest -- MODEL.onnx [--id ID] [--name NAME] [--task classification|detection]\n" +
  "         [--labels FILE [--labels-format synset-lines|lines|json-array]] [--url URL] [--out DIR] [--force] [--stdout]";

const IMAGENET_LABELS_FILE = "imagenet-synset.txt";

runCli(USAGE, async () => {
  const { values, positionals } = parseCliArgs({
    options: {
      id: { type: "string" },
      name: { type: "string" },
      task: { type: "string", default: "classification" },
      labels: { type: "string" },
      "labels-format": { type: "string" },
      url: { type: "string" },
      out: { type: "string" },
      force: { type: "boolean", default: false },
      stdout: { type: "boolean", default: false },
    },
    allowPositionals: true,
  });
  const [onnxPath] = positionals;
  if (onnxPath === undefined || positionals.length > 1) throw new UsageError("give exactly one ONNX file");
  if (values.task !== "classification" && values.task !== "detection") throw new UsageError(`unknown --task ${values.task}`);

  const weights = await readFile(userPath(onnxPath));
  const session = await InferenceSession.create(weights);
  const graph = describeGraph(session);
  await session.release();

  const id = values.id ?? basename(onnxPath).replace(/\.onnx$/i, "");
  const labels = await labelsEntry(values.labels, values["labels-format"], graph.classCount(values.task));
  const skeleton = {
    manifestVersion: 1,
    id,
    name: values.name ?? id,
    task: values.task,
    weights: { file: basename(onnxPath), sha256: sha256Hex(weights), url: values.url },
    input: {
      name: graph.input.name,
      dtype: graph.input.dtype,
      layout: graph.input.layout,
      width: graph.input.width,
      height: graph.input.height,
    },
    preprocess:
      values.task === "classification"
        ? {
            resize: { policy: "resize-crop", shortSide: Math.round((Math.max(graph.input.width, graph.input.height) * 256) / 224) },
            interpolation: "bilinear",
            colorOrder: "RGB",
            scale: 1 / 255,
            mean: [0.485, 0.456, 0.406],
            std: [0.229, 0.224, 0.225],
          }
        : {
            resize: { policy: "letterbox", padValue: 114 },
            interpolation: "bilinear",
            colorOrder: "RGB",
            scale: 1 / 255,
            mean: [0, 0, 0],
            std: [1, 1, 1],
          },
    selfTest:
      values.task === "classification"
        ? { referenceSet: "imagenet-photos-v1", minimumCorrect: 5 }
        : { referenceSet: "coco-objects-v1", minimumCorrect: 8 },
    output:
      values.task === "classification"
        ? { name: graph.outputName, kind: "logits" }
        : { name: graph.outputName, kind: "detections", rowLayout: "cxcywh-objectness-classes" },
    ...(values.task === "detection" ? { detection: { scoreThreshold: 0.3, nmsIouThreshold: 0.45, maxDetections: 100 } } : {}),
    labels,
  };
  const manifest = parseManifest(skeleton, "the generated skeleton");
  const text = `${JSON.stringify(manifest, null, 2)}\n`;

  const checks = [
    `preprocess: resize policy, interpolation, colorOrder, scale, mean and std must be exactly the training pipeline's (defaults: ${values.task === "classification" ? "ImageNet/torchvision" : "letterbox 114, RGB, x/255"})`,
    values.task === "classification"
      ? `output.kind: "logits" assumed; use "probabilities" if the graph ends in a Softmax`
      : `detection thresholds and the output row layout`,
    `labels: ${manifest.labels.file} must sit in the models folder next to ${manifest.weights.file}`,
    `selfTest.minimumCorrect: how many of the reference set's items the model must get right before it is served`,
    ...(manifest.weights.url ? [] : ["weights.url: add the download URL so the file can be fetched and checked by digest"]),
    `then run the self-test: npx argus models check ${id} (and look at a few photos: npm run predict -- --model ${id} photo.jpg)`,
  ];
  if (values.stdout) {
    process.stdout.write(text);
  } else {
    const path = join(optionalUserPath(values.out) ?? BUILTIN_MANIFESTS_DIR, `${id}.json`);
    await writeFile(path, text, { flag: values.force ? "w" : "wx" }).catch((error: NodeJS.ErrnoException) => {
      throw error.code === "EEXIST" ? new UsageError(`${path} exists; pass --force to overwrite it`) : error;
    });
    process.stdout.write(`${path}\n`);
  }
  process.stderr.write(`Check before use:\n${checks.map((check) => `  - ${check}`).join("\n")}\n`);
});

function describeGraph(session: InferenceSession) {
  const [input] = session.inputMetadata;
  const [output] = session.outputMetadata;
  if (input === undefined || !input.isTensor || output === undefined || !output.isTensor) {
    throw new Error("the graph needs one tensor input and one tensor output");
  }
  if (input.type !== "float32" && input.type !== "float16")
    throw new Error(`input "${input.name}" is ${input.type}; the engine feeds float32 or float16`);
  const dims = input.shape.map((dim) => (typeof dim === "number" && dim > 0 ? dim : undefined));
  const layout = dims[1] === 3 ? "NCHW" : dims[3] === 3 ? "NHWC" : undefined;
  if (input.shape.length !== 4 || layout === undefined) {
    throw new Error(`input "${input.name}" has shape [${input.shape.join(", ")}]; expected [N, 3, H, W] or [N, H, W, 3]`);
  }
  const [height, width] = layout === "NCHW" ? [dims[2], dims[3]] : [dims[1], dims[2]];
  if (height === undefined || width === undefined)
    throw new Error(`input "${input.name}" has no fixed height and width; write the manifest's input size by hand`);
  const outputDims = output.shape.slice(1).map((dim) => (typeof dim === "number" ? dim : NaN));
  return {
    input: { name: input.name, dtype: input.type, layout, width, height },
    outputName: output.name,
    classCount: (task: string) =>
      task === "classification" ? outputDims.reduce((product, dim) => product * dim, 1) : (outputDims[outputDims.length - 1] ?? NaN) - 5,
  };
}

async function labelsEntry(file: string | undefined, format: string | undefined, classCount: number): Promise<ModelManifest["labels"]> {
  if (file === undefined) {
    const imagenet = (await listManifests([BUILTIN_MANIFESTS_DIR])).find((manifest) => manifest.labels.file === IMAGENET_LABELS_FILE);
    if (classCount === 1000 && imagenet !== undefined) return imagenet.labels;
    throw new UsageError(`the output scores ${classCount} classes: give their names with --labels FILE`);
  }
  const bytes = await readFile(userPath(file));
  const text = new TextDecoder().decode(bytes);
  const labelFormat: LabelFormat = format !== undefined ? LabelFormatSchema.parse(format) : guessLabelFormat(text);
  const count = parseLabels(text, labelFormat).length;
  if (Number.isFinite(classCount) && count !== classCount)
    throw new UsageError(`${file} names ${count} classes; the output scores ${classCount}`);
  return { file: basename(file), format: labelFormat, sha256: sha256Hex(bytes) };
}

function guessLabelFormat(text: string): LabelFormat {
  if (text.trimStart().startsWith("[")) return "json-array";
  return /^n\d{8}\s/.test(text) ? "synset-lines" : "lines";
}
