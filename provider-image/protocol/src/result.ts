/**
 * The result of one request: what the provider computes, the oracle pins to IPFS and
 * whose sha256 goes on-chain, and what the web UI shows. One versioned schema, defined
 * here only.
 *
 * A result is either a prediction (classification `top5` or detection `detections`) or
 * an error entry with a reason code, so a broken image costs its own request and never
 * the batch. Its bytes are the canonical JSON of the object (`resultBytes`): the same
 * result always gives the same bytes, hence the same sha256 and the same CID.
 *
 * Scores are probabilities in [0, 1]; boxes are in pixels of the original image after
 * EXIF orientation, origin top-left. On-chain the escrow keeps a compact summary:
 * `topClass` (uint16) and `topScore` (uint16 basis points), see `onChainSummary`.
 *
 * Browser-safe: zod and multiformats only.
 */
import { sha256 } from "multiformats/hashes/sha2";
import { z } from "zod";
import { canonicalJsonBytes } from "./canonical-json.ts";
import { digestFromResultCid } from "./cid.ts";
import { ImageCidSchema, ModelIdSchema, RequestIdSchema, Sha256HexSchema } from "./ids.ts";

/** 3: predictions name their manifest (`manifestCid`) and the engine's version (`runtime.engine`). */
export const RESULT_SCHEMA_VERSION = 3;

/** `topClass` when there is no class to report: a detector that found nothing. */
export const NO_CLASS = 0xffff;

/** Why a request produced no prediction. */
export const ErrorCodeSchema = z.enum([
  /** The image file has zero bytes. */
  "EMPTY",
  /** The image file is larger than the per-image byte cap (MAX_IMAGE_BYTES in limits.ts by default). */
  "TOO_LARGE_BYTES",
  /** The bytes are not an image in any format we recognise (random data, HTML, text…). */
  "NOT_AN_IMAGE",
  /** An image, but in a format the engine does not accept (TIFF, BMP, SVG, HEIC, PDF…). */
  "UNSUPPORTED_FORMAT",
  /** Its header declares more pixels than the cap (40 MP by default): a possible decompression bomb, not decoded. */
  "TOO_MANY_PIXELS",
  /** A supported format whose data is corrupt or truncated. */
  "DECODE_FAILED",
  /** The batch names an image file that is not in the input folder. */
  "FILE_NOT_FOUND",
  /** The image file exists but could not be read. */
  "READ_FAILED",
  /** The network failed on this image (should not happen for a decoded image; reported rather than hidden). */
  "INFERENCE_FAILED",
]);
export type ErrorCode = z.infer<typeof ErrorCodeSchema>;

/** Class indices must fit the on-chain uint16 and leave 65535 free for NO_CLASS. */
const ClassIndexSchema = z
  .int()
  .min(0)
  .max(NO_CLASS - 1);
const ScoreSchema = z.number().min(0).max(1);
const MillisecondsSchema = z.number().min(0);

export const ClassScoreSchema = z.strictObject({
  classIndex: ClassIndexSchema,
  label: z.string().max(500),
  score: ScoreSchema,
});
export type ClassScore = z.infer<typeof ClassScoreSchema>;

/** A box in original-image pixels: top-left corner, width and height. */
export const BoxSchema = z.strictObject({
  x: z.number().min(0),
  y: z.number().min(0),
  width: z.number().min(0),
  height: z.number().min(0),
});
export type Box = z.infer<typeof BoxSchema>;

export const DetectionSchema = z.strictObject({ ...ClassScoreSchema.shape, box: BoxSchema });
export type Detection = z.infer<typeof DetectionSchema>;

/** The decoded image the prediction is about: size after EXIF orientation, and container format. */
export const ImageInfoSchema = z.strictObject({
  width: z.int().min(1),
  height: z.int().min(1),
  format: z.enum(["jpeg", "png", "webp", "gif", "avif"]),
});
export type ImageInfo = z.infer<typeof ImageInfoSchema>;

/**
 * Where the time went. `inferenceMs` is the wall time of the `session.run` that
 * carried this image divided by the `batchSize` images it carried.
 */
export const TimingsSchema = z.strictObject({
  decodeMs: MillisecondsSchema,
  inferenceMs: MillisecondsSchema,
  batchSize: z.int().min(1),
});
export type Timings = z.infer<typeof TimingsSchema>;

/**
 * How the network was computed. The int8 paths all give the bits of the ISA-independent
 * reference graph (`native-int8` where the CPU's u8×s8 kernels are exact, `native-u8u8`
 * where they saturate, `qdq-reference` elsewhere), so two honest int8 results agree
 * exactly; a float network (`native-float`) may differ in its last digits between CPUs.
 */
export const InferencePathSchema = z.enum(["native-int8", "native-u8u8", "qdq-reference", "native-float"]);
export type InferencePath = z.infer<typeof InferencePathSchema>;

/**
 * Versions of everything that can change a prediction's last digits, and the inference
 * path: with the manifest (weights, preprocessing) this is what a recomputation needs to
 * reproduce the answer, and what explains a difference when it does not.
 */
export const RuntimeSchema = z.strictObject({
  /** The engine (`@argus/provider-image`) version: preprocessing and post-processing code. */
  engine: z.string().max(50),
  node: z.string().max(50),
  onnxruntime: z.string().max(50),
  sharp: z.string().max(50),
  libvips: z.string().max(50),
  inferencePath: InferencePathSchema,
});
export type Runtime = z.infer<typeof RuntimeSchema>;

const requestFields = {
  schemaVersion: z.literal(RESULT_SCHEMA_VERSION),
  requestId: RequestIdSchema,
  imageCid: ImageCidSchema,
  modelId: ModelIdSchema,
};

/**
 * What every prediction says besides its payload: which manifest (hence weights, labels
 * and preprocessing) saw which image. `manifestCid` is the CID of the manifest's canonical
 * bytes (`manifestBytes`), the same the model registry records, so a recomputation can
 * fetch exactly the manifest the provider ran even after the registry moved on.
 */
const predictionContext = {
  weightsSha256: Sha256HexSchema,
  manifestCid: z.string().max(200).refine(isResultCid, "not a raw sha2-256 CID (see protocol/cid.ts)"),
  image: ImageInfoSchema,
};

/**
 * Who computed a prediction: the oracle's executor and, on Golem, the provider node —
 * its node id and the name it advertises (`golem.node.id.name`). The oracle adds it
 * after it has checked the provider's results file, so it is part of the pinned bytes
 * and of the on-chain digest; a results file that names its own author is refused
 * (`parseResultsFile`): a provider does not get to say who it is. Results pinned before
 * this field existed have none.
 */
/**
 * How a Golem answer was cross-checked: `unaudited`, or computed by 2 providers that
 * agreed, or by 3 when 2 disagreed (`outvoted`: the provider whose answer lost, banned),
 * or recomputed by the oracle's own engine, which agreed (the oracle's `audit.local`).
 * Agreement is @argus/protocol/compare-results' definition.
 */
export const AuditRecordSchema = z.union([
  z.literal("unaudited"),
  z.strictObject({ providers: z.literal(2), agreed: z.literal(true) }),
  z.strictObject({ providers: z.literal(3), agreed: z.literal(false), outvoted: z.string().min(1).max(100) }),
  z.strictObject({ recomputedByOracle: z.literal(true), agreed: z.literal(true) }),
]);
export type AuditRecord = z.infer<typeof AuditRecordSchema>;

export const ComputedBySchema = z.strictObject({
  executor: z.enum(["local", "golem"]),
  provider: z.strictObject({ id: z.string().min(1).max(100), name: z.string().max(200) }).optional(),
  /** Golem only: whether other providers checked this answer. */
  audit: AuditRecordSchema.optional(),
});
export type ComputedBy = z.infer<typeof ComputedBySchema>;

const runFields = { timings: TimingsSchema, runtime: RuntimeSchema, computedBy: ComputedBySchema.optional() };

/** Top classes by probability (softmax over all classes), best first; 5 unless the model has fewer classes. */
export const ClassificationResultSchema = z.strictObject({
  ...requestFields,
  task: z.literal("classification"),
  ...predictionContext,
  top5: z.array(ClassScoreSchema).min(1).max(5),
  ...runFields,
});

/** Detections after threshold and class-wise NMS, best first; may be empty. */
export const DetectionResultSchema = z.strictObject({
  ...requestFields,
  task: z.literal("detection"),
  ...predictionContext,
  detections: z.array(DetectionSchema).max(1000),
  ...runFields,
});

export const ErrorResultSchema = z.strictObject({
  ...requestFields,
  error: z.strictObject({ code: ErrorCodeSchema, message: z.string().max(1000) }),
});

/**
 * Every kind of result. Each prediction names its `task`, so a new task adds a member
 * here without touching the others: semantic segmentation (not served yet, see
 * ModelManifestSchema) would be `task: "segmentation"` with per-class pixel shares and
 * its mask as a PNG pinned beside the JSON, named by its CID in the result.
 */
export const InferenceResultSchema = z.union([ClassificationResultSchema, DetectionResultSchema, ErrorResultSchema]);

export type ClassificationResult = z.infer<typeof ClassificationResultSchema>;
export type DetectionResult = z.infer<typeof DetectionResultSchema>;
export type ErrorResult = z.infer<typeof ErrorResultSchema>;
export type PredictionResult = ClassificationResult | DetectionResult;
export type InferenceResult = z.infer<typeof InferenceResultSchema>;

export function isErrorResult(result: InferenceResult): result is ErrorResult {
  return "error" in result;
}

/** The result as the oracle records it: a prediction names who computed it; an error entry is left as it is. */
export function withComputedBy(result: InferenceResult, computedBy: ComputedBy): InferenceResult {
  return isErrorResult(result) ? result : { ...result, computedBy };
}

/** `computedBy` in words, for people: "Golem provider <name> (<id>)" or "the oracle's local executor". */
export function describeComputedBy(computedBy: ComputedBy | undefined): string {
  if (computedBy === undefined) return "not recorded";
  if (computedBy.provider === undefined) return computedBy.executor === "local" ? "the oracle's local executor" : "a Golem provider";
  const who = `Golem provider ${computedBy.provider.name || "(unnamed)"} (${computedBy.provider.id})`;
  return computedBy.audit === undefined ? who : `${who}, ${describeAudit(computedBy.audit)}`;
}

/** An audit record in words: what the cross-check established. */
export function describeAudit(audit: AuditRecord): string {
  if (audit === "unaudited") return "not cross-checked";
  if ("recomputedByOracle" in audit) return "confirmed by the oracle's own engine";
  if (audit.agreed) return "confirmed by a second provider";
  return `confirmed by a third provider, which outvoted ${audit.outvoted}`;
}

/** The canonical bytes of a result: what is pinned to IPFS and hashed on-chain. */
export function resultBytes(result: InferenceResult): Uint8Array {
  return canonicalJsonBytes(result);
}

/** sha256 of `resultBytes(result)`, 32 bytes (the on-chain `resultDigest`). Works in browsers and Node. */
export async function resultSha256(result: InferenceResult): Promise<Uint8Array> {
  return (await sha256.digest(resultBytes(result))).digest;
}

/** `resultSha256` as 64 lower-case hex digits. */
export async function resultSha256Hex(result: InferenceResult): Promise<string> {
  return bytesToHex(await resultSha256(result));
}

/** A probability as integer basis points, 0–10000 (what the escrow stores as `topScore`). */
export function scoreToBasisPoints(score: number): number {
  if (!Number.isFinite(score)) throw new RangeError(`score ${score} is not a number`);
  return Math.min(10_000, Math.max(0, Math.round(score * 10_000)));
}

/**
 * The compact summary the escrow stores with a fulfilled request.
 * Classification: the top-1 class and its probability. Detection: the class and score
 * of the highest-scoring detection, or `NO_CLASS` (65535) and 0 when nothing was
 * found. Error entries have no summary: the caller decides how to settle them.
 */
export function onChainSummary(result: PredictionResult): { topClass: number; topScore: number } {
  if (isErrorResult(result as InferenceResult)) throw new TypeError("an error result has no on-chain summary");
  const best = result.task === "classification" ? result.top5[0] : bestDetection(result.detections);
  if (best === undefined) return { topClass: NO_CLASS, topScore: 0 };
  return { topClass: best.classIndex, topScore: scoreToBasisPoints(best.score) };
}

function bestDetection(detections: readonly Detection[]): Detection | undefined {
  // Results list detections best first, but a summary must not trust that order.
  let best: Detection | undefined;
  for (const detection of detections) if (best === undefined || detection.score > best.score) best = detection;
  return best;
}

function isResultCid(text: string): boolean {
  try {
    digestFromResultCid(text);
    return true;
  } catch {
    return false;
  }
}

function bytesToHex(bytes: Uint8Array): string {
  let hex = "";
  for (const byte of bytes) hex += byte.toString(16).padStart(2, "0");
  return hex;
}
