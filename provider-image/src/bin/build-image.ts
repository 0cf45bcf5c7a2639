/**
 * `npm run build:provider-image [-- --models-dir DIR] [--output DIR] [--refresh-lock] [--force]`
 *
 * Builds the Golem VM image without Docker (see src/image-build/build-image.ts) into
 * provider-image/dist/argus-provider.gvmi and prints its hash, as gvmkit-build does;
 * dist/image.json records it (src/image-build/build-output.ts). An image already built
 * from the same inputs (image-inputs.ts) is kept unless --force is given. Needs root and
 * the Debian packages mmdebstrap and squashfs-tools. Models come from --models-dir or
 * ARGUS_MODELS_DIR and must match their manifests; the self-test's photos from
 * ARGUS_REFERENCE_PHOTOS_DIR, else their download cache (filled on demand).
 */
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { buildImage } from "../image-build/build-image.ts";
import { imageBuildSettings } from "../image-build/image-inputs.ts";
import { engineOptions, loadProviderConfig } from "../config.ts";
import { optionalUserPath, parseCliArgs, runCli, UsageError } from "./cli.ts";

const USAGE = "usage: npm run build:provider-image -- [--models-dir DIR] [--output DIR] [--refresh-lock] [--force]";
const REPO_ROOT = fileURLToPath(new URL("../../..", import.meta.url));

runCli(USAGE, async () => {
  const { values } = parseCliArgs({
    options: {
      "models-dir": { type: "string" },
      output: { type: "string" },
      "refresh-lock": { type: "boolean" },
      force: { type: "boolean" },
    },
  });
  const modelsDir = optionalUserPath(values["models-dir"]) ?? process.env.ARGUS_MODELS_DIR;
  if (modelsDir === undefined)
    throw new UsageError("the models folder: pass --models-dir DIR or set ARGUS_MODELS_DIR (npm run models:fetch fills one)");
  const { referencePhotosDir, download } = engineOptions(loadProviderConfig(process.env));
  const built = await buildImage({
    repoRoot: REPO_ROOT,
    modelsDir: resolve(modelsDir),
    referencePhotos: { dir: referencePhotosDir, download },
    outputDir: optionalUserPath(values.output) ?? join(REPO_ROOT, "provider-image/dist"),
    refreshLock: values["refresh-lock"] ?? false,
    // A lock refresh may change the packages, which the inputs key cannot know beforehand.
    reuse: !(values.force || values["refresh-lock"]),
    ...imageBuildSettings(process.env),
  });
  console.log(`image: ${built.file}`);
  console.log(`hash (sha3-224): ${built.hash}`);
  console.log(
    `size: ${(built.sizeBytes / 1e6).toFixed(1)} MB (${built.sizeBytes} bytes), ${built.reused ? "already built (--force rebuilds)" : `built in ${built.buildSeconds} s`}`,
  );
});
