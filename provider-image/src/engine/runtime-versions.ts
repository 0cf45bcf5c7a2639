/** The versions recorded in every result: everything that can move a score's last digits. */
import { env } from "onnxruntime-node";
import sharp from "sharp";
import type { Runtime } from "@argus/protocol/result";
import { readFileSync } from "node:fs";

// The engine's own version is its package's: the image carries package.json, so it is always there.
const enginePackage = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };

export const RUNTIME_VERSIONS: Readonly<Omit<Runtime, "inferencePath">> = Object.freeze({
  engine: enginePackage.version,
  node: process.versions.node,
  onnxruntime: env.versions.node ?? env.versions.common,
  sharp: sharp.versions.sharp,
  libvips: sharp.versions.vips,
});
