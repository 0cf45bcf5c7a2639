/**
 * Recomputing a recorded answer: the registered model rerun here, on the request's
 * image, and compared with the recorded result under `compareResults` — the one
 * definition of "the same answer" the oracle's cross-check uses too.
 *
 * Everything is fetched by content address, so no source has to be trusted:
 * - the manifest by the CID the result names (`manifestCid`; the registry's for an error
 *   entry), from IPFS or else from the local manifests folders, whichever gives bytes
 *   hashing to that CID;
 * - the weights and labels by the sha256 the manifest pins (the engine refuses a file
 *   that does not hash to it), from the models folder;
 * - the image by its CID from IPFS, block by block verified.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fetchImage, fetchResult } from "@argus/ipfs-node/client";
import { type ComparisonTolerances, compareResults, DEFAULT_TOLERANCES, type ResultDifference } from "@argus/protocol/compare-results";
import { digestFromResultCid, resultCidForBytes } from "@argus/protocol/cid";
import { MAX_IMAGE_BYTES } from "@argus/protocol/limits";
import { manifestBytes, type ModelManifest, parseManifest } from "@argus/protocol/manifest";
import type { InferenceResult } from "@argus/protocol/result";
import { listManifests } from "@argus/provider-image/catalog";
import { createEngine, type EngineOptions } from "@argus/provider-image/engine";
import type { CliContext } from "./context.ts";
import { firstLine } from "./output.ts";

export interface Recomputation {
  match: boolean;
  manifestCid: string;
  /** Where the manifest came from: "ipfs" or the local folder's file. */
  manifestSource: string;
  tolerances: ComparisonTolerances;
  differences: ResultDifference[];
  /** Absent when the named manifest is not the registered model's: there is nothing to rerun. */
  recomputed?: InferenceResult;
}

export class RecomputeError extends Error {
  override name = "RecomputeError";
}

export interface RecomputeOptions {
  /** The model files (checked by sha256), the self-test's photos and the download mirror; default: the engine's download caches. */
  files?: Pick<EngineOptions, "modelsDir" | "referencePhotosDir" | "download">;
  timeoutMs?: number;
}

/** What the model registry says about the requested model: the authority on "the registered model". */
export interface RegisteredModel {
  manifestCid: string;
  /** 0x-prefixed hex, as the registry stores it. */
  weightsSha256: string;
}

export async function recompute(
  ctx: CliContext,
  recorded: InferenceResult,
  registered: RegisteredModel,
  options: RecomputeOptions = {},
): Promise<Recomputation> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  const manifestCid = "manifestCid" in recorded ? recorded.manifestCid : registered.manifestCid;
  const { manifest, source } = await findManifest(ctx, manifestCid, timeoutMs);
  if (manifest.id !== recorded.modelId) {
    throw new RecomputeError(`manifest ${manifestCid} describes model ${manifest.id}, but the result names ${recorded.modelId}`);
  }
  // A result may name any manifest; only one pinning the registered weights recomputes the registered model.
  const registeredWeights = registered.weightsSha256.replace(/^0x/, "").toLowerCase();
  const weightsDifference: ResultDifference[] =
    manifest.weights.sha256 === registeredWeights
      ? []
      : [{ field: "manifest.weights.sha256", expected: registeredWeights, actual: manifest.weights.sha256 }];
  if (weightsDifference.length > 0) {
    return { match: false, manifestCid, manifestSource: source, tolerances: { ...DEFAULT_TOLERANCES }, differences: weightsDifference };
  }
  let image: Uint8Array;
  try {
    image = await fetchImage(ctx.ipfs(), recorded.imageCid, { maxBytes: MAX_IMAGE_BYTES, timeoutMs });
  } catch (error) {
    throw new RecomputeError(`cannot fetch the image ${recorded.imageCid} from ${ctx.ipfsApiUrl}: ${firstLine(error)}`);
  }
  // The engine reads manifests from folders: give it exactly the one the result names.
  const manifestsDir = await mkdtemp(join(tmpdir(), "argus-verify-"));
  try {
    await writeFile(join(manifestsDir, `${manifest.id}.json`), manifestBytes(manifest));
    const engine = createEngine({ ...options.files, manifestsDirs: [manifestsDir] });
    const [recomputed] = await engine.run(manifest.id, [
      { requestId: recorded.requestId, imageCid: recorded.imageCid, image: { bytes: image } },
    ]);
    if (recomputed === undefined) throw new RecomputeError("the engine returned no result");
    const comparison = compareResults(recomputed, recorded);
    const differences = comparison.differences;
    return {
      match: differences.length === 0,
      manifestCid,
      manifestSource: source,
      tolerances: { ...DEFAULT_TOLERANCES },
      differences,
      recomputed,
    };
  } finally {
    await rm(manifestsDir, { recursive: true, force: true });
  }
}

/** The manifest whose canonical bytes hash to `cid`: from IPFS, else from the local manifests folders. */
async function findManifest(ctx: CliContext, cid: string, timeoutMs: number): Promise<{ manifest: ModelManifest; source: string }> {
  let ipfsProblem: string;
  try {
    const bytes = await fetchResult(ctx.ipfs(), digestFromResultCid(cid), { maxBytes: 1 << 20, timeoutMs: Math.min(timeoutMs, 5_000) });
    return { manifest: parseManifest(JSON.parse(new TextDecoder().decode(bytes)), `manifest ${cid}`), source: "ipfs" };
  } catch (error) {
    ipfsProblem = firstLine(error);
  }
  for (const manifest of await listManifests()) {
    if ((await resultCidForBytes(manifestBytes(manifest))).toString() === cid) return { manifest, source: `local manifest ${manifest.id}` };
  }
  throw new RecomputeError(`manifest ${cid} is neither on IPFS (${ipfsProblem}) nor in the local manifests folders`);
}
