/**
 * How images are packed into `session.run` calls, with a stand-in network so that
 * the rare paths can be forced: a batched run that fails and is retried image by
 * image, and a fixed-batch model fed one image per run as each finishes decoding.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import type { InferenceSession } from "onnxruntime-node";
import { BUILTIN_MANIFESTS_DIR } from "@argus/provider-image/catalog";
import { inferChunk } from "@argus/provider-image/infer-chunk";
import { DEFAULT_IMAGE_LIMITS } from "@argus/provider-image/image-limits";
import { decodeIntoChunks, type InputChunk } from "@argus/provider-image/input-chunks";
import type { LoadedModel } from "@argus/provider-image/loaded-model";
import { type ModelManifest, parseManifest } from "@argus/protocol/manifest";
import { requireSharedData } from "../support/shared.ts";
import { noiseBytes, readSharedImage } from "./support/engine.ts";

/** A network that answers each image with [its first input value, its batch size], and fails on any run holding a marked image. */
function standInNetwork(manifest: ModelManifest, fixedBatchSize: number | null, runs: number[]): LoadedModel {
  const session = {
    async run(feeds: Record<string, { data: Float32Array; dims: number[] }>) {
      const input = feeds.input!;
      const batch = input.dims[0]!;
      runs.push(batch);
      const perImage = input.data.length / batch;
      const output = new Float32Array(batch * 2);
      for (let image = 0; image < batch; image++) {
        const first = input.data[image * perImage]!;
        if (first === POISON) throw new Error("this image made the network fail");
        output[image * 2] = first;
        output[image * 2 + 1] = batch;
      }
      return { output: { data: output } };
    },
  } as unknown as InferenceSession;
  const manifestCid = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy";
  return {
    manifest,
    manifestCid,
    session,
    inputName: "input",
    outputName: "output",
    labels: [],
    fixedBatchSize,
    outputDims: [2],
    outputValuesPerImage: 2,
    inferencePath: "native-float",
    intraOpThreads: 1,
  };
}

const POISON = -12345;

function chunkOf(values: number[], perImage: number): InputChunk {
  const data = new Float32Array(values.length * perImage);
  values.forEach((value, index) => {
    data[index * perImage] = value;
  });
  return {
    data,
    runSize: values.length,
    slots: values.map((_, imageIndex) => ({ imageIndex, decodeMs: 1, decoded: {} as never })),
  };
}

describe("provider-image: chunks and session runs", function () {
  let manifest: ModelManifest;

  before(async function () {
    manifest = parseManifest(JSON.parse(await readFile(join(BUILTIN_MANIFESTS_DIR, "mobilenetv2-12-int8.json"), "utf8")));
  });

  it("a whole chunk goes through one run", async function () {
    const runs: number[] = [];
    const outcomes = await inferChunk(standInNetwork(manifest, null, runs), chunkOf([1, 2, 3], 3 * 224 * 224));
    expect(runs).to.deep.equal([3]);
    expect(
      outcomes.map((outcome) => ("values" in outcome ? [outcome.values[outcome.offset], outcome.imagesInRun] : outcome)),
    ).to.deep.equal([
      [1, 3],
      [2, 3],
      [3, 3],
    ]);
  });

  it("a failed batched run is retried image by image: only the image the network fails on gets INFERENCE_FAILED", async function () {
    const runs: number[] = [];
    const outcomes = await inferChunk(standInNetwork(manifest, null, runs), chunkOf([1, POISON, 3], 3 * 224 * 224));
    expect(runs).to.deep.equal([3, 1, 1, 1]);
    expect("values" in outcomes[0]! && outcomes[0].values[outcomes[0].offset]).to.equal(1);
    expect("values" in outcomes[2]! && outcomes[2].values[outcomes[2].offset]).to.equal(3);
    expect("values" in outcomes[0]! && outcomes[0].imagesInRun).to.equal(1);
    expect("rejection" in outcomes[1]! && outcomes[1].rejection).to.deep.equal({
      code: "INFERENCE_FAILED",
      message: "the network failed on this image: this image made the network fail",
    });

    const failing = standInNetwork(manifest, null, []);
    failing.session = { run: async () => Promise.reject(new Error("out of memory")) } as unknown as InferenceSession;
    const failed = await inferChunk(failing, chunkOf([1, 2], 3 * 224 * 224));
    for (const outcome of failed) {
      expect("rejection" in outcome && outcome.rejection.code).to.equal("INFERENCE_FAILED");
      expect("rejection" in outcome && outcome.rejection.message).to.contain("out of memory");
    }
  });

  it("a fixed-batch model gets one run per image, started as each image is decoded; a dynamic one runs whatever has decoded", async function () {
    requireSharedData(this);
    const photos = await Promise.all(["wml_cat.jpg", "ortx_pineapple.png", "detect_bus.jpg"].map(readSharedImage));
    const sources = [...photos, noiseBytes(100)].map((bytes) => ({ bytes }));
    const options = { limits: DEFAULT_IMAGE_LIMITS, decodeConcurrency: 4, maxChunk: 16 };

    for (const fixedBatchSize of [1, null]) {
      const chunks: InputChunk[] = [];
      const rejections = await decodeIntoChunks(standInNetwork(manifest, fixedBatchSize, []), sources, options, async (chunk) => {
        chunks.push(chunk);
      });
      const sizes = chunks.map((chunk) => chunk.runSize);
      if (fixedBatchSize === 1) expect(sizes).to.deep.equal([1, 1, 1]);
      expect(chunks.flatMap((chunk) => chunk.slots.map((slot) => slot.imageIndex)).sort()).to.deep.equal([0, 1, 2]);
      expect([...rejections.keys()]).to.deep.equal([3]);
      expect(rejections.get(3)!.code).to.equal("NOT_AN_IMAGE");
    }
  });

  it("a dynamic batch: while the network runs, the next images decode, and the next run takes them all", async function () {
    requireSharedData(this);
    const photos = await Promise.all(["wml_cat.jpg", "ortx_pineapple.png", "detect_bus.jpg", "glow_dog_207.png"].map(readSharedImage));
    const sources = [...photos, ...photos, ...photos, ...photos].map((bytes) => ({ bytes }));
    const runs: { size: number; imageIndexes: number[] }[] = [];
    let running = 0;
    await decodeIntoChunks(
      standInNetwork(manifest, null, []),
      sources,
      { limits: DEFAULT_IMAGE_LIMITS, decodeConcurrency: 4, maxChunk: 16 },
      async (chunk) => {
        expect(++running, "one run at a time").to.equal(1);
        runs.push({ size: chunk.runSize, imageIndexes: chunk.slots.map((slot) => slot.imageIndex) });
        await new Promise((resolve) => setTimeout(resolve, 150)); // a slow network: the decoders get ahead of it
        running--;
      },
    );
    // What had decoded when the network was first free: at most the decoder's window (4 decoding + 4 ahead), never the batch.
    expect(runs[0]!.size).to.be.at.most(8);
    expect(runs.length).to.be.below(sources.length); // later runs carried several images
    expect(runs.flatMap((run) => run.imageIndexes).sort((a, b) => a - b)).to.deep.equal([...sources.keys()]);
  });

  it("decoding goes on while a run holds the thread, within a window ahead of the network, so it is never left a long tail", async function () {
    requireSharedData(this);
    const photo = await readSharedImage("glow_dog_207.png");
    const sources = Array.from({ length: 12 }, () => ({ bytes: photo }));
    for (const [decodeAhead, largestRun] of [
      [1, [3, 3]], // 2 decoding + 1 ahead: while a run holds the network, 3 more decode, and the next run takes them
      [100, [9, 11]], // unbounded: everything after the first few images decodes during the first run
    ] as const) {
      const sizes: number[] = [];
      await decodeIntoChunks(
        standInNetwork(manifest, null, []),
        sources,
        { limits: DEFAULT_IMAGE_LIMITS, decodeConcurrency: 2, decodeAhead, maxChunk: 16 },
        async (chunk) => {
          sizes.push(chunk.runSize);
          // A slow network that, like onnxruntime-node's session.run, holds this thread while it runs.
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 600);
        },
      );
      expect(sizes.reduce((sum, size) => sum + size, 0)).to.equal(12);
      expect(Math.max(...sizes), `runs ${sizes.join(", ")}`).to.be.within(largestRun[0], largestRun[1]);
    }
  });

  it("the largest files decode first, given as bytes or as files, so that a batch never ends on its dearest image", async function () {
    requireSharedData(this);
    const names = ["ortx_cat_224x224.jpg", "wml_kitten.jpg", "ortx_pineapple.png", "dlb_ILSVRC2012_val_00000023.JPEG", "wml_cat.jpg"];
    const photos = await Promise.all(names.map(readSharedImage));
    const bySize = [...names.keys()].sort((a, b) => photos[b]!.length - photos[a]!.length);
    const dir = await mkdtemp(join(tmpdir(), "argus-order-"));
    try {
      await Promise.all(names.map((name, index) => writeFile(join(dir, name), photos[index]!)));
      const missing = { path: join(dir, "missing.jpg") };
      for (const sources of [photos.map((bytes) => ({ bytes })), [...names.map((name) => ({ path: join(dir, name) })), missing]]) {
        const order: number[] = [];
        // One decode at a time: images finish in the order they are started.
        await decodeIntoChunks(
          standInNetwork(manifest, 1, []),
          sources,
          { limits: DEFAULT_IMAGE_LIMITS, decodeConcurrency: 1, maxChunk: 16 },
          async (chunk) => {
            order.push(...chunk.slots.map((slot) => slot.imageIndex));
          },
        );
        expect(order).to.deep.equal(bySize);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("reuses a chunk's input memory in the next batch, and a reused fixed batch is still zero-padded", async function () {
    requireSharedData(this);
    const photos = await Promise.all(["wml_cat.jpg", "ortx_pineapple.png", "detect_bus.jpg"].map(readSharedImage));
    const options = { limits: DEFAULT_IMAGE_LIMITS, decodeConcurrency: 2, maxChunk: 16 };
    const perImage = 3 * manifest.input.width * manifest.input.height;
    const buffersOf = async (fixedBatchSize: number | null, sources: { bytes: Uint8Array }[]) => {
      const seen: { buffer: ArrayBufferLike; padding: number[] }[] = [];
      await decodeIntoChunks(standInNetwork(manifest, fixedBatchSize, []), sources, options, async (chunk) => {
        const padding = chunk.data.subarray(chunk.slots.length * perImage, chunk.runSize * perImage);
        seen.push({ buffer: chunk.data.buffer, padding: [...new Set(padding)] });
      });
      return seen;
    };
    // A batch of 3 on a model that runs 4 at a time: one run, its 4th slot padding.
    const first = await buffersOf(
      4,
      photos.map((bytes) => ({ bytes })),
    );
    const second = await buffersOf(
      4,
      photos.slice(0, 2).map((bytes) => ({ bytes })),
    );
    expect(second[0]!.buffer, "the second batch runs in the first one's memory").to.equal(first[0]!.buffer);
    expect(second[0]!.padding, "slots 3 and 4 held the first batch's images, and must be zeros now").to.deep.equal([0]);
    // A dynamic batch: every run of the second batch reads the first batch's memory.
    const dynamicFirst = await buffersOf(
      null,
      photos.map((bytes) => ({ bytes })),
    );
    const dynamicSecond = await buffersOf(
      null,
      photos.map((bytes) => ({ bytes })),
    );
    expect(new Set(dynamicSecond.map((run) => run.buffer))).to.deep.equal(new Set([dynamicFirst[0]!.buffer]));
  });
});
