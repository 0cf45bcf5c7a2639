/**
 * A model ready to run: its manifest, its verified weights in one onnxruntime session,
 * its labels, and what the graph says about batching.
 *
 * Loading is where trust is established, so it is strict. The weights are hashed and
 * compared with the manifest before onnxruntime sees a byte (and the session is built
 * from those same bytes, so the file cannot change in between); the labels are
 * verified the same way; and the manifest's claims about tensor names, types and
 * sizes are checked against the graph, so a wrong manifest fails here with a message
 * rather than later with a wrong prediction. Last, the model runs its self-test on the
 * bundled reference photos: a manifest whose preprocessing is wrong loads fine and
 * answers nonsense, and this is what catches it.
 *
 * One session per model per process: sessions are cached by models folder and
 * manifest, and concurrent loads of the same model share one promise.
 */
import { availableParallelism } from "node:os";
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { InferenceSession } from "onnxruntime-node";
import { fastestExactPath, type InferencePath, type Int8Path, int8Graph } from "./inference-path.ts";
import { ModelIntegrityError } from "../models/model-files.ts";
import type { ReferencePhotosSource } from "../models/reference-set.ts";
import { canonicalJson } from "@argus/protocol/canonical-json";
import { resultCidForBytes } from "@argus/protocol/cid";
import { manifestBytes, type ModelManifest, parseLabels } from "@argus/protocol/manifest";
import { chooseIntraOpThreads, costMeter } from "./intra-op-threads.ts";
import { decoderReady } from "../image/decoder-thread.ts";
import { hasQuantizedOperators } from "./reference-graph.ts";
import { sha256Hex } from "../models/sha256-file.ts";
import { runSelfTest, SelfTestFailedError, type SelfTestReport } from "./self-test.ts";

export { SelfTestFailedError };

export interface LoadedModel {
  manifest: ModelManifest;
  /** The CID of the manifest's canonical bytes (what the registry records); named in every prediction. */
  manifestCid: string;
  session: InferenceSession;
  /** The graph's input and output tensor names (the manifest's, or the graph's only one). */
  inputName: string;
  outputName: string;
  labels: readonly string[];
  /** Images per `session.run` the graph accepts: null when the batch dimension is dynamic. */
  fixedBatchSize: number | null;
  /** The output's shape without the batch dimension: [classes(, 1, 1)] or [rows, 5 + classes]. */
  outputDims: readonly number[];
  /** Values per image in the output. */
  outputValuesPerImage: number;
  /** How the network is computed here (see inference-path.ts); recorded in every result. */
  inferencePath: InferencePath;
  /** onnxruntime's intra-op threads for this session. */
  intraOpThreads: number;
}

/** A model that passed its self-test, with the report. */
export interface ServableModel extends LoadedModel {
  selfTest: SelfTestReport;
}

/** The manifest describes a graph other than the one in the weights file. */
export class ModelMismatchError extends Error {
  override name = "ModelMismatchError";
}

export interface SessionOptions {
  /**
   * onnxruntime intra-op threads. Default: `loadModel` chooses one or every core from
   * the self-test (intra-op-threads.ts); `loadModelUntested` takes `cores`.
   */
  intraOpThreads?: number;
  /** The cores the network may share. Default: every core. */
  cores?: number;
  /** How to compute an int8 network; default: the fastest path that is exact on this CPU. */
  int8Path?: Int8Path;
}

const cache = new Map<string, Promise<ServableModel>>();

export interface LoadOptions extends SessionOptions {
  /** The photos of the self-test every model passes before it is served. */
  referencePhotos: ReferencePhotosSource;
}

/**
 * The model, verified and loaded, once it has passed its self-test on the reference
 * photos (self-test.ts); a model that fails it is refused with SelfTestFailedError,
 * which names the photos it got wrong.
 */
export function loadModel(manifest: ModelManifest, modelsDir: string, options: LoadOptions): Promise<ServableModel> {
  // The whole manifest is part of the key: an edited manifest must be checked against the graph again.
  const key = `${resolve(modelsDir)}\n${options.int8Path ?? "auto"}\n${options.intraOpThreads ?? `auto/${options.cores ?? "all"}`}\n${canonicalJson(manifest)}`;
  let loading = cache.get(key);
  if (loading === undefined) {
    loading = loadAndTest(manifest, modelsDir, options);
    cache.set(key, loading);
    loading.catch(() => cache.delete(key)); // a failed load may be retried once the file is fixed
  }
  return loading;
}

async function loadAndTest(manifest: ModelManifest, modelsDir: string, options: LoadOptions): Promise<ServableModel> {
  // Unless told, the self-test runs on one onnxruntime thread and measures whether that is enough.
  let model = await loadModelUntested(manifest, modelsDir, { ...options, intraOpThreads: options.intraOpThreads ?? 1 });
  await decoderReady();
  const cost = costMeter();
  const report = await runSelfTest(model, options.referencePhotos, cost.onRun);
  if (!report.passed) {
    await model.session.release();
    throw new SelfTestFailedError(report);
  }
  const threads = options.intraOpThreads ?? chooseIntraOpThreads(cost.read(), options.cores);
  if (threads !== model.intraOpThreads) {
    await model.session.release();
    model = await loadModelUntested(manifest, modelsDir, { ...options, intraOpThreads: threads });
  }
  return { ...model, selfTest: report };
}

/** Where a model's files are: a models folder, or each file's own path. */
export type ModelFiles = string | { weights: string; labels: string };

/**
 * Verifies and loads a model without its self-test — for running the self-test itself
 * (`argus models check` reports a failing model rather than refusing it). Never serve
 * from what this returns; the caller releases the session.
 */
export async function loadModelUntested(manifest: ModelManifest, files: ModelFiles, options: SessionOptions): Promise<LoadedModel> {
  const path = (pinned: { file: string }, which: "weights" | "labels") =>
    typeof files === "string" ? join(files, pinned.file) : files[which];
  const weights = await readVerified(path(manifest.weights, "weights"), manifest.weights, `weights of model ${manifest.id}`);
  const labelBytes = await readVerified(path(manifest.labels, "labels"), manifest.labels, `labels of model ${manifest.id}`);
  const labels = parseLabels(new TextDecoder().decode(labelBytes), manifest.labels.format);

  const intraOpThreads = options.intraOpThreads ?? options.cores ?? availableParallelism();
  let session: InferenceSession;
  let inferencePath: InferencePath = "native-float";
  try {
    let graph: { bytes: Uint8Array; options: InferenceSession.SessionOptions } = {
      bytes: weights,
      options: { graphOptimizationLevel: "all" },
    };
    if (hasQuantizedOperators(weights)) {
      inferencePath = options.int8Path ?? (await fastestExactPath());
      graph = int8Graph(weights, inferencePath);
    }
    const extra = (graph.options.extra ?? {}) as { session?: Record<string, unknown> };
    session = await InferenceSession.create(graph.bytes, {
      ...graph.options,
      executionProviders: ["cpu"],
      intraOpNumThreads: intraOpThreads,
      logSeverityLevel: 3,
      // Idle onnxruntime threads would otherwise busy-wait after each run and steal
      // the cores that sharp needs to decode the next images.
      extra: { ...extra, session: { ...extra.session, intra_op: { allow_spinning: "0" } } },
    });
  } catch (error) {
    throw new ModelMismatchError(`onnxruntime cannot load ${manifest.weights.file} (model ${manifest.id}): ${(error as Error).message}`);
  }
  const { name: inputName, fixedBatchSize } = checkInput(manifest, session);
  const { name: outputName, dims: outputDims } = checkOutput(manifest, session, labels.length);
  const outputValuesPerImage = outputDims.reduce((product, dim) => product * dim, 1);
  const manifestCid = (await resultCidForBytes(manifestBytes(manifest))).toString();
  return {
    manifest,
    manifestCid,
    session,
    inputName,
    outputName,
    labels,
    fixedBatchSize,
    outputDims,
    outputValuesPerImage,
    inferencePath,
    intraOpThreads,
  };
}

async function readVerified(path: string, pinned: { sha256: string }, what: string): Promise<Uint8Array> {
  const bytes = await readFile(path);
  const actual = sha256Hex(bytes);
  if (actual !== pinned.sha256) {
    throw new ModelIntegrityError(
      `refusing to load the ${what}: ${path} has sha256 ${actual}, but the manifest pins ${pinned.sha256}. ` +
        `The file is corrupt or is not the one the manifest describes; replace it with the published file.`,
    );
  }
  return bytes;
}

/** The tensor the manifest names, or — when it names none — the graph's only one. */
function tensorMetadata(session: InferenceSession, side: "input" | "output", name: string | undefined) {
  const metadata = side === "input" ? session.inputMetadata : session.outputMetadata;
  const names = metadata.map((entry) => entry.name).join(", ");
  if (name === undefined && metadata.length !== 1) {
    throw new ModelMismatchError(`the graph has ${metadata.length} ${side}s (${names}); the manifest must name the ${side} to use`);
  }
  const found = name === undefined ? metadata[0] : metadata.find((entry) => entry.name === name);
  if (found === undefined || !found.isTensor) {
    throw new ModelMismatchError(`the graph has no ${side} tensor "${name}" (its ${side}s: ${names})`);
  }
  return found;
}

/** Checks the input against the manifest; returns its name and the fixed batch size, or null when it is dynamic. */
function checkInput(manifest: ModelManifest, session: InferenceSession): { name: string; fixedBatchSize: number | null } {
  const { dtype, layout, width, height } = manifest.input;
  const input = tensorMetadata(session, "input", manifest.input.name);
  const name = input.name;
  const where = `model ${manifest.id}, input "${name}"`;
  if (input.type !== dtype) throw new ModelMismatchError(`${where} is ${input.type} in the graph, ${dtype} in the manifest`);
  const expected = layout === "NCHW" ? [3, height, width] : [height, width, 3];
  const [batch, ...rest] = input.shape;
  const matches = rest.length === 3 && rest.every((dim, index) => typeof dim === "string" || dim === expected[index]);
  if (!matches) {
    throw new ModelMismatchError(
      `${where} has shape [${input.shape.join(", ")}] in the graph; the manifest (${layout}) implies [N, ${expected.join(", ")}]`,
    );
  }
  return { name, fixedBatchSize: typeof batch === "number" && batch > 0 ? batch : null };
}

/** Checks the output against the manifest and the labels; returns its name and per-image dims. */
function checkOutput(manifest: ModelManifest, session: InferenceSession, labelCount: number): { name: string; dims: number[] } {
  const output = tensorMetadata(session, "output", manifest.output.name);
  const where = `model ${manifest.id}, output "${output.name}"`;
  const perImage = output.shape.slice(1);
  if (perImage.some((dim) => typeof dim !== "number")) {
    throw new ModelMismatchError(`${where} has shape [${output.shape.join(", ")}]; only the batch dimension may be dynamic`);
  }
  const dims = perImage as number[];
  const values = dims.reduce((product, dim) => product * dim, 1);
  const background = manifest.task === "classification" && manifest.output.backgroundClass === true;
  const classes = manifest.task === "classification" ? values - (background ? 1 : 0) : (dims[dims.length - 1] ?? 0) - 5;
  if (manifest.task === "detection" && dims.length !== 2) {
    throw new ModelMismatchError(`${where} has shape [${output.shape.join(", ")}]; a detector's is [N, rows, 5 + classes]`);
  }
  if (classes !== labelCount) {
    const counted = background ? `${values} values (a background class and ${classes} classes)` : `${classes} classes`;
    throw new ModelMismatchError(`${where} scores ${counted} but ${manifest.labels.file} names ${labelCount}`);
  }
  return { name: output.name, dims };
}
