/**
 * The model manifest: everything needed to turn an image into a prediction with one
 * ONNX file, and nothing that depends on where the code runs. It is the single
 * description every package reads — the provider image runs it, the oracle checks the
 * weights digest against it, the web UI shows its name, task and labels — and its
 * canonical JSON is what gets pinned to IPFS (`manifestCid` in the model registry).
 *
 * Adding a model is writing one of these (see provider-image/README.md); the engine
 * has no per-model code. Preprocessing must match what the network was trained with
 * exactly, or its accuracy falls to chance: the fields below spell out each step.
 *
 * Browser-safe: zod and multiformats only.
 */
import { z } from "zod";
import { canonicalJsonBytes } from "./canonical-json.ts";
import { ModelIdSchema, PlainFileNameSchema, Sha256HexSchema } from "./ids.ts";

export const MANIFEST_VERSION = 1;

/** A file the model needs, pinned by digest; `url` is where to download it if absent. */
const PinnedFileFields = {
  /** File name inside the models folder. */
  file: PlainFileNameSchema,
  /** sha256 of the file's bytes; a file that does not match is refused. */
  sha256: Sha256HexSchema,
  /** Optional download source; whatever it serves is checked against `sha256`. */
  url: z.url({ protocol: /^https?$/ }).optional(),
};

export const WeightsSchema = z.strictObject(PinnedFileFields);

/**
 * Label file formats:
 * - `synset-lines`: one class per line, `nXXXXXXXX name, synonyms`; the label is the text after the WordNet id.
 * - `lines`: one class per line, the whole line is the label.
 * - `json-array`: a JSON array of strings.
 * Line N (0-based) / element N names class N.
 */
export const LabelFormatSchema = z.enum(["synset-lines", "lines", "json-array"]);
export type LabelFormat = z.infer<typeof LabelFormatSchema>;

export const LabelsSchema = z.strictObject({ ...PinnedFileFields, format: LabelFormatSchema });

const positiveInt = z.int().min(1).max(8192);

/**
 * A tensor's name in the ONNX graph. It may be left out when the graph has exactly one
 * input (or one output): the loader then takes that one, still checking its type and
 * shape against the manifest. Published zoo files are named inconsistently across
 * versions, so a catalogue entry written before its file was seen leaves them out.
 */
const TensorNameSchema = z.string().min(1).optional();

/** The network's image input. `N` (batch) is read from the model: dynamic or fixed. */
export const InputSchema = z.strictObject({
  name: TensorNameSchema,
  dtype: z.enum(["float32", "float16"]),
  /** NCHW: [N, 3, height, width]; NHWC: [N, height, width, 3]. */
  layout: z.enum(["NCHW", "NHWC"]),
  width: positiveInt,
  height: positiveInt,
});

/**
 * How the decoded (EXIF-upright, sRGB, alpha flattened on white) image becomes
 * exactly `input.width` × `input.height` pixels.
 * - `resize-crop`: scale so the short side is `shortSide`, then cut the centre.
 *   (`shortSide` 256 for a 224 input is the classic ImageNet "resize 256, crop 224".)
 * - `resize`: scale each side to the input's, without cropping and without keeping the
 *   aspect ratio (Caffe's GoogLeNet evaluation, for example).
 * - `letterbox`: scale to fit inside the input keeping the aspect ratio, centre it and
 *   fill the borders with `padValue` (0–255, the same in every channel).
 */
export const ResizePolicySchema = z.discriminatedUnion("policy", [
  z.strictObject({ policy: z.literal("resize-crop"), shortSide: positiveInt }),
  z.strictObject({ policy: z.literal("resize") }),
  z.strictObject({ policy: z.literal("letterbox"), padValue: z.int().min(0).max(255) }),
]);
export type ResizePolicy = z.infer<typeof ResizePolicySchema>;

const channelTriple = z.tuple([z.number(), z.number(), z.number()]);

export const PreprocessSchema = z.strictObject({
  resize: ResizePolicySchema,
  /** Resampling kernel used for scaling (the training pipeline's; usually bilinear). */
  interpolation: z.enum(["bilinear", "bicubic", "lanczos3", "nearest"]),
  /** Channel order of the tensor: RGB, or BGR for Caffe/OpenCV-trained networks. */
  colorOrder: z.enum(["RGB", "BGR"]),
  /**
   * Per channel: value = (pixel × scale − mean[c]) / std[c], pixel in 0–255.
   * `mean` and `std` are in the tensor's channel order (`colorOrder`), so for a BGR
   * network mean[0] is the blue mean.
   */
  scale: z.number().positive(),
  mean: channelTriple,
  std: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]),
});
export type Preprocess = z.infer<typeof PreprocessSchema>;

/** A classifier's output: `[N, classes]` (extra trailing 1-dims allowed), raw logits or probabilities. */
export const ClassificationOutputSchema = z.strictObject({
  name: TensorNameSchema,
  /** `logits` are softmaxed over every output; `probabilities` are used as they are. */
  kind: z.enum(["logits", "probabilities"]),
  /**
   * True when output 0 is a "background" class the labels do not name, so the output
   * has one value more than there are labels (TensorFlow-slim's 1001-class ImageNet
   * networks). Results number classes as the labels do: output i + 1 is class i, and
   * the background is never reported.
   */
  backgroundClass: z.boolean().optional(),
});

/**
 * A detector's output: `[N, rows, 5 + classes]`.
 * Row layout `cxcywh-objectness-classes`: centre x, centre y, width, height in input
 * pixels (after letterbox), then objectness, then one probability per class.
 * A row's score is objectness × its best class probability.
 */
export const DetectionOutputSchema = z.strictObject({
  name: TensorNameSchema,
  kind: z.literal("detections"),
  rowLayout: z.literal("cxcywh-objectness-classes"),
});

/** What counts as a detection: score threshold, class-wise NMS IoU threshold, a cap on the count. */
export const DetectionSettingsSchema = z.strictObject({
  scoreThreshold: z.number().min(0).max(1),
  nmsIouThreshold: z.number().min(0).max(1),
  maxDetections: z.int().min(1).max(1000),
});

/**
 * The bundled reference sets a model is tested on before it goes live (see
 * provider-image/reference-set): photos with known ImageNet-1k classes for classifiers
 * whose labels are the 1000 ImageNet classes in the usual order, and photos with known
 * boxes of COCO classes (matched by label text) for detectors. The version is part of
 * the name: a set never changes once published, so a threshold keeps its meaning.
 */
export const ReferenceSetSchema = z.enum(["imagenet-photos-v1", "coco-objects-v1"]);
export type ReferenceSet = z.infer<typeof ReferenceSetSchema>;

/**
 * The self-test every model must pass before it is registered or served: how many of
 * the reference set's items (photos for a classifier, objects for a detector) it must
 * get right, and — recorded by `argus models add` / `argus models check --record` —
 * what it measured, which the web UI shows. The engine re-runs the test whenever it
 * loads the model; the recorded score is a claim anyone can re-check the same way.
 */
export const SelfTestSchema = z
  .strictObject({
    referenceSet: ReferenceSetSchema,
    minimumCorrect: z.int().min(1).max(1000),
    measured: z.strictObject({ correct: z.int().min(0).max(1000), total: z.int().min(1).max(1000) }).optional(),
  })
  .refine((selfTest) => selfTest.measured === undefined || selfTest.measured.correct <= selfTest.measured.total, {
    message: "measured.correct cannot exceed measured.total",
    path: ["measured", "correct"],
  });
export type SelfTest = z.infer<typeof SelfTestSchema>;

const identityFields = {
  manifestVersion: z.literal(MANIFEST_VERSION),
  id: ModelIdSchema,
  /** Human-readable name, shown in the UI. */
  name: z.string().min(1).max(200),
  /** Free text: where the model comes from, its licence, its accuracy. */
  description: z.string().max(2000).optional(),
  license: z.string().max(200).optional(),
  /**
   * Present when nobody has established that the weights are the trained ones (an
   * automated export that may carry random weights, say): why. Only the self-test
   * decides whether such a model may go live.
   */
  unverified: z.string().min(1).max(500).optional(),
};

const pipelineFields = {
  weights: WeightsSchema,
  input: InputSchema,
  preprocess: PreprocessSchema,
  selfTest: SelfTestSchema,
};

export const ClassificationManifestSchema = z.strictObject({
  ...identityFields,
  task: z.literal("classification"),
  ...pipelineFields,
  output: ClassificationOutputSchema,
  labels: LabelsSchema,
});

export const DetectionManifestSchema = z.strictObject({
  ...identityFields,
  task: z.literal("detection"),
  ...pipelineFields,
  output: DetectionOutputSchema,
  detection: DetectionSettingsSchema,
  labels: LabelsSchema,
});

/**
 * The tasks a model can do. Semantic segmentation (the other seed's Mask R-CNN) is
 * not served yet for want of a small, redistributable ONNX model; it will be one more
 * member here (and registry task code 2, see TASK_CODES in @argus/escrow), with its
 * own result shape in result.ts — nothing that exists needs to change for it.
 */
export const ModelManifestSchema = z
  .discriminatedUnion("task", [ClassificationManifestSchema, DetectionManifestSchema])
  .superRefine((manifest, context) => {
    const { resize } = manifest.preprocess;
    const longest = Math.max(manifest.input.width, manifest.input.height);
    if (resize.policy === "resize-crop" && resize.shortSide < longest) {
      context.addIssue({
        code: "custom",
        path: ["preprocess", "resize", "shortSide"],
        message: `shortSide ${resize.shortSide} must be at least the input's longest side (${longest}) to crop from it`,
      });
    }
    const expectedSet = manifest.task === "classification" ? "imagenet-photos-v1" : "coco-objects-v1";
    if (manifest.selfTest.referenceSet !== expectedSet) {
      context.addIssue({
        code: "custom",
        path: ["selfTest", "referenceSet"],
        message: `a ${manifest.task} model is tested on "${expectedSet}", not "${manifest.selfTest.referenceSet}"`,
      });
    }
  });

export type ModelManifest = z.infer<typeof ModelManifestSchema>;
export type ClassificationManifest = z.infer<typeof ClassificationManifestSchema>;
export type DetectionManifest = z.infer<typeof DetectionManifestSchema>;
export type ModelTask = ModelManifest["task"];

export class InvalidManifestError extends Error {
  override name = "InvalidManifestError";
}

/** Validates untrusted JSON as a manifest; the error lists every problem with its path. */
export function parseManifest(json: unknown, origin = "manifest"): ModelManifest {
  const parsed = ModelManifestSchema.safeParse(json);
  if (!parsed.success) throw new InvalidManifestError(`${origin} is not a valid model manifest:\n${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** The manifest's canonical bytes: what is pinned to IPFS and named by `manifestCid`. */
export function manifestBytes(manifest: ModelManifest): Uint8Array {
  return canonicalJsonBytes(manifest);
}

/** Label text for each format's line or element. */
export function parseLabels(text: string, format: LabelFormat): string[] {
  if (format === "json-array") {
    const labels = z.array(z.string()).parse(JSON.parse(text));
    return labels;
  }
  const lines = text.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === "") lines.pop(); // trailing newline(s)
  if (format === "lines") return lines.map((line) => line.trim());
  return lines.map((line, index) => {
    const match = /^n\d{8}\s+(.+)$/.exec(line.trim());
    if (!match) throw new InvalidManifestError(`synset label line ${index + 1} is not "nXXXXXXXX name": ${JSON.stringify(line)}`);
    return match[1]!;
  });
}
