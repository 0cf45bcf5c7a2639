import { resultCidForBytes } from "@argus/protocol/cid";
import { manifestBytes, parseManifest } from "@argus/protocol/manifest";
import { describe, expect, it } from "vitest";
import { classifierManifest } from "../test-fixtures.ts";
import { manifestFromBlock, selfTestSummary } from "./self-test.ts";

describe("self-test score", () => {
  it("reads the manifest the registry names, only if its bytes hash to the CID", async () => {
    const bytes = manifestBytes(classifierManifest);
    const cid = (await resultCidForBytes(bytes)).toString();
    expect((await manifestFromBlock(bytes, cid)).id).toBe("mobilenetv2-12-int8");
    const inflated = manifestBytes({ ...classifierManifest, name: "MobileNetV2, now with a better score" });
    await expect(manifestFromBlock(inflated, cid)).rejects.toThrow(/does not hash to it/);
  });

  it("shows the recorded score, what an unrecorded model needs, and an unverified model's note", () => {
    expect(selfTestSummary(classifierManifest)).toEqual({ text: "6/6 reference photos", state: "pass" });
    const detector = parseManifest({
      ...classifierManifest,
      task: "detection",
      output: { name: "output", kind: "detections", rowLayout: "cxcywh-objectness-classes" },
      detection: { scoreThreshold: 0.3, nmsIouThreshold: 0.4, maxDetections: 100 },
      selfTest: { referenceSet: "coco-objects-v1", minimumCorrect: 10, measured: { correct: 10, total: 10 } },
    });
    expect(selfTestSummary(detector).text).toBe("10/10 reference objects");
    const unrecorded = parseManifest({
      ...classifierManifest,
      selfTest: { referenceSet: "imagenet-photos-v1", minimumCorrect: 5 },
      unverified: "may be random",
    });
    expect(selfTestSummary(unrecorded)).toEqual({
      text: "not recorded (needs 5 reference photos right)",
      state: "unrecorded",
      unverified: "may be random",
    });
  });
});
