/**
 * How a detector's boxes are drawn over its image, in the image's own pixels: which
 * boxes (the score threshold), their colours, line width, label text, size and place.
 * One definition, used by the on-screen SVG overlay and by the PNG download, so the
 * file shows exactly what the page shows.
 */
import type { Detection, DetectionResult } from "@argus/protocol/result";

export const BOX_COLOURS = ["#e4572e", "#17bebb", "#ffc914", "#76b041", "#a06cd5", "#2e86ab"] as const;

/** The labels' font, set on the SVG text and the canvas alike (label widths are estimated for it). */
export const LABEL_FONT_FAMILY = 'system-ui, "DejaVu Sans", sans-serif';

/** Opacity of the black plate under each label. */
export const LABEL_PLATE_OPACITY = 0.7;

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Size {
  width: number;
  height: number;
}

export function boxColour(classIndex: number): string {
  return BOX_COLOURS[classIndex % BOX_COLOURS.length]!;
}

/** Detections have no id; class and box tell them apart (NMS leaves no two of a class on one box). */
export function detectionKey(detection: Detection): string {
  const { x, y, width, height } = detection.box;
  return `${detection.classIndex}:${x}:${y}:${width}:${height}`;
}

/** What a box's label says: "bus 75%". */
export function labelText(detection: Detection): string {
  return `${detection.label} ${Math.round(detection.score * 100)}%`;
}

/** Whether a detection passes a threshold in whole percent (the slider's unit). */
export function meetsThreshold(detection: Detection, thresholdPercent: number): boolean {
  return detection.score * 100 >= thresholdPercent;
}

/** Where a box's label goes: above the box when there is room, else just inside its top, never past the image's edges. */
export function labelPlacement(box: Rect, text: string, image: Size, fontSize: number): Rect {
  const width = Math.min(image.width, Math.ceil(text.length * fontSize * 0.62) + fontSize / 2);
  const height = Math.round(fontSize * 1.3);
  const x = Math.max(0, Math.min(box.x, image.width - width));
  const above = box.y - height;
  const y = above >= 0 ? above : Math.max(0, Math.min(box.y, image.height - height));
  return { x, y, width, height };
}

/** One box as drawn: its outline, and its label's plate and text baseline. */
export interface DrawnDetection {
  key: string;
  detection: Detection;
  colour: string;
  box: Rect;
  text: string;
  label: Rect;
  textX: number;
  textY: number;
}

export interface DetectionLayout extends Size {
  /** Box outline width, in image pixels. */
  stroke: number;
  fontSize: number;
  items: DrawnDetection[];
}

/** The boxes scoring at least `thresholdPercent`, laid out over the image in its pixels. */
export function detectionLayout(result: Pick<DetectionResult, "image" | "detections">, thresholdPercent: number): DetectionLayout {
  const { width, height } = result.image;
  const longest = Math.max(width, height);
  const stroke = Math.max(2, Math.round(longest / 250));
  const fontSize = Math.max(12, Math.round(longest / 40));
  const items = result.detections
    .filter((detection) => meetsThreshold(detection, thresholdPercent))
    .map((detection) => {
      const text = labelText(detection);
      const label = labelPlacement(detection.box, text, { width, height }, fontSize);
      return {
        key: detectionKey(detection),
        detection,
        colour: boxColour(detection.classIndex),
        box: detection.box,
        text,
        label,
        textX: label.x + fontSize / 4,
        textY: label.y + fontSize,
      };
    });
  return { width, height, stroke, fontSize, items };
}

/** What `drawDetections` needs of a 2D context. */
export type DrawingContext = Pick<
  CanvasRenderingContext2D,
  "drawImage" | "strokeRect" | "fillRect" | "fillText" | "lineWidth" | "strokeStyle" | "fillStyle" | "font" | "globalAlpha" | "textBaseline"
>;

/** Paints the image at its full size, then each box as the SVG overlay draws it: outline, label plate, label. */
export function drawDetections(context: DrawingContext, image: CanvasImageSource, layout: DetectionLayout): void {
  context.globalAlpha = 1;
  context.drawImage(image, 0, 0, layout.width, layout.height);
  context.font = `${layout.fontSize}px ${LABEL_FONT_FAMILY}`;
  context.textBaseline = "alphabetic"; // SVG text's y is its baseline too
  context.lineWidth = layout.stroke;
  for (const item of layout.items) {
    context.globalAlpha = 1;
    context.strokeStyle = item.colour;
    context.strokeRect(item.box.x, item.box.y, item.box.width, item.box.height);
    context.globalAlpha = LABEL_PLATE_OPACITY;
    context.fillStyle = "#000";
    context.fillRect(item.label.x, item.label.y, item.label.width, item.label.height);
    context.globalAlpha = 1;
    context.fillStyle = item.colour;
    context.fillText(item.text, item.textX, item.textY);
  }
}

/** What `renderDetectionPng` needs of a canvas (an HTMLCanvasElement, or a stand-in in tests). */
export interface PngCanvas {
  width: number;
  height: number;
  getContext(kind: "2d"): DrawingContext | null;
  toBlob(callback: (blob: Blob | null) => void, type: string): void;
}

/** The image with the boxes scoring at least `thresholdPercent` drawn on, as a PNG at the image's own size. */
export async function renderDetectionPng(
  image: CanvasImageSource,
  result: Pick<DetectionResult, "image" | "detections">,
  thresholdPercent: number,
  canvas: PngCanvas = document.createElement("canvas"),
): Promise<Blob> {
  const layout = detectionLayout(result, thresholdPercent);
  canvas.width = layout.width;
  canvas.height = layout.height;
  const context = canvas.getContext("2d");
  if (context === null) throw new Error("This browser cannot draw the image: no 2D canvas.");
  drawDetections(context, image, layout);
  return new Promise((resolve, reject) =>
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("The browser could not encode the PNG."))), "image/png"),
  );
}

/**
 * Fetches the image the detector was shown (a local preview or the gateway's copy: the
 * gateway must allow CORS reads, as IPFS gateways do), decodes it upright as the engine
 * did, and renders it with its boxes as a PNG.
 */
export async function detectionPngFromUrl(
  imageUrl: string,
  result: Pick<DetectionResult, "image" | "detections">,
  thresholdPercent: number,
): Promise<Blob> {
  let bitmap: ImageBitmap;
  try {
    const response = await fetch(imageUrl);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    bitmap = await createImageBitmap(await response.blob(), { imageOrientation: "from-image" });
  } catch (error) {
    throw new Error(`Could not read the image to draw the boxes on (${error instanceof Error ? error.message : String(error)}).`, {
      cause: error,
    });
  }
  try {
    return await renderDetectionPng(bitmap, result, thresholdPercent);
  } finally {
    bitmap.close();
  }
}

/** Saves `blob` as a file named `fileName`, as a download link would. */
export function saveBlob(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = fileName;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  // Revoked later: some browsers read the URL after click() returns.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
