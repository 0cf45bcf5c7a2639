/**
 * The geometry that turns a source image into the network's input, computed once and
 * used twice: to drive the resize, and (for detectors) to map boxes from input pixels
 * back to source pixels. Keeping it explicit, rather than relying on a library's
 * "cover"/"contain" rounding, is what makes the box mapping exact.
 *
 * Pure and browser-safe: the engine's sharp pipeline and the web UI's recompute
 * (wasm-vips) both resize by this plan, so they cut the same pixels.
 */
import type { ResizePolicy } from "./manifest.ts";

export interface ResizeCropPlan {
  policy: "resize-crop";
  /** Size of the scaled image, before the centre crop. */
  resizeWidth: number;
  resizeHeight: number;
  cropLeft: number;
  cropTop: number;
}

/** Both sides scaled to the input's, aspect ratio not kept: the whole image, nothing cut or added. */
export interface StretchPlan {
  policy: "resize";
  resizeWidth: number;
  resizeHeight: number;
}

export interface LetterboxPlan {
  policy: "letterbox";
  /** Size of the scaled image, before padding. */
  resizeWidth: number;
  resizeHeight: number;
  padLeft: number;
  padTop: number;
  padRight: number;
  padBottom: number;
}

export type ResizePlan = ResizeCropPlan | StretchPlan | LetterboxPlan;

export interface Size {
  width: number;
  height: number;
}

export function planResize(policy: ResizePolicy, source: Size, input: Size): ResizePlan {
  if (policy.policy === "resize-crop") {
    const scale = policy.shortSide / Math.min(source.width, source.height);
    // The short side lands on shortSide exactly; the long side is rounded but never below the crop.
    const resizeWidth = Math.max(input.width, Math.round(source.width * scale));
    const resizeHeight = Math.max(input.height, Math.round(source.height * scale));
    return {
      policy: "resize-crop",
      resizeWidth,
      resizeHeight,
      cropLeft: Math.floor((resizeWidth - input.width) / 2),
      cropTop: Math.floor((resizeHeight - input.height) / 2),
    };
  }
  if (policy.policy === "resize") return { policy: "resize", resizeWidth: input.width, resizeHeight: input.height };
  const scale = Math.min(input.width / source.width, input.height / source.height);
  const resizeWidth = clamp(Math.round(source.width * scale), 1, input.width);
  const resizeHeight = clamp(Math.round(source.height * scale), 1, input.height);
  const padLeft = Math.floor((input.width - resizeWidth) / 2);
  const padTop = Math.floor((input.height - resizeHeight) / 2);
  return {
    policy: "letterbox",
    resizeWidth,
    resizeHeight,
    padLeft,
    padTop,
    padRight: input.width - resizeWidth - padLeft,
    padBottom: input.height - resizeHeight - padTop,
  };
}

/** Maps a point in input pixels back to source pixels (not clipped): undoes the padding or crop, then the scale. */
export function inputToSource(plan: ResizePlan, source: Size, x: number, y: number): { x: number; y: number } {
  const offsetX = plan.policy === "letterbox" ? -plan.padLeft : plan.policy === "resize-crop" ? plan.cropLeft : 0;
  const offsetY = plan.policy === "letterbox" ? -plan.padTop : plan.policy === "resize-crop" ? plan.cropTop : 0;
  return {
    x: ((x + offsetX) * source.width) / plan.resizeWidth,
    y: ((y + offsetY) * source.height) / plan.resizeHeight,
  };
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}
