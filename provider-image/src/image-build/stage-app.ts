/**
 * Fills a staged root filesystem with what image-contents.ts lists: Node, the engine's
 * production node_modules (without tests, source maps and foreign binaries), the engine
 * and protocol sources, the manifests, the verified model files and the self-test's photos.
 */
import { chmod, copyFile, cp, mkdir, symlink } from "node:fs/promises";
import { basename, dirname, join, relative } from "node:path";
import { listManifests } from "../models/catalog.ts";
import { pinnedFiles } from "../models/model-files.ts";
import { ensureReferencePhotos, type ReferencePhotosSource } from "../models/reference-set.ts";
import { sha256OfFile } from "../models/sha256-file.ts";
import {
  APP_DIR,
  APP_SOURCES,
  BUILD_ONLY_SOURCES,
  DROPPED_FROM_NODE_MODULES,
  ENGINE_PACKAGE_DIR,
  IMAGE_VOLUMES,
  MODELS_DIR_IN_IMAGE,
  NODE_PATH_IN_IMAGE,
  REFERENCE_PHOTOS_DIR_IN_IMAGE,
} from "./image-contents.ts";
import { productionTree } from "./production-tree.ts";

export interface StageOptions {
  repoRoot: string;
  rootDir: string;
  nodeBinary: string;
  modelsDir: string;
  referencePhotos: ReferencePhotosSource;
}

export async function stageApp(options: StageOptions): Promise<void> {
  const { repoRoot, rootDir } = options;
  const inImage = (path: string) => join(rootDir, path);
  const app = inImage(APP_DIR);

  await mkdir(dirname(inImage(NODE_PATH_IN_IMAGE)), { recursive: true });
  await copyFile(options.nodeBinary, inImage(NODE_PATH_IN_IMAGE));
  await chmod(inImage(NODE_PATH_IN_IMAGE), 0o755);

  const buildOnly = new Set(BUILD_ONLY_SOURCES.map((path) => join(repoRoot, path)));
  for (const source of APP_SOURCES)
    await cp(join(repoRoot, source), join(app, source), { recursive: true, filter: (path) => !buildOnly.has(path) });

  const tree = productionTree(repoRoot, ENGINE_PACKAGE_DIR);
  for (const packageDir of tree.packageDirs) {
    const keep = (path: string) => !DROPPED_FROM_NODE_MODULES.some((pattern) => pattern.test(relative(repoRoot, path)));
    await cp(join(repoRoot, packageDir), join(app, packageDir), { recursive: true, filter: keep, verbatimSymlinks: true });
  }
  // As npm links a workspace: node_modules/@argus/protocol -> ../../provider-image/protocol.
  for (const [name, target] of tree.workspaceLinks) {
    if (!APP_SOURCES.some((source) => source.startsWith(`${target}/`)))
      throw new Error(`workspace ${name} (${target}) is not in APP_SOURCES`);
    const link = join(app, "node_modules", name);
    await mkdir(dirname(link), { recursive: true });
    await symlink(relative(dirname(link), join(app, target)), link);
  }

  const models = inImage(MODELS_DIR_IN_IMAGE);
  await mkdir(models, { recursive: true });
  for (const manifest of await listManifests())
    for (const pinned of pinnedFiles(manifest)) {
      const source = join(options.modelsDir, pinned.file);
      const digest = (await sha256OfFile(source).catch(() => undefined))?.toString("hex");
      if (digest !== pinned.sha256)
        throw new Error(
          `${source} ${digest === undefined ? "is missing" : `has sha256 ${digest}`}; ${manifest.id} pins ${pinned.sha256} (npm run models:fetch)`,
        );
      await copyFile(source, join(models, pinned.file));
    }

  // Checked by sha256 as they are read; the engine in the image checks them again before each self-test.
  const photos = inImage(REFERENCE_PHOTOS_DIR_IN_IMAGE);
  await mkdir(photos, { recursive: true });
  for (const source of await ensureReferencePhotos(options.referencePhotos)) await copyFile(source, join(photos, basename(source)));

  for (const volume of IMAGE_VOLUMES) await mkdir(inImage(volume), { recursive: true });
}
