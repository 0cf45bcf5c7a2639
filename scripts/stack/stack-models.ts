/**
 * The models the local stack serves: every manifest of the catalogue
 * (provider-image/manifests, plus ARGUS_MANIFESTS_DIR) whose files are in the models
 * folder — ARGUS_MODELS_DIR if set, else the download cache, which is filled on first
 * start from each manifest's pinned URL (or ARGUS_MODELS_MIRROR) and checked by
 * sha256 — and that passes its self-test on the reference photos. A file that does not
 * match its manifest's sha256, or a model that fails its self-test, leaves its model
 * out (and unregistered). With no usable model at all, the error says exactly what to set.
 */
import { basename, join, relative } from "node:path";
import { listManifests } from "@argus/provider-image/catalog";
import { engineOptions, loadProviderConfig } from "@argus/provider-image/config";
import { ensureModelFiles, MODELS_MIRROR_ENV, pinnedFiles } from "@argus/provider-image/model-files";
import { describeModelsDir, MODELS_DIR_ENV, type ModelsDir } from "@argus/provider-image/models-dir";
import type { ModelManifest } from "@argus/protocol/manifest";
import { sha256OfFile } from "@argus/provider-image/sha256-file";
import { checkModel } from "@argus/provider-image/check-model";
import { SelfTestFailedError } from "@argus/provider-image/self-test";
import type { StackLog } from "./stack-log.ts";
import { StackError } from "./stack-settings.ts";

export interface StackModels {
  dir: ModelsDir;
  manifestsDirs: string[];
  /** Manifests whose files are present and verified. */
  usable: ModelManifest[];
}

export async function prepareModels(env: NodeJS.ProcessEnv, log: StackLog, repoRoot: string): Promise<StackModels> {
  const { manifestsDirs, modelsDir: dir, referencePhotosDir, download } = engineOptions(loadProviderConfig(env));
  const manifests = await listManifests(manifestsDirs);
  if (manifests.length === 0) throw new StackError(`no model manifests in ${manifestsDirs.join(", ")}`);
  log.line("models", `models folder: ${describeModelsDir(dir)}`);
  log.line("models", `self-test photos: ${referencePhotosDir.path}${referencePhotosDir.origin === "cache" ? " (the download cache)" : ""}`);

  const usable: ModelManifest[] = [];
  const problems: string[] = [];
  const checked = new Map<string, string | undefined>(); // file → problem (models share label files)
  for (const manifest of manifests) {
    let problem: string | undefined;
    try {
      await ensureModelFiles(manifest, dir, download);
      for (const pinned of pinnedFiles(manifest)) {
        if (!checked.has(pinned.file)) checked.set(pinned.file, await checkFile(join(dir.path, pinned.file), pinned.sha256));
        problem ??= checked.get(pinned.file);
      }
      if (problem === undefined) {
        const report = await checkModel(manifest, { modelsDir: dir, referencePhotosDir, download });
        if (!report.passed) problem = new SelfTestFailedError(report).message;
      }
    } catch (error) {
      problem = (error as Error).message;
    }
    if (problem === undefined) usable.push(manifest);
    else problems.push(`${manifest.id}: ${problem}`);
  }

  for (const problem of problems) log.line("models", `left out ${problem}`);
  if (usable.length === 0) {
    const files = [...new Set(manifests.flatMap((manifest) => pinnedFiles(manifest).map((pinned) => pinned.file)))];
    const example = relative(repoRoot, join(repoRoot, "../shared/models"));
    throw new StackError(
      `no usable model in ${describeModelsDir(dir)}.\n` +
        (dir.origin === "cache"
          ? `The models are downloaded on first start, and that failed (offline?). `
          : `The folder ${MODELS_DIR_ENV} names does not hold the model files. `) +
        `Set ${MODELS_DIR_ENV} to a folder holding ${files.join(", ")} — for example:\n\n` +
        `    ${MODELS_DIR_ENV}=${example} npm start\n\n` +
        `or set ${MODELS_MIRROR_ENV} to a URL serving those files, or fill the cache with \`npm run models:fetch\` once online.`,
    );
  }
  log.line("models", `serving ${usable.map((manifest) => manifest.id).join(", ")}`);
  return { dir, manifestsDirs, usable };
}

async function checkFile(path: string, sha256: string): Promise<string | undefined> {
  const actual = (await sha256OfFile(path)).toString("hex");
  return actual === sha256 ? undefined : `${basename(path)} has sha256 ${actual}, the manifest pins ${sha256}`;
}
