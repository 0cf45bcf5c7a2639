/**
 * The inference engine: a batch of images in, one result per request out, in order.
 * The Golem entry command, `npm run predict` and the oracle's in-process executor all
 * go through `createEngine(…).run(…)` / `.runBatch(…)`.
 *
 *   const engine = createEngine({ modelsDir: "/models" });
 *   const results = await engine.runBatch(batch, "/golem/input");
 *
 * A model that cannot be trusted or loaded (unknown id, missing or corrupt file,
 * manifest that disagrees with the graph) fails the whole call with an error that
 * says why; it is not the requests' fault. A bad image only turns its own request
 * into an error entry.
 */
import { join } from "node:path";
import { defaultManifestsDirs, loadManifest, manifestStamp } from "../models/catalog.ts";
import { defaultDecodeConcurrency } from "./concurrency.ts";
import { DEFAULT_IMAGE_LIMITS, type ImageLimits } from "../image/image-limits.ts";
import type { Int8Path } from "./inference-path.ts";
import { type ChunkSlot, decodeIntoChunks, type ImageSource, type InputChunk } from "./input-chunks.ts";
import { type LoadedModel, loadModel } from "./loaded-model.ts";
import { inferChunk, type SlotOutcome } from "./infer-chunk.ts";
import { type DownloadOptions, ensureModelFiles } from "../models/model-files.ts";
import { type ModelsDir, resolveModelsDir } from "../models/models-dir.ts";
import { type ReferencePhotosDir, resolveReferencePhotosDir } from "../models/reference-set.ts";
import { classifyOrDetect } from "./predictions.ts";
import type { BatchDescription } from "@argus/protocol/batch";
import { MAX_BATCH_SIZE } from "@argus/protocol/limits";
import { ImageCidSchema, RequestIdSchema } from "@argus/protocol/ids";
import type { ModelManifest } from "@argus/protocol/manifest";
import { type ErrorCode, type InferenceResult, InferenceResultSchema, RESULT_SCHEMA_VERSION } from "@argus/protocol/result";
import { roundHundredths } from "./rounding.ts";
import { RUNTIME_VERSIONS } from "./runtime-versions.ts";

/**
 * What the engine works with. Programs build these from their settings
 * (`engineOptions` in src/config.ts: ARGUS_MODELS_DIR, ARGUS_MANIFESTS_DIR, the image
 * caps, ARGUS_MODELS_MIRROR); the engine itself reads no environment.
 */
export interface EngineOptions {
  /** Folder with the model files; a string is taken as explicitly chosen. Default: the download cache under ~/.cache. */
  modelsDir?: string | ModelsDir;
  /** Folders with `<id>.json` manifests. Default: the built-in folder. */
  manifestsDirs?: readonly string[];
  /** Per-image caps. Default: 2 MiB, 40 MP. */
  limits?: Partial<ImageLimits>;
  /** Images decoding at once. Default: two per core, at most libuv's default pool size. */
  decodeConcurrency?: number;
  /** onnxruntime intra-op threads. Default: one, or `cores` for a network dearer than decoding (intra-op-threads.ts). */
  intraOpThreads?: number;
  /** The cores this engine's network may share (several engines on one machine each get their share). Default: every core. */
  cores?: number;
  /** How to compute int8 networks. Default: the fastest path that gives the reference's bits on this CPU. */
  int8Path?: Int8Path;
  /** The self-test's photos; a string is taken as explicitly chosen. Default: their download cache under ~/.cache. */
  referencePhotosDir?: string | ReferencePhotosDir;
  /** Where missing models (and reference photos) are downloaded from, when their folder is the cache. */
  download?: DownloadOptions;
}

/** One request for `Engine.run`: ids to echo into the result, and the image as a file or bytes. */
export interface ImageRequest {
  requestId: string;
  imageCid: string;
  image: ImageSource;
}

export interface Engine {
  readonly modelsDir: ModelsDir;
  readonly limits: Readonly<ImageLimits>;
  /** The manifest of `modelId`. */
  manifest(modelId: string): Promise<ModelManifest>;
  /** Fetches (cache only), verifies and loads `modelId`; later runs reuse the session. */
  load(modelId: string): Promise<LoadedModel>;
  /** One result per request, in order. */
  run(modelId: string, requests: readonly ImageRequest[]): Promise<InferenceResult[]>;
  /** `run` for a batch description whose image files are in `inputDir`. */
  runBatch(batch: BatchDescription, inputDir: string): Promise<InferenceResult[]>;
  /**
   * Decodes the images into input chunks without running the network (what `run` costs
   * before inference), handing each to `onChunk`, whose data is valid only during the call.
   */
  decodeOnly(modelId: string, images: readonly ImageSource[], onChunk?: (chunk: InputChunk) => void): Promise<void>;
}

export function createEngine(options: EngineOptions = {}): Engine {
  const modelsDir =
    typeof options.modelsDir === "string"
      ? resolveModelsDir(options.modelsDir, undefined)
      : (options.modelsDir ?? resolveModelsDir(undefined, undefined));
  const manifestsDirs = options.manifestsDirs ?? defaultManifestsDirs();
  const limits = { ...DEFAULT_IMAGE_LIMITS, ...options.limits };
  const chunking = {
    limits,
    decodeConcurrency: options.decodeConcurrency ?? defaultDecodeConcurrency(),
    maxChunk: MAX_BATCH_SIZE,
  };
  const download = options.download ?? {};
  const referencePhotos = {
    dir:
      typeof options.referencePhotosDir === "string"
        ? resolveReferencePhotosDir(options.referencePhotosDir)
        : (options.referencePhotosDir ?? resolveReferencePhotosDir(undefined)),
    download,
  };

  const manifest = (modelId: string) => loadManifest(modelId, manifestsDirs);

  // What each model id was last loaded as, with the stamp of its manifest files then: a
  // run whose manifests have not changed goes straight to decoding, without reading and
  // checking them again (half a millisecond of file system round trips per batch, with
  // every core idle).
  const loaded = new Map<string, { stamp: string; model: LoadedModel }>();
  const load = async (modelId: string) => {
    const stamp = await manifestStamp(modelId, manifestsDirs);
    const known = loaded.get(modelId);
    if (known?.stamp === stamp) return known.model;
    const model = await loadFromManifest(modelId);
    loaded.set(modelId, { stamp, model });
    return model;
  };
  const loadFromManifest = async (modelId: string) => {
    const modelManifest = await manifest(modelId);
    await ensureModelFiles(modelManifest, modelsDir, download);
    return loadModel(modelManifest, modelsDir.path, {
      intraOpThreads: options.intraOpThreads,
      cores: options.cores,
      int8Path: options.int8Path,
      referencePhotos,
    });
  };

  const run = async (modelId: string, requests: readonly ImageRequest[]) => {
    for (const request of requests) {
      RequestIdSchema.parse(request.requestId);
      ImageCidSchema.parse(request.imageCid);
    }
    const model = await load(modelId);
    const results: InferenceResult[] = new Array(requests.length);
    const rejections = await decodeIntoChunks(
      model,
      requests.map((request) => request.image),
      chunking,
      async (chunk) => {
        for (const [slotIndex, outcome] of (await inferChunk(model, chunk)).entries()) {
          const slot = chunk.slots[slotIndex]!;
          const request = requests[slot.imageIndex]!;
          // Checked as each result is made, while later images still decode, not all at the end.
          results[slot.imageIndex] = checked(
            "rejection" in outcome
              ? errorResult(modelId, request, outcome.rejection)
              : predictionResult(model, modelId, request, slot, outcome),
          );
        }
      },
    );
    for (const [imageIndex, rejection] of rejections) {
      results[imageIndex] = checked(errorResult(modelId, requests[imageIndex]!, rejection));
    }
    return results;
  };

  return {
    modelsDir,
    limits,
    manifest,
    load,
    run,
    runBatch: (batch, inputDir) =>
      run(
        batch.modelId,
        batch.requests.map((request) => ({
          requestId: request.requestId,
          imageCid: request.imageCid,
          image: { path: join(inputDir, request.imageFile) },
        })),
      ),
    decodeOnly: async (modelId, images, onChunk) => {
      const model = await load(modelId);
      await decodeIntoChunks(model, images, chunking, async (chunk) => onChunk?.(chunk));
    },
  };
}

function predictionResult(
  model: LoadedModel,
  modelId: string,
  request: ImageRequest,
  slot: ChunkSlot,
  outcome: Extract<SlotOutcome, { values: unknown }>,
): InferenceResult {
  return {
    schemaVersion: RESULT_SCHEMA_VERSION,
    requestId: request.requestId,
    imageCid: request.imageCid,
    modelId,
    weightsSha256: model.manifest.weights.sha256,
    manifestCid: model.manifestCid,
    image: slot.decoded.image,
    ...classifyOrDetect(model, outcome.values, outcome.offset, slot.decoded),
    timings: {
      decodeMs: roundHundredths(slot.decodeMs),
      inferenceMs: roundHundredths(outcome.runMs / outcome.imagesInRun),
      batchSize: outcome.imagesInRun,
    },
    runtime: { ...RUNTIME_VERSIONS, inferencePath: model.inferencePath },
  };
}

/** Never hand out something the oracle's validation would reject. */
function checked(result: InferenceResult): InferenceResult {
  return InferenceResultSchema.parse(result);
}

function errorResult(modelId: string, request: ImageRequest, rejection: { code: ErrorCode; message: string }): InferenceResult {
  return {
    schemaVersion: RESULT_SCHEMA_VERSION,
    requestId: request.requestId,
    imageCid: request.imageCid,
    modelId,
    error: { code: rejection.code, message: rejection.message.slice(0, 1000) },
  };
}
