/**
 * Whatever users upload, each request gets a defined outcome and the batch survives:
 * hostile or broken files become error entries with a reason code; odd but valid
 * images (CMYK, 16-bit, grey, animated, EXIF-rotated, alpha, WebP, AVIF) are
 * normalised so the network sees the same photo. Every fixture is generated here.
 */
import { expect } from "chai";
import sharp from "sharp";
import { decodeImage, inspectImage } from "@argus/provider-image/decode-image";
import { ImageRejection } from "@argus/provider-image/image-rejection";
import type { Engine } from "@argus/provider-image/engine";
import { DEFAULT_IMAGE_LIMITS } from "@argus/provider-image/image-limits";
import type { LoadedModel } from "@argus/provider-image/loaded-model";
import { requireSharedData } from "../support/shared.ts";
import {
  animatedGif,
  expectClassification,
  expectError,
  FASTESTDET,
  MOBILENET,
  noiseBytes,
  pngDeclaring,
  predict,
  readSharedImage,
  sharedEngine,
  topClasses,
} from "./support/engine.ts";
import { expectClose } from "../support/close-to.ts";

describe("provider-image: bad and unusual inputs", function () {
  let engine: Engine;
  let mobilenet: LoadedModel;
  let cat: Buffer; // wml_cat.jpg, 1000×1000, classified 285/282/281
  let pineapple: Buffer;

  before(async function () {
    requireSharedData(this);
    engine = sharedEngine();
    mobilenet = await engine.load(MOBILENET);
    cat = await readSharedImage("wml_cat.jpg");
    pineapple = await readSharedImage("ortx_pineapple.png");
  });

  /** `image` must get the top-1 class of `reference` (default: the cat photo), its score within `tolerance`. */
  async function expectSamePrediction(image: Uint8Array, tolerance: number, reference: Uint8Array = cat) {
    const [expected, candidate] = (await predict(engine, MOBILENET, [reference, image])).map(expectClassification);
    expect(candidate!.top5[0]!.classIndex).to.equal(expected!.top5[0]!.classIndex);
    expectClose(candidate!.top5[0]!.score, expected!.top5[0]!.score, tolerance);
    return candidate!;
  }

  /** Mean absolute difference of two images as the network sees them (0–255 scale). */
  async function inputDifference(a: Uint8Array, b: Uint8Array): Promise<number> {
    const [left, right] = await Promise.all([a, b].map((image) => decodeImage(image, mobilenet.manifest, DEFAULT_IMAGE_LIMITS)));
    let sum = 0;
    for (let index = 0; index < left!.pixels.length; index++) sum += Math.abs(left!.pixels[index]! - right!.pixels[index]!);
    return sum / left!.pixels.length;
  }

  describe("rejected, with a reason code, without failing the batch", function () {
    it("an empty file is EMPTY", async function () {
      expectError((await predict(engine, MOBILENET, [new Uint8Array()]))[0], "EMPTY");
    });

    it("random bytes are NOT_AN_IMAGE", async function () {
      expectError((await predict(engine, MOBILENET, [noiseBytes(50_000)]))[0], "NOT_AN_IMAGE");
    });

    it("an HTML page is NOT_AN_IMAGE", async function () {
      const html = Buffer.from("<!DOCTYPE html>\n<html><head><title>cat</title></head><body><img src=cat.jpg></body></html>\n");
      expectError((await predict(engine, MOBILENET, [html]))[0], "NOT_AN_IMAGE");
    });

    it("a truncated JPEG is DECODE_FAILED", async function () {
      const truncated = cat.subarray(0, Math.floor(cat.length / 2));
      expectError((await predict(engine, MOBILENET, [truncated]))[0], "DECODE_FAILED");
    });

    it("a PNG declaring 30,000 × 30,000 pixels is TOO_MANY_PIXELS, refused from its header without decoding", async function () {
      const bomb = pngDeclaring(30_000, 30_000);
      expect(bomb.length).to.be.below(2_000);
      const started = performance.now();
      const memoryBefore = process.memoryUsage().rss;
      const [result] = await predict(engine, MOBILENET, [bomb]);
      const error = expectError(result, "TOO_MANY_PIXELS");
      expect(error.error.message).to.contain("30000 × 30000");
      expect(performance.now() - started).to.be.below(1_000);
      // Decoding would need 2.7 GB; refusing from the header needs next to nothing.
      expect(process.memoryUsage().rss - memoryBefore).to.be.below(200 * 1024 * 1024);
    });

    it("a file over 2 MiB is TOO_LARGE_BYTES; the cap is configurable", async function () {
      const big = await sharp(noiseBytes(1100 * 1100 * 3), { raw: { width: 1100, height: 1100, channels: 3 } })
        .png()
        .toBuffer();
      expect(big.length).to.be.above(DEFAULT_IMAGE_LIMITS.maxBytes);
      expectError((await predict(engine, MOBILENET, [big]))[0], "TOO_LARGE_BYTES");
      const roomier = sharedEngine({ limits: { maxBytes: 8 * 1024 * 1024 } });
      expectClassification((await predict(roomier, MOBILENET, [big]))[0]);
    });

    it("the pixel cap is configurable too", async function () {
      const strict = sharedEngine({ limits: { maxPixels: 500 * 500 } });
      const [result] = await predict(strict, MOBILENET, [cat]);
      expectError(result, "TOO_MANY_PIXELS");
    });

    it("SVG, TIFF and BMP are UNSUPPORTED_FORMAT", async function () {
      const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64"/></svg>');
      const tiff = await sharp(cat).resize(64).tiff().toBuffer();
      const bmp = Buffer.concat([Buffer.from("BM"), noiseBytes(200)]);
      for (const result of await predict(engine, MOBILENET, [svg, tiff, bmp])) expectError(result, "UNSUPPORTED_FORMAT");
    });

    it("a file with a JPEG signature but PNG content is DECODE_FAILED", async function () {
      const mislabeled = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), noiseBytes(5_000)]);
      expectError((await predict(engine, MOBILENET, [mislabeled]))[0], "DECODE_FAILED");
    });

    it("a batch mixing every bad input with good photos: each keeps its place, the good ones are predicted", async function () {
      const bad = [new Uint8Array(), noiseBytes(1_000), pngDeclaring(30_000, 30_000), cat.subarray(0, 20_000)];
      const batch = [bad[0]!, cat, bad[1]!, pineapple, bad[2]!, bad[3]!, cat];
      const results = await predict(engine, MOBILENET, batch);
      expect(results.map((result) => result.requestId)).to.deep.equal(["1", "2", "3", "4", "5", "6", "7"]);
      expectError(results[0], "EMPTY");
      expectError(results[2], "NOT_AN_IMAGE");
      expectError(results[4], "TOO_MANY_PIXELS");
      expectError(results[5], "DECODE_FAILED");
      expect(topClasses(expectClassification(results[1]))[0]).to.equal(285);
      expect(topClasses(expectClassification(results[3]))[0]).to.equal(953);
      expect(topClasses(expectClassification(results[6]))[0]).to.equal(285);
      // The three good photos went through the network, in runs of at most the three of them.
      for (const good of [1, 3, 6]) expect(expectClassification(results[good]).timings.batchSize).to.be.within(1, 3);
    });

    it("inspectImage (the oracle's check at upload time) applies the same rules without decoding", async function () {
      expect(await inspectImage(cat, DEFAULT_IMAGE_LIMITS)).to.deep.equal({ width: 1000, height: 1000, format: "jpeg", hasAlpha: false });
      const cases: [Uint8Array, string][] = [
        [new Uint8Array(), "EMPTY"],
        [noiseBytes(300), "NOT_AN_IMAGE"],
        [pngDeclaring(30_000, 30_000), "TOO_MANY_PIXELS"],
        [Buffer.from("<svg xmlns='http://www.w3.org/2000/svg'/>"), "UNSUPPORTED_FORMAT"],
      ];
      for (const [bytes, code] of cases) {
        const error = await inspectImage(bytes, DEFAULT_IMAGE_LIMITS).then(
          () => undefined,
          (caught: unknown) => caught,
        );
        expect(error, code).to.be.instanceOf(ImageRejection);
        expect((error as ImageRejection).code).to.equal(code);
      }
    });

    it("a missing image file is FILE_NOT_FOUND", async function () {
      const [result] = await engine.run(MOBILENET, [
        {
          requestId: "7",
          imageCid: "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy",
          image: { path: "/nonexistent/cat.jpg" },
        },
      ]);
      expectError(result, "FILE_NOT_FOUND");
    });
  });

  describe("normalised, so the network sees the same photo", function () {
    it("an EXIF-rotated photo is turned upright: same input pixels and prediction as the upright photo", async function () {
      // Pixels stored rotated 90° anticlockwise; orientation 6 tells viewers to turn them clockwise.
      const rotatedPixels = await sharp(cat).rotate(270).jpeg({ quality: 95 }).toBuffer();
      const tagged = await sharp(rotatedPixels).withMetadata({ orientation: 6 }).jpeg({ quality: 95 }).toBuffer();
      expect((await sharp(tagged).metadata()).orientation).to.equal(6);
      const upright = await sharp(cat).jpeg({ quality: 95 }).toBuffer();
      expect(await inputDifference(tagged, upright)).to.be.below(3);
      expect(await inputDifference(rotatedPixels, upright), "the untagged rotation really differs").to.be.above(20);
      const result = await expectSamePrediction(tagged, 0.1);
      expect(result.image).to.include({ width: 1000, height: 1000 });
    });

    it("EXIF orientation swaps width and height in the reported image size and detection boxes", async function () {
      const bus = await readSharedImage("detect_bus.jpg"); // 810 × 1080 upright
      const tagged = await sharp(await sharp(bus).rotate(270).toBuffer())
        .withMetadata({ orientation: 6 })
        .jpeg()
        .toBuffer();
      const [result] = await predict(engine, FASTESTDET, [tagged]);
      if (result === undefined || "error" in result || result.task !== "detection") expect.fail(JSON.stringify(result));
      expect(result.image).to.include({ width: 810, height: 1080 });
      expect(result.detections.some((found) => found.label === "bus" && found.box.width > 600)).to.equal(true);
    });

    it("a CMYK JPEG is converted to sRGB", async function () {
      const cmyk = await sharp(cat).toColourspace("cmyk").jpeg({ quality: 95 }).toBuffer();
      expect((await sharp(cmyk).metadata()).space).to.equal("cmyk");
      // The round trip through a CMYK profile shifts colours a little; an unconverted CMYK would be far off.
      expect(await inputDifference(cmyk, cat)).to.be.below(16);
      await expectSamePrediction(cmyk, 0.25);
    });

    it("a 16-bit PNG is converted to 8 bits", async function () {
      const smaller = await sharp(cat).resize(700).png().toBuffer(); // 16-bit at full size would pass the byte cap
      const deep = await sharp(smaller).toColourspace("rgb16").png().toBuffer();
      expect((await sharp(deep).metadata()).depth).to.equal("ushort");
      expect(await inputDifference(deep, smaller)).to.be.below(1); // ±1 rounding: resizing happens at 16 bits
      // The int8 network's cat-breed scores are sensitive even to ±1 input steps: compare the class.
      await expectSamePrediction(deep, 0.2, smaller);
    });

    it("a greyscale JPEG becomes three equal channels and is classified", async function () {
      const grey = await sharp(cat).toColourspace("b-w").jpeg().toBuffer();
      expect((await sharp(grey).metadata()).channels).to.equal(1);
      const decoded = await decodeImage(grey, mobilenet.manifest, DEFAULT_IMAGE_LIMITS);
      for (let pixel = 0; pixel < 1000; pixel++) {
        expect(decoded.pixels[pixel * 3]).to.equal(decoded.pixels[pixel * 3 + 1]);
        expect(decoded.pixels[pixel * 3]).to.equal(decoded.pixels[pixel * 3 + 2]);
      }
      const [result] = await predict(engine, MOBILENET, [grey]);
      expect(expectClassification(result).top5).to.have.length(5);
    });

    it("an animated GIF is judged by its first frame only", async function () {
      const animation = await animatedGif([cat, pineapple]);
      expect((await sharp(animation, { pages: -1 }).metadata()).pages).to.equal(2);
      const firstFrameOnly = await animatedGif([cat]);
      const secondFrameOnly = await animatedGif([pineapple]);
      const [animated, first, second] = (await predict(engine, MOBILENET, [animation, firstFrameOnly, secondFrameOnly])).map(
        expectClassification,
      );
      expect(animated!.top5).to.deep.equal(first!.top5);
      expect(topClasses(second!)[0]).to.equal(953);
      expect(topClasses(animated!)[0]).to.not.equal(953);
      expect(animated!.image).to.deep.equal({ width: 256, height: 256, format: "gif" });
    });

    it("transparent pixels are flattened onto white", async function () {
      const transparent = await sharp({ create: { width: 300, height: 300, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } })
        .png()
        .toBuffer();
      const decoded = await decodeImage(transparent, mobilenet.manifest, DEFAULT_IMAGE_LIMITS);
      expect(decoded.pixels.every((value) => value === 255)).to.equal(true);
    });

    it("WebP and AVIF decode to the same photo", async function () {
      const webp = await sharp(cat).webp({ quality: 90 }).toBuffer();
      const avif = await sharp(cat).avif({ quality: 70 }).toBuffer();
      const results = (await predict(engine, MOBILENET, [webp, avif])).map(expectClassification);
      expect(results.map((result) => result.image.format)).to.deep.equal(["webp", "avif"]);
      for (const image of [webp, avif]) await expectSamePrediction(image, 0.15);
    });

    it("a 1×1 image and an extreme panorama still produce a prediction", async function () {
      const dot = await sharp({ create: { width: 1, height: 1, channels: 3, background: "#808080" } })
        .png()
        .toBuffer();
      const strip = await sharp(cat).resize(1000, 3, { fit: "fill" }).png().toBuffer();
      for (const result of await predict(engine, MOBILENET, [dot, strip])) expectClassification(result);
      for (const result of await predict(engine, FASTESTDET, [dot, strip])) {
        if ("error" in result) expect.fail(JSON.stringify(result));
      }
    });
  });
});
