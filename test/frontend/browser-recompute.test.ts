/**
 * The web UI's "Recompute in my browser" against the engine, for every shared photo and
 * every registered classifier (issue 16's acceptance): the browser's preprocessing
 * (wasm-vips) and inference (onnxruntime-web on WASM), run here in Node, against the
 * engine's sharp + onnxruntime-node. This is also the measurement behind the browser's
 * tolerance (frontend/src/recompute/recompute.ts): the pixels must be byte-identical and
 * the answers must agree under `compareResults`; int8 networks must agree exactly (the
 * engine's int8 paths all give the reference graph's bits, and so must WASM), and every
 * difference seen is printed.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { expect } from "chai";
import * as ort from "onnxruntime-web/wasm";
import Vips from "wasm-vips";
import { classifyPixels, createClassifierSession } from "@argus/frontend/recompute/classify-pixels";
import { decodePixels, type VipsModule } from "@argus/frontend/recompute/decode-pixels";
import { compareResults } from "@argus/protocol/compare-results";
import { type ClassificationManifest, parseLabels } from "@argus/protocol/manifest";
import type { ClassificationResult } from "@argus/protocol/result";
import { BUILTIN_MANIFESTS_DIR, listManifests } from "@argus/provider-image/catalog";
import { decodeImage } from "@argus/provider-image/decode-image";
import { createEngine } from "@argus/provider-image/engine";
import { rawCidOfFile } from "@argus/provider-image/file-cid";
import { DEFAULT_IMAGE_LIMITS } from "@argus/provider-image/image-limits";
import { requireSharedData, SHARED_IMAGES_DIR, SHARED_MODELS_DIR } from "../support/shared.ts";

describe("web UI: the browser recompute agrees with the engine on every shared photo", function () {
  this.timeout(180_000);
  let vips: VipsModule;
  let photos: string[];
  let classifiers: ClassificationManifest[];

  before(async function () {
    requireSharedData(this);
    vips = await Vips();
    photos = (await readdir(SHARED_IMAGES_DIR)).filter((name) => !name.endsWith(".json")).sort();
    classifiers = (await listManifests([BUILTIN_MANIFESTS_DIR])).filter((manifest) => manifest.task === "classification");
  });
  after(() => vips?.shutdown());

  it("has photos and classifiers to compare", function () {
    expect(photos.length).to.be.at.least(10);
    expect(classifiers.map((manifest) => manifest.id)).to.include.members(["mobilenetv2-12-int8", "squeezenet1.1-fp16"]);
  });

  it("wasm-vips cuts the engine's pixels byte for byte", async function () {
    const limits = DEFAULT_IMAGE_LIMITS;
    for (const manifest of classifiers) {
      for (const photo of photos) {
        const bytes = new Uint8Array(await readFile(join(SHARED_IMAGES_DIR, photo)));
        const engine = await decodeImage(bytes, manifest, limits);
        const browser = decodePixels(vips, bytes, manifest, limits.maxPixels);
        expect(browser.image, `${manifest.id} ${photo}`).to.deep.equal(engine.image);
        expect(Buffer.from(browser.pixels).equals(engine.pixels), `${manifest.id} ${photo}: pixels differ`).to.equal(true);
      }
    }
  });

  it("onnxruntime-web gives the engine's answers (int8: exactly)", async function () {
    const engine = createEngine({ modelsDir: SHARED_MODELS_DIR, referencePhotosDir: SHARED_IMAGES_DIR });
    const requests = await Promise.all(
      photos.map(async (photo, index) => ({
        requestId: String(index + 1),
        imageCid: await rawCidOfFile(join(SHARED_IMAGES_DIR, photo)),
        image: { path: join(SHARED_IMAGES_DIR, photo) },
      })),
    );
    for (const manifest of classifiers) {
      const labels = parseLabels(await readFile(join(SHARED_MODELS_DIR, manifest.labels.file), "utf8"), manifest.labels.format);
      const session = await createClassifierSession(ort, new Uint8Array(await readFile(join(SHARED_MODELS_DIR, manifest.weights.file))));
      const recorded = (await engine.run(manifest.id, requests)) as ClassificationResult[];
      let largest = 0;
      try {
        for (const [index, photo] of photos.entries()) {
          const expected = recorded[index]!;
          expect(expected.task, `${manifest.id} ${photo}`).to.equal("classification");
          const { pixels, image } = decodePixels(
            vips,
            new Uint8Array(await readFile(join(SHARED_IMAGES_DIR, photo))),
            manifest,
            40_000_000,
          );
          const top5 = await classifyPixels(ort, session, manifest, pixels, labels);
          const browser: ClassificationResult = { ...expected, image, top5 };
          expect(compareResults(browser, expected).differences, `${manifest.id} ${photo}`).to.deep.equal([]);
          for (const entry of expected.top5) {
            const score = top5.find((candidate) => candidate.classIndex === entry.classIndex)?.score ?? Number.NaN;
            largest = Math.max(largest, Math.abs(score - entry.score));
          }
          if (expected.runtime.inferencePath !== "native-float") expect(top5, `${manifest.id} ${photo}`).to.deep.equal(expected.top5);
        }
      } finally {
        await session.release();
      }
      console.log(
        `      ${manifest.id} (${recorded[0]!.runtime.inferencePath}): largest score difference ${largest} over ${photos.length} photos`,
      );
    }
  });
});
