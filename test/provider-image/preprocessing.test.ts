/**
 * The arithmetic between decoded pixels and the tensor, checked by hand: resize and
 * crop / letterbox geometry (and mapping boxes back through it), and the per-channel
 * normalisation in each layout, channel order and dtype a manifest can ask for.
 */
import { expect } from "chai";
import { allocateInputData, createPixelWriter, inputDims, type InputSpec } from "@argus/provider-image/input-tensor";
import { inputToSource, planResize } from "@argus/provider-image/resize-plan";
import { expectClose } from "../support/close-to.ts";

function spec(overrides: { dtype?: "float32" | "float16"; layout?: "NCHW" | "NHWC"; colorOrder?: "RGB" | "BGR" } = {}): InputSpec {
  return {
    input: { name: "x", dtype: overrides.dtype ?? "float32", layout: overrides.layout ?? "NCHW", width: 2, height: 1 },
    preprocess: {
      resize: { policy: "resize-crop", shortSide: 2 },
      interpolation: "bilinear",
      colorOrder: overrides.colorOrder ?? "RGB",
      scale: 1 / 255,
      mean: [0.5, 0.25, 0],
      std: [0.5, 0.25, 2],
    },
  };
}

// Two pixels, RGB: (255, 0, 51) and (0, 255, 102).
const PIXELS = Uint8Array.from([255, 0, 51, 0, 255, 102]);
const normalise = (value: number, channel: number) => (value / 255 - [0.5, 0.25, 0][channel]!) / [0.5, 0.25, 2][channel]!;

describe("provider-image: preprocessing arithmetic", function () {
  describe("resize geometry", function () {
    it("resize-crop: the short side becomes shortSide, the centre is cut", function () {
      expect(
        planResize({ policy: "resize-crop", shortSide: 256 }, { width: 1000, height: 500 }, { width: 224, height: 224 }),
      ).to.deep.equal({
        policy: "resize-crop",
        resizeWidth: 512,
        resizeHeight: 256,
        cropLeft: 144,
        cropTop: 16,
      });
      const portrait = planResize({ policy: "resize-crop", shortSide: 224 }, { width: 224, height: 300 }, { width: 224, height: 224 });
      expect(portrait).to.deep.include({ resizeWidth: 224, resizeHeight: 300, cropLeft: 0, cropTop: 38 });
    });

    it("letterbox: fits inside, centred, padding split (odd pixel at the end)", function () {
      const plan = planResize({ policy: "letterbox", padValue: 114 }, { width: 810, height: 1080 }, { width: 352, height: 352 });
      expect(plan).to.deep.equal({
        policy: "letterbox",
        resizeWidth: 264,
        resizeHeight: 352,
        padLeft: 44,
        padTop: 0,
        padRight: 44,
        padBottom: 0,
      });
      const wide = planResize({ policy: "letterbox", padValue: 0 }, { width: 1000, height: 3 }, { width: 352, height: 352 });
      expect(wide).to.deep.equal({
        policy: "letterbox",
        resizeWidth: 352,
        resizeHeight: 1,
        padLeft: 0,
        padTop: 175,
        padRight: 0,
        padBottom: 176,
      });
    });

    it("input pixels map back to source pixels through either policy", function () {
      const source = { width: 810, height: 1080 };
      const letterbox = planResize({ policy: "letterbox", padValue: 114 }, source, { width: 352, height: 352 });
      expect(inputToSource(letterbox, source, 44, 0)).to.deep.equal({ x: 0, y: 0 });
      expect(inputToSource(letterbox, source, 44 + 264, 352)).to.deep.equal({ x: 810, y: 1080 });
      expect(inputToSource(letterbox, source, 176, 176)).to.deep.equal({ x: 405, y: 540 });

      const crop = planResize({ policy: "resize-crop", shortSide: 256 }, { width: 1000, height: 500 }, { width: 224, height: 224 });
      expect(inputToSource(crop, { width: 1000, height: 500 }, 0, 0)).to.deep.equal({ x: 281.25, y: 31.25 });
    });
  });

  describe("normalisation into the tensor", function () {
    it("NCHW, RGB: planes R, G, B; value = (pixel × scale − mean) / std", function () {
      const data = allocateInputData(spec(), 2);
      createPixelWriter(spec())(PIXELS, data, 1); // second slot: the first stays zero
      expect(inputDims(spec(), 2)).to.deep.equal([2, 3, 1, 2]);
      expect(Array.from(data.subarray(0, 6))).to.deep.equal([0, 0, 0, 0, 0, 0]);
      const expected = [normalise(255, 0), normalise(0, 0), normalise(0, 1), normalise(255, 1), normalise(51, 2), normalise(102, 2)];
      Array.from(data.subarray(6)).forEach((value, index) => {
        expectClose(value, expected[index]!, 1e-6);
      });
    });

    it("BGR: the blue plane comes first, with mean[0]/std[0]", function () {
      const bgr = spec({ colorOrder: "BGR" });
      const data = allocateInputData(bgr, 1);
      createPixelWriter(bgr)(PIXELS, data, 0);
      const expected = [(51 / 255 - 0.5) / 0.5, (102 / 255 - 0.5) / 0.5, normalise(0, 1), normalise(255, 1), (255 / 255 - 0) / 2, 0];
      Array.from(data).forEach((value, index) => {
        expectClose(value, expected[index]!, 1e-6);
      });
    });

    it("NHWC: channels interleaved per pixel", function () {
      const nhwc = spec({ layout: "NHWC" });
      const data = allocateInputData(nhwc, 1);
      createPixelWriter(nhwc)(PIXELS, data, 0);
      expect(inputDims(nhwc, 1)).to.deep.equal([1, 1, 2, 3]);
      const expected = [normalise(255, 0), normalise(0, 1), normalise(51, 2), normalise(0, 0), normalise(255, 1), normalise(102, 2)];
      Array.from(data).forEach((value, index) => {
        expectClose(value, expected[index]!, 1e-6);
      });
    });

    it("float16 models get a Float16Array, rounded on store", function () {
      const half = spec({ dtype: "float16" });
      const data = allocateInputData(half, 1);
      expect(data.constructor.name).to.equal("Float16Array");
      createPixelWriter(half)(PIXELS, data, 0);
      expect(data[0]).to.equal(1);
      expectClose(data[4], normalise(51, 2), 1e-3);
    });
  });
});
