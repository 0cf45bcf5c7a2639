/**
 * `npm run models:fetch -- [--models-dir DIR] [--reference-photos-dir DIR] [MODEL_ID...]`
 *
 * Fills a models folder with the pinned files of the given models (default: every
 * served model; a named one may also come from the not-served catalogue,
 * provider-image/catalog): files already there are verified by sha256, missing or wrong
 * ones are downloaded from their manifest URL (or ARGUS_MODELS_MIRROR) and verified
 * before they take their name. Then the same for the photos of the self-test every model
 * passes before it is served (--reference-photos-dir, else ARGUS_REFERENCE_PHOTOS_DIR,
 * else their cache). The Dockerfile bakes both into the image with this command; on a
 * laptop it pre-fills the download caches.
 */
import { join, resolve } from "node:path";
import { listManifests, loadManifest, withCatalog } from "../models/catalog.ts";
import { optionalUserPath, parseCliArgs, runCli } from "./cli.ts";
import { downloadPinnedFile, ModelIntegrityError, MODELS_MIRROR_ENV, pinnedFiles, sourceUrl } from "../models/model-files.ts";
import { describeModelsDir } from "../models/models-dir.ts";
import { ensureReferencePhotos } from "../models/reference-set.ts";
import { engineOptions, loadProviderConfig } from "../config.ts";
import { sha256OfFile } from "../models/sha256-file.ts";

const USAGE = "usage: npm run models:fetch -- [--models-dir DIR] [--reference-photos-dir DIR] [MODEL_ID...]";

runCli(USAGE, async () => {
  const { values, positionals } = parseCliArgs({
    options: { "models-dir": { type: "string" }, "reference-photos-dir": { type: "string" } },
    allowPositionals: true,
  });
  const {
    modelsDir: dir,
    referencePhotosDir,
    download,
    manifestsDirs,
  } = engineOptions(loadProviderConfig(process.env), optionalUserPath(values["models-dir"]));
  const manifests =
    positionals.length > 0
      ? await Promise.all(positionals.map((id) => loadManifest(id, withCatalog(manifestsDirs))))
      : await listManifests(manifestsDirs);
  process.stderr.write(`models folder: ${describeModelsDir(dir)}\n`);

  const done = new Set<string>(); // models share files (labels)
  for (const manifest of manifests) {
    for (const pinned of pinnedFiles(manifest)) {
      if (done.has(pinned.file)) continue;
      done.add(pinned.file);
      const present = await sha256OfFile(join(dir.path, pinned.file)).then(
        (digest) => digest.toString("hex"),
        () => undefined,
      );
      if (present === pinned.sha256) {
        process.stderr.write(`ok          ${pinned.file}\n`);
        continue;
      }
      await downloadPinnedFile(pinned, dir.path, download).catch((error: Error) => {
        if (error instanceof ModelIntegrityError) throw error;
        const url = sourceUrl(pinned, download.mirror);
        throw new Error(
          `model ${manifest.id} needs ${pinned.file} from ${url}, and downloading it failed (${error.message}). ` +
            `Offline, fetch ${url} on a machine that is online, check that its sha256 is ${pinned.sha256}, ` +
            `and put it in ${dir.path} — or point ${MODELS_MIRROR_ENV} at a server that has it.`,
          { cause: error },
        );
      });
      process.stderr.write(
        `${present === undefined ? "downloaded" : "replaced  "}  ${pinned.file}${present === undefined ? "" : ` (had sha256 ${present})`}\n`,
      );
    }
  }

  // This command fills the folder it is given, whichever it is: it is the one place that may.
  const photosDir = optionalUserPath(values["reference-photos-dir"]) ?? referencePhotosDir.path;
  const photos = await ensureReferencePhotos({ dir: { path: resolve(photosDir), origin: "cache" }, download });
  process.stderr.write(`ok          ${photos.length} reference photos in ${photosDir}\n`);
});
