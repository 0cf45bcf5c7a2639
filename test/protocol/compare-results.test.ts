/**
 * The comparison of two results (`@argus/protocol/compare-results`): what the oracle's
 * cross-check, `argus verify --recompute` and the browser recompute count as the same
 * answer. No model needed: results are built by hand around real-looking values.
 */
import { expect } from "chai";
import {
  CLASSIFICATION_SCORE_TOLERANCE,
  compareResults,
  DETECTION_MIN_IOU,
  DETECTION_SCORE_TOLERANCE,
  iou,
} from "@argus/protocol/compare-results";
import type { ClassificationResult, DetectionResult, ErrorResult } from "@argus/protocol/result";
import { SOME_CID } from "../provider-image/support/engine.ts";

const WEIGHTS = "cc028fe6cae7bc11a4ff53cfc9b79c920e8be65ce33a904ec3e2a8f66d77f95f";
const RUNTIME = {
  engine: "0.1.0",
  node: "24.21.0",
  onnxruntime: "1.30.0",
  sharp: "0.35.5",
  libvips: "8.18.7",
  inferencePath: "native-int8" as const,
};
const TIMINGS = { decodeMs: 9.5, inferenceMs: 3.25, batchSize: 16 };
const TOP5 = [
  { classIndex: 285, label: "Egyptian cat", score: 0.622638 },
  { classIndex: 282, label: "tiger cat", score: 0.202949 },
  { classIndex: 281, label: "tabby", score: 0.1 },
  { classIndex: 287, label: "lynx", score: 0.03 },
  { classIndex: 283, label: "Persian cat", score: 0.0299 },
];

function classification(overrides: Partial<ClassificationResult> = {}): ClassificationResult {
  return {
    schemaVersion: 3,
    requestId: "42",
    imageCid: SOME_CID,
    modelId: "mobilenetv2-12-int8",
    task: "classification",
    weightsSha256: WEIGHTS,
    manifestCid: SOME_CID,
    image: { width: 1000, height: 800, format: "jpeg" },
    top5: TOP5,
    timings: TIMINGS,
    runtime: RUNTIME,
    ...overrides,
  };
}

const DETECTIONS: DetectionResult["detections"] = [
  { classIndex: 0, label: "person", score: 0.81, box: { x: 100, y: 200, width: 50, height: 120 } },
  { classIndex: 5, label: "bus", score: 0.77, box: { x: 10, y: 20, width: 600, height: 400 } },
];

function detection(detections = DETECTIONS): DetectionResult {
  return {
    schemaVersion: 3,
    requestId: "7",
    imageCid: SOME_CID,
    modelId: "fastestdet-coco80",
    task: "detection",
    weightsSha256: WEIGHTS,
    manifestCid: SOME_CID,
    image: { width: 810, height: 1080, format: "jpeg" },
    detections,
    timings: TIMINGS,
    runtime: RUNTIME,
  };
}

function errorResult(code: ErrorResult["error"]["code"], message = "bad"): ErrorResult {
  return { schemaVersion: 3, requestId: "42", imageCid: SOME_CID, modelId: "mobilenetv2-12-int8", error: { code, message } };
}

describe("provider-image: comparing two results", function () {
  it("states the tolerances the issue fixes: 1e-4 for classification scores, IoU ≥ 0.9 for boxes", function () {
    expect(CLASSIFICATION_SCORE_TOLERANCE).to.equal(1e-4);
    expect(DETECTION_MIN_IOU).to.equal(0.9);
    expect(DETECTION_SCORE_TOLERANCE).to.be.above(0).and.at.most(1e-3);
  });

  describe("classification", function () {
    it("agrees with itself, and ignores timings and runtime versions", function () {
      const other = classification({ timings: { decodeMs: 1, inferenceMs: 99, batchSize: 1 }, runtime: { ...RUNTIME, node: "24.0.0" } });
      expect(compareResults(classification(), other)).to.deep.equal({ agree: true, differences: [] });
    });

    it("accepts scores within 1e-4 and rejects one just beyond", function () {
      const near = TOP5.map((entry, index) => (index === 0 ? { ...entry, score: entry.score + 0.00009 } : entry));
      expect(compareResults(classification(), classification({ top5: near })).agree).to.equal(true);
      const far = TOP5.map((entry, index) => (index === 0 ? { ...entry, score: entry.score + 0.00011 } : entry));
      const comparison = compareResults(classification(), classification({ top5: far }));
      expect(comparison.agree).to.equal(false);
      expect(comparison.differences.map((d) => d.field)).to.deep.equal(["top5[class 285].score"]);
    });

    it("reports a result with the right schema but the wrong classes (a lying provider)", function () {
      const lie = TOP5.map((entry, index) => ({ ...entry, classIndex: 900 + index, label: `wrong ${index}` }));
      const comparison = compareResults(classification(), classification({ top5: lie }));
      expect(comparison.agree).to.equal(false);
      expect(comparison.differences).to.deep.equal([{ field: "top5", expected: "285,282,281,287,283", actual: "900,901,902,903,904" }]);
    });

    it("lets two classes that tie within the tolerance swap places, but no others", function () {
      const swappedTie = [TOP5[0], TOP5[1], TOP5[2], TOP5[4], TOP5[3]].map((entry) => ({ ...entry! }));
      expect(compareResults(classification(), classification({ top5: swappedTie })).agree).to.equal(true);
      const swapped = [TOP5[1], TOP5[0], TOP5[2], TOP5[3], TOP5[4]].map((entry) => ({ ...entry! }));
      const comparison = compareResults(classification(), classification({ top5: swapped }));
      expect(comparison.agree).to.equal(false);
      expect(comparison.differences.map((d) => d.field)).to.deep.equal(["top5[0]", "top5[1]"]);
    });

    it("rejects a missing class, other weights, another image size, another request", function () {
      expect(compareResults(classification(), classification({ top5: TOP5.slice(0, 4) })).agree).to.equal(false);
      const fields = (other: ClassificationResult) => compareResults(classification(), other).differences.map((d) => d.field);
      expect(fields(classification({ weightsSha256: "00".repeat(32) }))).to.deep.equal(["weightsSha256"]);
      expect(fields(classification({ image: { width: 999, height: 800, format: "jpeg" } }))).to.deep.equal(["image"]);
      expect(fields(classification({ requestId: "43" }))).to.deep.equal(["requestId"]);
      expect(fields(classification({ modelId: "squeezenet1.1-fp16" }))).to.deep.equal(["modelId"]);
    });
  });

  describe("detection", function () {
    it("matches boxes one to one in any order, with IoU ≥ 0.9 and scores within the tolerance", function () {
      const moved = [
        { ...DETECTIONS[1]!, score: 0.77 + DETECTION_SCORE_TOLERANCE / 2, box: { x: 12, y: 20, width: 600, height: 400 } },
        { ...DETECTIONS[0]!, box: { x: 101, y: 201, width: 50, height: 120 } },
      ];
      expect(compareResults(detection(), detection(moved))).to.deep.equal({ agree: true, differences: [] });
    });

    it("rejects a box that moved to IoU < 0.9, a changed class, a score beyond the tolerance, a missing box", function () {
      const shifted = [{ ...DETECTIONS[0]!, box: { x: 110, y: 200, width: 50, height: 120 } }, DETECTIONS[1]!];
      expect(iou(DETECTIONS[0]!.box, shifted[0]!.box)).to.be.below(0.9);
      expect(compareResults(detection(), detection(shifted)).differences.map((d) => d.field)).to.deep.equal(["detections[0]"]);
      const relabelled = [{ ...DETECTIONS[0]!, classIndex: 1, label: "bicycle" }, DETECTIONS[1]!];
      expect(compareResults(detection(), detection(relabelled)).differences.map((d) => d.field)).to.deep.equal(["detections[0]"]);
      const rescored = [DETECTIONS[0]!, { ...DETECTIONS[1]!, score: 0.77 + 2 * DETECTION_SCORE_TOLERANCE }];
      expect(compareResults(detection(), detection(rescored)).differences.map((d) => d.field)).to.deep.equal(["detections[1].score"]);
      expect(compareResults(detection(), detection(DETECTIONS.slice(1))).differences.map((d) => d.field)).to.deep.equal([
        "detections.length",
      ]);
    });

    it("computes IoU: 1 for the same box, 0 for disjoint or empty boxes", function () {
      const box = { x: 0, y: 0, width: 10, height: 10 };
      expect(iou(box, box)).to.equal(1);
      // Plain arithmetic: Hardhat's chai matchers take over closeTo for bigints and refuse fractions.
      expect(Math.abs(iou(box, { x: 5, y: 0, width: 10, height: 10 }) - 50 / 150)).to.be.below(1e-12);
      expect(iou(box, { x: 20, y: 20, width: 10, height: 10 })).to.equal(0);
      expect(iou({ x: 0, y: 0, width: 0, height: 0 }, { x: 0, y: 0, width: 0, height: 0 })).to.equal(0);
    });
  });

  describe("errors", function () {
    it("agree when their codes agree, whatever the message; never with a prediction", function () {
      expect(compareResults(errorResult("DECODE_FAILED", "a"), errorResult("DECODE_FAILED", "b")).agree).to.equal(true);
      expect(compareResults(errorResult("DECODE_FAILED"), errorResult("EMPTY")).differences).to.deep.equal([
        { field: "error", expected: "DECODE_FAILED", actual: "EMPTY" },
      ]);
      expect(compareResults(classification(), errorResult("EMPTY")).differences).to.deep.equal([
        { field: "error", expected: "a prediction", actual: "EMPTY" },
      ]);
    });

    it("refuses a detection answer to a classification request", function () {
      const other = { ...detection(), requestId: "42", modelId: "mobilenetv2-12-int8" };
      expect(compareResults(classification(), other).differences.map((d) => d.field)).to.deep.equal(["task"]);
    });
  });
});
