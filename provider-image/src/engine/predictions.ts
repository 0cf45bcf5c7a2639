/** Turns one image's slice of the network output into the task's prediction fields. */
import { topClasses } from "./classify.ts";
import type { DecodedImage } from "../image/decode-image.ts";
import { detectObjects } from "./detect.ts";
import type { LoadedModel } from "./loaded-model.ts";
import type { ClassScore, Detection } from "@argus/protocol/result";

export type PredictionFields = { task: "classification"; top5: ClassScore[] } | { task: "detection"; detections: Detection[] };

export function classifyOrDetect(model: LoadedModel, values: ArrayLike<number>, offset: number, decoded: DecodedImage): PredictionFields {
  const { manifest, labels } = model;
  if (manifest.task === "classification") {
    return { task: "classification", top5: topClasses(values, offset, model.outputValuesPerImage, manifest.output, labels) };
  }
  const [rowCount, rowLength] = model.outputDims as [number, number];
  return {
    task: "detection",
    detections: detectObjects(values, offset, rowCount, rowLength, manifest.detection, labels, decoded.plan, decoded.image),
  };
}
