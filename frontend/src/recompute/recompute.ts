/**
 * "Recompute in my browser": the registered classifier rerun here on the request's
 * image, and its answer compared with the recorded one under `compareResults` — the
 * definition `argus verify --recompute` and the oracle's cross-check use.
 *
 * Everything comes from the IPFS gateway by content address and is checked before use:
 * the manifest by the CID the result names (it must pin the registry's weights sha256,
 * as the CLI requires), the weights by the sha256 the manifest pins (the raw block that
 * digest names, else the manifest's download URL — either copy must hash to it), the
 * labels likewise, and the image block by block by its CID (verified-blocks.ts). The
 * WASM runtimes come in through `Runtimes`, so the browser loads them only on click and
 * Node tests hand in their own.
 *
 * Tolerance: none beyond `compareResults`' own (the same top-5 classes, scores within
 * 1e-4). Measured over every shared photo and every registered classifier
 * (test/frontend/browser-recompute.test.ts): wasm-vips gives the engine's pixels byte for
 * byte and onnxruntime-web's WASM kernels give the engine's scores to all 6 recorded
 * decimals, for the int8 MobileNetV2 (against the engine's exact int8 path) and the
 * float16 SqueezeNet alike. So the browser needs no wider tolerance, and a verdict of
 * "matches" here means the same as the CLI's.
 */
import { type ComparisonTolerances, compareResults, DEFAULT_TOLERANCES, type ResultDifference } from "@argus/protocol/compare-results";
import { resultCidFromDigest } from "@argus/protocol/cid";
import { MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS } from "@argus/protocol/limits";
import { type ClassificationManifest, type ModelManifest, parseLabels } from "@argus/protocol/manifest";
import type { ClassificationResult } from "@argus/protocol/result";
import { CID } from "multiformats/cid";
import { manifestFromBlock } from "../lib/self-test.ts";
import { classifyPixels, createClassifierSession, type OrtModule } from "./classify-pixels.ts";
import { decodePixels, type VipsModule } from "./decode-pixels.ts";
import { readVerifiedBlock, readVerifiedFile } from "./verified-blocks.ts";

export interface Runtimes {
  vips: VipsModule;
  ort: OrtModule;
}

/** What the user sees happening, in order. */
export type RecomputeStep =
  | { step: "registry" }
  | { step: "manifest" }
  | { step: "weights"; received: number; total: number }
  | { step: "image" }
  | { step: "loading-runtimes" }
  | { step: "decoding" }
  | { step: "running" };

export interface RecomputeInput {
  gatewayUrl: string;
  /** The recorded (verified) result. */
  recorded: ClassificationResult;
  /** The registry's weights sha256 for the requested model (0x-hex): the authority on "the registered model". */
  registeredWeightsSha256: string;
  /** Loads the WASM runtimes (called once the downloads are done; AVIF images need libvips' HEIF decoder). */
  loadRuntimes: (needs: { avif: boolean }) => Promise<Runtimes>;
  onStep?: (step: RecomputeStep) => void;
  signal?: AbortSignal;
}

export interface Recomputation {
  match: boolean;
  differences: ResultDifference[];
  tolerances: ComparisonTolerances;
  /** The answer computed here (absent when the manifest was not the registered model's). */
  recomputed?: ClassificationResult;
}

const MAX_MANIFEST_BYTES = 64 * 1024;
const MAX_LABELS_BYTES = 1024 * 1024;
/** The registered classifiers' weights are 2.5–3.6 MB; this bounds what a hostile manifest can make the browser download. */
export const MAX_WEIGHTS_BYTES = 64 * 1024 * 1024;

export async function recomputeInBrowser(input: RecomputeInput): Promise<Recomputation> {
  const { gatewayUrl, recorded, signal } = input;
  const step = (value: RecomputeStep) => input.onStep?.(value);
  const tolerances = { ...DEFAULT_TOLERANCES };

  step({ step: "manifest" });
  const manifestBlock = await readVerifiedBlock(gatewayUrl, CID.parse(recorded.manifestCid), MAX_MANIFEST_BYTES, { signal });
  const manifest = await manifestFromBlock(manifestBlock, recorded.manifestCid);
  if (manifest.id !== recorded.modelId) {
    throw new Error(`manifest ${recorded.manifestCid} describes model ${manifest.id}, but the result names ${recorded.modelId}`);
  }
  const registered = input.registeredWeightsSha256.replace(/^0x/, "").toLowerCase();
  if (manifest.weights.sha256 !== registered) {
    // The result names a manifest that is not the registered model's: nothing registered to rerun.
    return {
      match: false,
      tolerances,
      differences: [{ field: "manifest.weights.sha256", expected: registered, actual: manifest.weights.sha256 }],
    };
  }
  if (manifest.task !== "classification")
    throw new Error(`the browser recomputes classifiers only; ${manifest.id} is a ${manifest.task} model`);

  step({ step: "weights", received: 0, total: 0 });
  const weights = await readPinnedFile(gatewayUrl, manifest.weights, MAX_WEIGHTS_BYTES, signal, (received, total) =>
    step({ step: "weights", received, total }),
  );
  const labelsFile = await readPinnedFile(gatewayUrl, manifest.labels, MAX_LABELS_BYTES, signal);
  const labels = parseLabels(new TextDecoder().decode(labelsFile), manifest.labels.format);

  step({ step: "image" });
  const image = await readVerifiedFile(gatewayUrl, recorded.imageCid, MAX_IMAGE_BYTES, { signal });

  step({ step: "loading-runtimes" });
  // An ISO media container (`ftyp` box): the only kind that decodes as AVIF.
  const avif = new TextDecoder().decode(image.subarray(4, 8)) === "ftyp";
  const { vips, ort } = await input.loadRuntimes({ avif });
  signal?.throwIfAborted();

  step({ step: "decoding" });
  const decoded = decodePixels(vips, image, manifest, MAX_IMAGE_PIXELS);

  step({ step: "running" });
  const session = await createClassifierSession(ort, weights);
  let top5: ClassificationResult["top5"];
  try {
    top5 = await classifyPixels(ort, session, manifest as ClassificationManifest, decoded.pixels, labels);
  } finally {
    await session.release();
  }
  const recomputed: ClassificationResult = { ...recorded, weightsSha256: manifest.weights.sha256, image: decoded.image, top5 };
  // The recomputed answer is the reference, as in `argus verify --recompute`.
  const { differences } = compareResults(recomputed, recorded, tolerances);
  return { match: differences.length === 0, differences, tolerances, recomputed };
}

type PinnedFile = Pick<ModelManifest["weights"], "sha256" | "url">;

/**
 * A file the manifest pins by sha256: the raw block that digest names on the gateway
 * (how deployments pin weights and labels beside the manifests), else its download URL;
 * either copy must hash to the pinned digest.
 */
async function readPinnedFile(
  gatewayUrl: string,
  file: PinnedFile,
  maxBytes: number,
  signal: AbortSignal | undefined,
  onBytes?: (received: number, total: number) => void,
): Promise<Uint8Array> {
  const cid = resultCidFromDigest(`0x${file.sha256}`);
  try {
    return await readVerifiedBlock(gatewayUrl, cid, maxBytes, { signal, onBytes });
  } catch (error) {
    signal?.throwIfAborted();
    if (file.url === undefined)
      throw new Error(`${cid} is not on the IPFS gateway, and the manifest names no other source`, { cause: error });
  }
  const response = await fetch(file.url, { signal: signal ?? null });
  if (!response.ok) throw new Error(`${new URL(file.url).host} answered HTTP ${response.status} for ${file.url}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (bytes.byteLength > maxBytes) throw new Error(`${file.url} is larger than ${maxBytes} bytes`);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  if ([...digest].map((byte) => byte.toString(16).padStart(2, "0")).join("") !== file.sha256) {
    throw new Error(`${file.url} does not match the sha256 its manifest pins`);
  }
  return bytes;
}
