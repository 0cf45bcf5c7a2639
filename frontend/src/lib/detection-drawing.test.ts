import { describe, expect, it } from "vitest";
import { detection } from "../test-fixtures.ts";
import {
  BOX_COLOURS,
  type DrawingContext,
  detectionLayout,
  drawDetections,
  LABEL_PLATE_OPACITY,
  labelPlacement,
  type PngCanvas,
  renderDetectionPng,
} from "./detection-drawing.ts";

/** A 2D context that records what is drawn, with the style in force for each call. */
function recordingContext() {
  const calls: { op: string; args: unknown[]; style: { stroke: unknown; fill: unknown; alpha: number; width: number; font: string } }[] =
    [];
  const context = {
    lineWidth: 1,
    strokeStyle: "",
    fillStyle: "",
    font: "",
    globalAlpha: 1,
    textBaseline: "top",
  } as unknown as DrawingContext;
  const record =
    (op: string) =>
    (...args: unknown[]) =>
      calls.push({
        op,
        args,
        style: {
          stroke: context.strokeStyle,
          fill: context.fillStyle,
          alpha: context.globalAlpha,
          width: context.lineWidth,
          font: context.font,
        },
      });
  Object.assign(context, {
    drawImage: record("drawImage"),
    strokeRect: record("strokeRect"),
    fillRect: record("fillRect"),
    fillText: record("fillText"),
  });
  return { context, calls };
}

describe("the detection layout (shared by the SVG overlay and the PNG)", () => {
  it("keeps labels inside the image: above a box when there is room, else inside its top, clamped at the right edge", () => {
    const image = { width: 640, height: 480 };
    expect(labelPlacement({ x: 100, y: 200, width: 50, height: 50 }, "bus 90%", image, 16)).toMatchObject({ x: 100, y: 179 });
    const top = labelPlacement({ x: 100, y: 5, width: 50, height: 50 }, "bus 90%", image, 16);
    expect(top.y).toBe(5);
    const right = labelPlacement({ x: 630, y: 200, width: 10, height: 10 }, "person 34%", image, 16);
    expect(right.x + right.width).toBeLessThanOrEqual(640);
    const bottom = labelPlacement({ x: 0, y: 0, width: 640, height: 480 }, "a very long label that would not fit 99%", image, 40);
    expect(bottom.x).toBe(0);
    expect(bottom.width).toBeLessThanOrEqual(640);
  });

  it("lays out the boxes at or above the threshold, in image pixels, with colour, text and a label inside the image", () => {
    const all = detectionLayout(detection, 0);
    expect([all.width, all.height, all.stroke, all.fontSize]).toEqual([640, 480, 3, 16]);
    expect(all.items.map((item) => item.text)).toEqual(["bus 75%", "person 83%"]);
    const [bus, person] = all.items;
    expect(bus!.colour).toBe(BOX_COLOURS[5]);
    expect(person!.colour).toBe(BOX_COLOURS[0]);
    expect(bus!.box).toEqual({ x: 10, y: 40, width: 600, height: 380 });
    for (const item of all.items) {
      expect(item.label.x).toBeGreaterThanOrEqual(0);
      expect(item.label.y).toBeGreaterThanOrEqual(0);
      expect(item.label.x + item.label.width).toBeLessThanOrEqual(640);
      expect(item.label.y + item.label.height).toBeLessThanOrEqual(480);
      expect([item.textX, item.textY]).toEqual([item.label.x + 4, item.label.y + 16]);
    }
    expect(detectionLayout(detection, 80).items.map((item) => item.detection.label)).toEqual(["person"]);
    expect(detectionLayout(detection, 84).items).toEqual([]);
  });
});

describe("drawing the boxes on a canvas", () => {
  it("paints the image at its full size, then each box's outline, label plate and label as laid out", () => {
    const { context, calls } = recordingContext();
    const image = {} as CanvasImageSource;
    const layout = detectionLayout(detection, 0);
    drawDetections(context, image, layout);
    expect(calls[0]).toMatchObject({ op: "drawImage", args: [image, 0, 0, 640, 480] });
    const [bus] = layout.items;
    expect(calls.slice(1, 4)).toMatchObject([
      { op: "strokeRect", args: [10, 40, 600, 380], style: { stroke: bus!.colour, alpha: 1, width: 3 } },
      {
        op: "fillRect",
        args: [bus!.label.x, bus!.label.y, bus!.label.width, bus!.label.height],
        style: { fill: "#000", alpha: LABEL_PLATE_OPACITY },
      },
      { op: "fillText", args: ["bus 75%", bus!.textX, bus!.textY], style: { fill: bus!.colour, alpha: 1 } },
    ]);
    expect(calls[3]!.style.font).toMatch(/^16px /);
    expect(calls.filter((call) => call.op === "strokeRect")).toHaveLength(2);
  });

  it("renders a PNG at the image's own size", async () => {
    const { context, calls } = recordingContext();
    let requested: string | undefined;
    const canvas: PngCanvas = {
      width: 300,
      height: 150,
      getContext: () => context,
      toBlob(callback, type) {
        requested = type;
        callback(new Blob([new Uint8Array([0x89, 0x50, 0x4e, 0x47])], { type }));
      },
    };
    const blob = await renderDetectionPng({} as CanvasImageSource, detection, 80, canvas);
    expect([canvas.width, canvas.height]).toEqual([640, 480]);
    expect(requested).toBe("image/png");
    expect(blob.type).toBe("image/png");
    expect(calls.filter((call) => call.op === "strokeRect")).toHaveLength(1); // only what passes the threshold
  });

  it("says so when the browser cannot draw or encode", async () => {
    const noContext: PngCanvas = { width: 0, height: 0, getContext: () => null, toBlob: () => {} };
    await expect(renderDetectionPng({} as CanvasImageSource, detection, 0, noContext)).rejects.toThrow(/no 2D canvas/);
    const noBlob: PngCanvas = { width: 0, height: 0, getContext: () => recordingContext().context, toBlob: (callback) => callback(null) };
    await expect(renderDetectionPng({} as CanvasImageSource, detection, 0, noBlob)).rejects.toThrow(/could not encode/);
  });
});
