/**
 * No model goes live before it passes its self-test on the bundled reference photos:
 * the three shared models pass with their manifests and are refused with deliberately
 * wrong ones (channel order, mean/std, output kind), and every preprocessing field the
 * catalogue needs is shown to work on a variant of a shared model whose right answer is
 * known (resize without crop, NHWC, a 1001-class output with background, a 299 input).
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { BUILTIN_MANIFESTS_DIR } from "@argus/provider-image/catalog";
import { createEngine } from "@argus/provider-image/engine";
import { loadModelUntested, ModelMismatchError, SelfTestFailedError } from "@argus/provider-image/loaded-model";
import { itemCount, referencePhotos } from "@argus/provider-image/reference-set";
import { runSelfTest, type SelfTestReport } from "@argus/provider-image/self-test";
import { type ModelManifest, parseManifest } from "@argus/protocol/manifest";
import { requireSharedData, SHARED_IMAGES_DIR, SHARED_MODELS_DIR, SHARED_REFERENCE_PHOTOS } from "../support/shared.ts";
import { expectClassification, FASTESTDET, MOBILENET, predict, readSharedImage, SQUEEZENET } from "./support/engine.ts";
import { backgroundFirst, input299, mobilenetVariant, nhwcInput } from "./support/graph-variants.ts";

// biome-ignore lint/suspicious/noExplicitAny: each case edits whichever manifest field it breaks
type Edit = (manifest: Record<string, any>) => void;

async function builtin(id: string, edit: Edit = () => {}): Promise<ModelManifest> {
  const json = JSON.parse(await readFile(join(BUILTIN_MANIFESTS_DIR, `${id}.json`), "utf8"));
  edit(json);
  return parseManifest(json);
}

async function selfTest(manifest: ModelManifest, modelsDir = SHARED_MODELS_DIR): Promise<SelfTestReport> {
  const model = await loadModelUntested(manifest, modelsDir, {});
  try {
    return await runSelfTest(model, SHARED_REFERENCE_PHOTOS);
  } finally {
    await model.session.release();
  }
}

const swapChannels: Edit = (manifest) => {
  manifest.preprocess.colorOrder = manifest.preprocess.colorOrder === "RGB" ? "BGR" : "RGB";
  manifest.preprocess.mean.reverse();
  manifest.preprocess.std.reverse();
};
const torchvisionNormalisation: Edit = (manifest) => {
  manifest.preprocess.scale = 1 / 255;
  manifest.preprocess.mean = [0.485, 0.456, 0.406];
  manifest.preprocess.std = [0.229, 0.224, 0.225];
};
const caffeMeans: Edit = (manifest) => {
  manifest.preprocess.scale = 1;
  manifest.preprocess.mean = [104, 117, 123];
  manifest.preprocess.std = [1, 1, 1];
};

describe("provider-image: the self-test before a model goes live", function () {
  const scratch: string[] = [];

  before(function () {
    requireSharedData(this);
  });

  after(async function () {
    await Promise.all(scratch.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it("describes its reference photos with their sources and licences, and reads them verified by sha256", async function () {
    const photos = await referencePhotos(SHARED_REFERENCE_PHOTOS);
    expect(photos.length).to.equal(7);
    for (const photo of photos) {
      expect(photo.source.commit).to.match(/^[0-9a-f]{40}$/);
      expect(photo.source.license).to.match(/^(MIT|Apache-2.0|MIT OR Apache-2.0)$/);
      await readFile(join(BUILTIN_MANIFESTS_DIR, "../reference-set", photo.source.licenseFile)); // the licence text is there
    }
    expect(itemCount(photos, "imagenet-photos-v1")).to.equal(6);
    expect(itemCount(photos, "coco-objects-v1")).to.equal(10);
  });

  for (const id of [MOBILENET, SQUEEZENET, FASTESTDET]) {
    it(`${id} passes with its manifest, scoring what the manifest records`, async function () {
      const manifest = await builtin(id);
      const report = await selfTest(manifest);
      console.log(`      ${id}: ${report.correct}/${report.total} on ${report.referenceSet} (requires ${report.minimumCorrect})`);
      expect(report.passed, JSON.stringify(report.items.filter((item) => !item.correct))).to.equal(true);
      expect(report.problems).to.deep.equal([]);
      expect(manifest.selfTest.measured).to.deep.equal({ correct: report.correct, total: report.total });
    });
  }

  const wrong: [string, string, Edit, RegExp][] = [
    [MOBILENET, "BGR instead of RGB", swapChannels, /4 of 6 right[\s\S]*glow_dog_207.png: expected golden retriever \(207\), obtained/],
    [MOBILENET, "Caffe means instead of ImageNet mean/std", caffeMeans, /0 of 6 right/],
    [MOBILENET, "its logits declared as probabilities", (m) => (m.output.kind = "probabilities"), /declares the output as probabilities/],
    [SQUEEZENET, "RGB instead of BGR", swapChannels, /4 of 6 right[\s\S]*wonnx_bald_eagle.jpeg: expected bald eagle \(22\)/],
    [SQUEEZENET, "torchvision mean/std instead of Caffe means", torchvisionNormalisation, /0 of 6 right/],
    [SQUEEZENET, "its probabilities declared as logits", (m) => (m.output.kind = "logits"), /already is a probability distribution/],
    [
      FASTESTDET,
      "RGB instead of BGR",
      (m) => (m.preprocess.colorOrder = "RGB"),
      /9 of 10 right[\s\S]*bird at \[105, 200, 570, 190\], obtained airplane/,
    ],
    [FASTESTDET, "ImageNet mean/std instead of x/255", torchvisionNormalisation, /1 of 10 right/],
  ];
  for (const [id, what, edit, message] of wrong) {
    it(`${id} with ${what} is refused, naming the model, the expected and the obtained answers`, async function () {
      const manifest = await builtin(id, (json) => {
        json.id = `${id}-wrong`;
        edit(json);
      });
      const report = await selfTest(manifest);
      expect(report.passed).to.equal(false);
      const error = new SelfTestFailedError(report);
      expect(error.message).to.contain(`model ${id}-wrong failed its self-test`).and.match(message);
    });
  }

  it("a detector has no output kind to get wrong: declared a classifier, it is refused at load by its output's shape", async function () {
    const manifest = await builtin(FASTESTDET);
    const json = { ...manifest, task: "classification", output: { name: "output", kind: "logits" }, detection: undefined };
    json.selfTest = { referenceSet: "imagenet-photos-v1", minimumCorrect: 5 };
    try {
      await loadModelUntested(parseManifest(JSON.parse(JSON.stringify(json))), SHARED_MODELS_DIR, {});
      expect.fail("loaded");
    } catch (error) {
      expect(error).to.be.instanceOf(ModelMismatchError);
      expect((error as Error).message).to.contain("41140 classes but coco80-labels.json names 80");
    }
  });

  it("the engine refuses to load or serve a model that fails: no prediction comes from it", async function () {
    const dir = await mkdtemp(join(tmpdir(), "argus-manifests-"));
    scratch.push(dir);
    const manifest = await builtin(SQUEEZENET, (json) => {
      json.id = "squeezenet-rgb";
      swapChannels(json);
    });
    await writeFile(join(dir, "squeezenet-rgb.json"), JSON.stringify(manifest));
    const engine = createEngine({ referencePhotosDir: SHARED_IMAGES_DIR, modelsDir: SHARED_MODELS_DIR, manifestsDirs: [dir] });
    for (const attempt of [engine.load("squeezenet-rgb"), predict(engine, "squeezenet-rgb", [await readSharedImage("wml_cat.jpg")])]) {
      try {
        await attempt;
        expect.fail("served");
      } catch (error) {
        expect(error).to.be.instanceOf(SelfTestFailedError);
        expect((error as SelfTestFailedError).report.correct).to.equal(4);
      }
    }
  });

  it("a threshold above the reference set's size can never pass", async function () {
    const report = await selfTest(await builtin(MOBILENET, (json) => (json.selfTest.minimumCorrect = 7)));
    expect(report.passed).to.equal(false);
    expect(report.problems.join()).to.contain("only 6 items");
  });

  describe("every preprocessing field the catalogue uses, on a model whose answers are known", function () {
    it("resize without crop (GoogLeNet-style): MobileNetV2 still passes", async function () {
      const report = await selfTest(await builtin(MOBILENET, (json) => (json.preprocess.resize = { policy: "resize" })));
      expect(report.passed).to.equal(true);
    });

    it("tensor names may be left out when the graph has one input and one output", async function () {
      const report = await selfTest(
        await builtin(MOBILENET, (json) => {
          delete json.input.name;
          delete json.output.name;
        }),
      );
      expect(report.passed).to.equal(true);
    });

    it("an NHWC input (EfficientNet-Lite's layout): passes as NHWC, refused at load as NCHW", async function () {
      const variant = await mobilenetVariant("mobilenet-nhwc", nhwcInput);
      scratch.push(variant.dir);
      const manifest = (layout: string) =>
        builtin(MOBILENET, (json) => {
          json.weights = { file: variant.file, sha256: variant.sha256 };
          json.input = { ...json.input, name: "input_nhwc", layout };
        });
      expect((await selfTest(await manifest("NHWC"), variant.dir)).passed).to.equal(true);
      try {
        await loadModelUntested(await manifest("NCHW"), variant.dir, {});
        expect.fail("loaded");
      } catch (error) {
        expect((error as Error).message).to.contain("implies [N, 3, 224, 224]");
      }
    });

    it("a 1001-class output with a background class first (TF-slim): classes are numbered as the labels, the background never reported", async function () {
      const variant = await mobilenetVariant("mobilenet-1001", backgroundFirst);
      scratch.push(variant.dir);
      const manifest = (backgroundClass: boolean | undefined) =>
        builtin(MOBILENET, (json) => {
          json.weights = { file: variant.file, sha256: variant.sha256 };
          json.output = { name: "output_1001", kind: "logits", ...(backgroundClass === undefined ? {} : { backgroundClass }) };
        });
      const withBackground = await manifest(true);
      expect((await selfTest(withBackground, variant.dir)).passed).to.equal(true);

      const dir = await mkdtemp(join(tmpdir(), "argus-manifests-"));
      scratch.push(dir);
      await writeFile(join(dir, "mobilenet-1001.json"), JSON.stringify({ ...withBackground, id: "mobilenet-1001" }));
      const photos = await Promise.all(["wml_cat.jpg", "wonnx_bald_eagle.jpeg"].map(readSharedImage));
      const [variantResults, originalResults] = await Promise.all([
        predict(
          createEngine({ referencePhotosDir: SHARED_IMAGES_DIR, modelsDir: variant.dir, manifestsDirs: [dir] }),
          "mobilenet-1001",
          photos,
        ),
        predict(createEngine({ referencePhotosDir: SHARED_IMAGES_DIR, modelsDir: SHARED_MODELS_DIR }), MOBILENET, photos),
      ]);
      for (const [index, result] of variantResults.entries()) {
        const classes = (top: ReturnType<typeof expectClassification>) => top.top5.map((entry) => [entry.classIndex, entry.label]);
        expect(classes(expectClassification(result))).to.deep.equal(classes(expectClassification(originalResults[index])));
      }

      try {
        await loadModelUntested(await manifest(undefined), variant.dir, {});
        expect.fail("loaded");
      } catch (error) {
        expect((error as Error).message).to.contain("scores 1001 classes but imagenet-synset.txt names 1000");
      }
    });

    it("a 299×299 input (Inception v3, Xception): resized and cropped to that size, the network still right", async function () {
      const variant = await mobilenetVariant("mobilenet-299", input299);
      scratch.push(variant.dir);
      const manifest = await builtin(MOBILENET, (json) => {
        json.weights = { file: variant.file, sha256: variant.sha256 };
        json.input = { ...json.input, width: 299, height: 299 };
        json.preprocess.resize = { policy: "resize-crop", shortSide: 342 };
      });
      const report = await selfTest(manifest, variant.dir);
      expect(report.correct).to.be.at.least(5);
    });
  });
});
