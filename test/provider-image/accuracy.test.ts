/**
 * Accuracy on the labelled photos in ../shared/images: the proof that each manifest's
 * preprocessing is the one its network was trained with (get it wrong and accuracy
 * falls to chance), and that batching does not change predictions.
 */
import { readFile } from "node:fs/promises";
import { expect } from "chai";
import type { Engine } from "@argus/provider-image/engine";
import { requireSharedData, sharedImage } from "../support/shared.ts";
import {
  expectClassification,
  expectDetection,
  FASTESTDET,
  MOBILENET,
  predict,
  readSharedImage,
  sharedEngine,
  SQUEEZENET,
  topClasses,
} from "./support/engine.ts";
import { expectClose } from "../support/close-to.ts";

interface Expectation {
  primary: number;
  accept: number[];
  name: string;
}

describe("provider-image: accuracy on the labelled photos", function () {
  let engine: Engine;
  let expected: Record<string, Expectation>;
  let names: string[];
  let photos: Buffer[];

  before(async function () {
    requireSharedData(this);
    engine = sharedEngine();
    expected = JSON.parse(await readFile(sharedImage("expected.json"), "utf8"));
    names = Object.keys(expected).sort();
    photos = await Promise.all(names.map(readSharedImage));
  });

  // The floors are the models' own accuracy on these photos, computed exactly (the int8
  // network's answer no longer depends on the CPU, see cpu-independence.ts):
  // MobileNetV2-int8 takes the orange kitten (ortx_cat) for a hare — 8 of 9 both ways;
  // SqueezeNet takes the white kitten (mlg_kitten) for an Angora rabbit at top-1 only.
  for (const [modelId, label, floors] of [
    [MOBILENET, "MobileNetV2-int8", { top1: 8, top5: 8 }],
    [SQUEEZENET, "SqueezeNet-fp16 (BGR, Caffe means)", { top1: 8, top5: 9 }],
  ] as const) {
    it(`${label}: at least ${floors.top1} of 9 top-1 and ${floors.top5} of 9 top-5`, async function () {
      const results = (await predict(engine, modelId, photos)).map(expectClassification);
      let top1 = 0;
      let top5 = 0;
      const misses: string[] = [];
      results.forEach((result, index) => {
        const { accept, name } = expected[names[index]!]!;
        const classes = topClasses(result);
        if (accept.includes(classes[0]!)) top1++;
        else misses.push(`${names[index]} (${name}): top-1 ${classes[0]} ${result.top5[0]!.label}`);
        if (classes.some((classIndex) => accept.includes(classIndex))) top5++;
        expect(result.top5).to.have.length(5);
        expect(result.modelId).to.equal(modelId);
      });
      console.log(
        `      ${label}: top-1 ${top1}/${names.length}, top-5 ${top5}/${names.length}${misses.length ? `; missed: ${misses.join("; ")}` : ""}`,
      );
      expect(names).to.have.length(9);
      expect(top1, misses.join("\n")).to.be.at.least(floors.top1);
      expect(top5, misses.join("\n")).to.be.at.least(floors.top5);
    });
  }

  it("MobileNetV2 runs images in batches of what has decoded; SqueezeNet and FastestDet one image per run", async function () {
    expect((await engine.load(MOBILENET)).fixedBatchSize).to.equal(null);
    expect((await engine.load(SQUEEZENET)).fixedBatchSize).to.equal(1);
    expect((await engine.load(FASTESTDET)).fixedBatchSize).to.equal(1);
    const batched = (await predict(engine, MOBILENET, photos)).map(expectClassification);
    // Each result names the size of the run that carried it; the runs add up to the batch.
    const runs = batched.reduce((count, result) => count + 1 / result.timings.batchSize, 0);
    expect(Math.abs(runs - Math.round(runs))).to.be.below(1e-9);
    expect(Math.round(runs)).to.be.within(1, photos.length);
    const single = (await predict(engine, SQUEEZENET, photos)).map(expectClassification);
    expect(single.every((result) => result.timings.batchSize === 1)).to.equal(true);
  });

  it("a photo gets the same prediction alone as inside a batch", async function () {
    const batched = (await predict(engine, MOBILENET, photos)).map(expectClassification);
    for (const [index, photo] of photos.entries()) {
      const [alone] = (await predict(engine, MOBILENET, [photo])).map(expectClassification);
      expect(topClasses(alone!)).to.deep.equal(topClasses(batched[index]!));
      alone!.top5.forEach((entry, rank) => {
        expectClose(entry.score, batched[index]!.top5[rank]!.score, 1e-4);
      });
    }
  });

  it("probabilities are a softmax over all classes: the top-5 scores are sorted and sum to at most 1", async function () {
    for (const modelId of [MOBILENET, SQUEEZENET]) {
      for (const result of (await predict(engine, modelId, photos)).map(expectClassification)) {
        const scores = result.top5.map((entry) => entry.score);
        expect([...scores].sort((a, b) => b - a)).to.deep.equal(scores);
        expect(scores.reduce((sum, score) => sum + score, 0)).to.be.at.most(1.001);
      }
    }
  });

  it("FastestDet finds the bus and at least 2 people in detect_bus.jpg, boxes inside the image", async function () {
    const [result] = await predict(engine, FASTESTDET, [await readSharedImage("detect_bus.jpg")]);
    const detection = expectDetection(result);
    expect(detection.image).to.deep.equal({ width: 810, height: 1080, format: "jpeg" });
    const people = detection.detections.filter((found) => found.label === "person");
    const buses = detection.detections.filter((found) => found.label === "bus");
    console.log(`      FastestDet: ${detection.detections.map((found) => `${found.label} ${found.score.toFixed(2)}`).join(", ")}`);
    expect(buses, "a bus").to.have.length.at.least(1);
    expect(people, "people").to.have.length.at.least(2);
    expect(buses[0]!.classIndex).to.equal(5);
    for (const { box } of detection.detections) {
      expect(box.x).to.be.at.least(0);
      expect(box.y).to.be.at.least(0);
      expect(box.width).to.be.above(0);
      expect(box.height).to.be.above(0);
      expect(box.x + box.width).to.be.at.most(810 + 1e-6);
      expect(box.y + box.height).to.be.at.most(1080 + 1e-6);
    }
    // The bus spans most of the photo's width, in original-image pixels (not the 352-px input's).
    expect(buses[0]!.box.width).to.be.above(600);
    const scores = detection.detections.map((found) => found.score);
    expect([...scores].sort((a, b) => b - a)).to.deep.equal(scores);
  });
});
