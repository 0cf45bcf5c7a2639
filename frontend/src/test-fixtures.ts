/** Results shaped exactly as the engine writes them, for the component and verification tests. */
import type { ModelManifest } from "@argus/protocol/manifest";
import type { ClassificationResult, DetectionResult } from "@argus/protocol/result";

export const IMAGE_CID = "bafkreidxv53ywunl2sr4khc53wlsasu4hltbj26mw5nga3b3nbs25vtujy";

const common = {
  schemaVersion: 3 as const,
  requestId: "123456789012345678901234567890",
  imageCid: IMAGE_CID,
  weightsSha256: "cc028fe6cae7bc11a4ff53cfc9b79c920e8be65ce33a904ec3e2a8f66d77f95f",
  manifestCid: "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy",
  image: { width: 640, height: 480, format: "jpeg" as const },
  timings: { decodeMs: 9.5, inferenceMs: 1.6, batchSize: 1 },
  runtime: {
    engine: "0.1.0",
    node: "24.21.0",
    onnxruntime: "1.30.0",
    sharp: "0.35.5",
    libvips: "8.17.0",
    inferencePath: "native-int8" as const,
  },
};

export const classification: ClassificationResult = {
  ...common,
  modelId: "mobilenetv2-12-int8",
  task: "classification",
  top5: [
    { classIndex: 281, label: "tabby, tabby cat", score: 0.6123 },
    { classIndex: 282, label: "tiger cat", score: 0.2011 },
    { classIndex: 285, label: "Egyptian cat", score: 0.1502 },
    { classIndex: 287, label: "lynx, catamount", score: 0.0101 },
    { classIndex: 728, label: "plastic bag", score: 0.0042 },
  ],
};

export const detection: DetectionResult = {
  ...common,
  modelId: "fastestdet-coco80",
  task: "detection",
  detections: [
    { classIndex: 5, label: "bus", score: 0.75, box: { x: 10, y: 40, width: 600, height: 380 } },
    { classIndex: 0, label: "person", score: 0.83, box: { x: 500, y: 200, width: 60, height: 200 } },
  ],
};

/** A manifest as the registry pins it, with the score `argus models add` records. */
export const classifierManifest: ModelManifest = {
  manifestVersion: 1,
  id: "mobilenetv2-12-int8",
  name: "MobileNetV2 1.0 (ImageNet, int8)",
  task: "classification",
  weights: { file: "mobilenetv2-12-int8.onnx", sha256: common.weightsSha256 },
  input: { name: "input", dtype: "float32", layout: "NCHW", width: 224, height: 224 },
  preprocess: {
    resize: { policy: "resize-crop", shortSide: 256 },
    interpolation: "bilinear",
    colorOrder: "RGB",
    scale: 1 / 255,
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
  },
  selfTest: { referenceSet: "imagenet-photos-v1", minimumCorrect: 6, measured: { correct: 6, total: 6 } },
  output: { name: "output", kind: "logits" },
  labels: {
    file: "imagenet-synset.txt",
    format: "synset-lines",
    sha256: "acf75ef0abe89694b19056e0796401068b459c457baa30335f240c7692857355",
  },
};
