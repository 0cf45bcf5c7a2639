/** The versions recorded in every result: everything that can move a score's last digits. */
import { env } from "onnxruntime-node";
import sharp from "sharp";
import type { Runtime } from "@argus/protocol/result";

export const RUNTIME_VERSIONS: Readonly<Omit<Runtime, "inferencePath">> = Object.freeze({
  node: process.versions.node,
  onnxruntime: env.versions.node ?? env.versions.common,
  sharp: sharp.versions.sharp,
  libvips: sharp.versions.vips,
});
