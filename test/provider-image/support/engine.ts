/**
 * Helpers for the provider-image suites: an engine over the shared models, request
 * builders, result assertions, and image fixtures generated in code (nothing from
 * ../shared is copied into the repository).
 */
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { deflateSync, crc32 } from "node:zlib";
import { expect } from "chai";
import sharp from "sharp";
import { createEngine, type Engine, type EngineOptions, type ImageRequest } from "@argus/provider-image/engine";
import type { ClassificationResult, DetectionResult, ErrorCode, ErrorResult, InferenceResult } from "@argus/protocol/result";
import { SHARED_IMAGES_DIR, SHARED_MODELS_DIR, sharedImage } from "../../support/shared.ts";

export const MOBILENET = "mobilenetv2-12-int8";
export const SQUEEZENET = "squeezenet1.1-fp16";
export const FASTESTDET = "fastestdet-coco80";

/** A valid image CID (raw, sha2-256) to fill requests with. */
export const SOME_CID = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy";

export function sharedEngine(options: EngineOptions = {}): Engine {
  return createEngine({ referencePhotosDir: SHARED_IMAGES_DIR, modelsDir: SHARED_MODELS_DIR, ...options });
}

export function readSharedImage(name: string): Promise<Buffer> {
  return readFile(sharedImage(name));
}

export function byteRequests(images: readonly Uint8Array[]): ImageRequest[] {
  return images.map((bytes, index) => ({ requestId: String(index + 1), imageCid: SOME_CID, image: { bytes } }));
}

/** Runs in-memory images through a model; one result each, in order. */
export async function predict(engine: Engine, modelId: string, images: readonly Uint8Array[]): Promise<InferenceResult[]> {
  return engine.run(modelId, byteRequests(images));
}

export function expectClassification(result: InferenceResult | undefined): ClassificationResult {
  expect(result, "a result").to.not.equal(undefined);
  if (result === undefined || "error" in result) expect.fail(`expected a prediction, got ${JSON.stringify(result)}`);
  expect(result.task).to.equal("classification");
  return result as ClassificationResult;
}

export function expectDetection(result: InferenceResult | undefined): DetectionResult {
  if (result === undefined || "error" in result) expect.fail(`expected a prediction, got ${JSON.stringify(result)}`);
  expect(result.task).to.equal("detection");
  return result as DetectionResult;
}

export function expectError(result: InferenceResult | undefined, code: ErrorCode): ErrorResult {
  if (result === undefined || !("error" in result)) expect.fail(`expected error ${code}, got ${JSON.stringify(result)}`);
  expect(result.error.code, result.error.message).to.equal(code);
  expect(result.error.message).to.be.a("string").and.not.equal("");
  return result;
}

/** Classes of the top-5, best first. */
export function topClasses(result: ClassificationResult): number[] {
  return result.top5.map((entry) => entry.classIndex);
}

/**
 * A PNG whose header declares `width` × `height` pixels but whose data is tiny: the
 * shape of a decompression bomb, without the gigabytes.
 */
export function pngDeclaring(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const typeAndData = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(typeAndData));
    return Buffer.concat([length, typeAndData, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, deflate, no filter, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(Buffer.alloc(1024))),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/** Deterministic noise (a fixed LCG), so a "random bytes" test cannot flake into a real signature. */
export function noiseBytes(length: number, seed = 12345): Buffer {
  const bytes = Buffer.alloc(length);
  let state = seed >>> 0;
  for (let index = 0; index < length; index++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    bytes[index] = state >>> 24;
  }
  return bytes;
}

/** An animated GIF whose frames are the given images, each resized to `size`². */
export async function animatedGif(frames: readonly Uint8Array[], size = 256): Promise<Buffer> {
  const raws = await Promise.all(frames.map((frame) => sharp(frame).resize(size, size, { fit: "cover" }).removeAlpha().raw().toBuffer()));
  return sharp(Buffer.concat(raws), { raw: { width: size, height: size * frames.length, channels: 3, pageHeight: size } })
    .gif({ loop: 0, delay: frames.map(() => 100) })
    .toBuffer();
}

/**
 * A local stand-in for raw.githubusercontent.com: serves the shared model files and
 * photos by name (as ARGUS_MODELS_MIRROR expects), records the paths asked for, and can
 * be told to answer with other bytes.
 */
export interface ModelsMirror {
  url: string;
  requests: string[];
  /** When set, every request is answered with these bytes. */
  tampered: Buffer | undefined;
  close(): Promise<void>;
}

export async function startModelsMirror(): Promise<ModelsMirror> {
  const mirror: Omit<ModelsMirror, "url" | "close"> = { requests: [], tampered: undefined };
  const server = createServer(async (request, response) => {
    mirror.requests.push(request.url ?? "");
    const name = decodeURIComponent((request.url ?? "/").slice(1)).replace(/[/\\]/g, "");
    const bytes =
      mirror.tampered ??
      (await readFile(join(SHARED_MODELS_DIR, name)).catch(() => readFile(join(SHARED_IMAGES_DIR, name)).catch(() => undefined)));
    if (bytes === undefined) response.writeHead(404).end("not found");
    else response.writeHead(200, { "content-type": "application/octet-stream" }).end(bytes);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return Object.assign(mirror, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}
