/**
 * The self-test on demand, for `argus models check` and `argus models add`: the report
 * of a model that may not be served yet — its weights given as a file, or taken from
 * the models folder (downloaded first when that folder is the cache), its labels from
 * beside the weights or from the models folder.
 */
import { dirname, join } from "node:path";
import type { ModelManifest } from "@argus/protocol/manifest";
import { type DownloadOptions, ensurePinnedFile, exists } from "../models/model-files.ts";
import type { ModelsDir } from "../models/models-dir.ts";
import type { ReferencePhotosDir } from "../models/reference-set.ts";
import { loadModelUntested, type SessionOptions } from "./loaded-model.ts";
import { runSelfTest, type SelfTestReport } from "./self-test.ts";

export interface CheckOptions extends SessionOptions {
  modelsDir: ModelsDir;
  /** The ONNX file to test instead of the models folder's (it must still match the manifest's sha256). */
  weightsPath?: string | undefined;
  /** The self-test's photos (downloaded into it with `download` when it is the cache). */
  referencePhotosDir: ReferencePhotosDir;
  download?: DownloadOptions | undefined;
}

export async function checkModel(manifest: ModelManifest, options: CheckOptions): Promise<SelfTestReport> {
  const { modelsDir, weightsPath, download, referencePhotosDir } = options;
  const weights = weightsPath ?? (await ensurePinnedFile(manifest.id, manifest.weights, modelsDir, download));
  const beside = weightsPath === undefined ? undefined : join(dirname(weightsPath), manifest.labels.file);
  const labels =
    beside !== undefined && (await exists(beside)) ? beside : await ensurePinnedFile(manifest.id, manifest.labels, modelsDir, download);
  const model = await loadModelUntested(manifest, { weights, labels }, options);
  try {
    return await runSelfTest(model, { dir: referencePhotosDir, download });
  } finally {
    await model.session.release();
  }
}
