/**
 * Settings of the provider image's commands (the entry command, predict, fetch-models)
 * and of any engine a program starts: the models and manifests folders, the per-image
 * caps, where missing models are downloaded from. One table in the settings pattern of
 * @argus/protocol's config-fields; the bin/ entry points (and the oracle's local worker)
 * hand in the environment, the engine takes the resulting options.
 */
import { delimiter } from "node:path";
import { z } from "zod";
import { GOLEM_INPUT_DIR, GOLEM_OUTPUT_DIR } from "@argus/protocol/batch";
import { ConfigError, type ConfigOf, describeSettings, envExampleLines, loadSettings, type Setting } from "@argus/protocol/config-fields";
import type { EngineOptions } from "./engine/engine.ts";
import { defaultDecodeConcurrency } from "./engine/concurrency.ts";
import { DEFAULT_IMAGE_LIMITS, IMAGE_LIMITS_ENV, type ImageLimits } from "./image/image-limits.ts";
import type { DownloadOptions } from "./models/model-files.ts";
import { defaultManifestsDirs } from "./models/catalog.ts";
import { defaultModelsCacheDir, type ModelsDir, resolveModelsDir } from "./models/models-dir.ts";
import {
  defaultReferencePhotosCacheDir,
  REFERENCE_PHOTOS_DIR_ENV,
  type ReferencePhotosDir,
  resolveReferencePhotosDir,
} from "./models/reference-set.ts";
import { DEFAULT_RESIDENT_DIR, RESIDENT_DIR_ENV } from "./resident/resident-protocol.ts";

export { ConfigError };

const positiveInteger = z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
const pathList = z
  .union([z.array(z.string()), z.string().transform((text) => text.split(delimiter))])
  .transform((dirs) => dirs.filter((dir) => dir !== ""));

export const PROVIDER_SETTINGS = {
  modelsDir: {
    schema: z.string().optional(),
    default: undefined,
    env: "ARGUS_MODELS_DIR",
    accepts: "a folder",
    help: "the ONNX model and label files (unset: the download cache $XDG_CACHE_HOME/argus/models, filled on demand)",
  },
  referencePhotosDir: {
    schema: z.string().optional(),
    default: undefined,
    env: REFERENCE_PHOTOS_DIR_ENV,
    accepts: "a folder",
    help: "the self-test's reference photos, named as in provider-image/reference-set/reference-set.json (unset: the download cache $XDG_CACHE_HOME/argus/reference-photos, filled on demand from each photo's pinned source)",
  },
  manifestsDirs: {
    schema: pathList,
    default: [],
    env: "ARGUS_MANIFESTS_DIR",
    accepts: `folders separated by "${delimiter}"`,
    help: "more folders of <id>.json model manifests, after the built-in provider-image/manifests",
  },
  maxImageBytes: {
    schema: positiveInteger,
    default: DEFAULT_IMAGE_LIMITS.maxBytes,
    env: IMAGE_LIMITS_ENV.maxBytes,
    help: "largest image file accepted (bytes)",
  },
  maxImagePixels: {
    schema: positiveInteger,
    default: DEFAULT_IMAGE_LIMITS.maxPixels,
    env: IMAGE_LIMITS_ENV.maxPixels,
    help: "largest width × height an image may declare",
  },
  modelsMirror: {
    schema: z.url().optional(),
    default: undefined,
    env: "ARGUS_MODELS_MIRROR",
    help: "download missing model files and reference photos from here (by file name) instead of their pinned URL; still checked by sha256",
  },
  inputDir: {
    schema: z.string().min(1),
    default: GOLEM_INPUT_DIR,
    env: "ARGUS_INPUT_DIR",
    accepts: "a folder",
    help: "the entry command's batch folder when --input is not given",
  },
  outputDir: {
    schema: z.string().min(1),
    default: GOLEM_OUTPUT_DIR,
    env: "ARGUS_OUTPUT_DIR",
    accepts: "a folder",
    help: "the entry command's results folder when --output is not given",
  },
  residentDir: {
    schema: z.string().min(1),
    default: DEFAULT_RESIDENT_DIR,
    env: RESIDENT_DIR_ENV,
    accepts: "a folder",
    help: "`entry.ts --resident`: the resident engine's socket and log (in the VM's /tmp, which lives as long as the activity); the client reads it without this table, the server validates it",
  },
  threadPoolSize: {
    schema: positiveInteger.max(1024),
    default: 4,
    env: "UV_THREADPOOL_SIZE",
    help: "libuv's thread pool (Node's own variable): bounds the images decoded at once",
  },
  debug: { schema: z.union([z.boolean(), z.stringbool()]), default: false, env: "ARGUS_DEBUG", help: "print the stack trace of a failure" },
} as const satisfies Record<string, Setting>;

export type ProviderConfig = ConfigOf<typeof PROVIDER_SETTINGS> & {
  /** The download cache (`$XDG_CACHE_HOME/argus/models`, else `~/.cache/argus/models`). */
  modelsCacheDir: string;
  /** The reference photos' download cache (`$XDG_CACHE_HOME/argus/reference-photos`). */
  referencePhotosCacheDir: string;
};

/** The settings from `env`, then `overrides`; a ConfigError names every bad one. */
export function loadProviderConfig(
  env: Readonly<Record<string, string | undefined>>,
  overrides: Partial<Record<keyof typeof PROVIDER_SETTINGS, unknown>> = {},
): ProviderConfig {
  const config = loadSettings(PROVIDER_SETTINGS, { env, overrides, overrideSource: () => "flag" }, "provider settings");
  return { ...config, modelsCacheDir: defaultModelsCacheDir(env), referencePhotosCacheDir: defaultReferencePhotosCacheDir(env) };
}

/** The self-test's photos: ARGUS_REFERENCE_PHOTOS_DIR, else their download cache. */
export function referencePhotosDirOf(config: ProviderConfig): ReferencePhotosDir {
  return resolveReferencePhotosDir(config.referencePhotosDir, config.referencePhotosCacheDir);
}

/** The models folder: the flag, else ARGUS_MODELS_DIR, else the download cache. */
export function modelsDirOf(config: ProviderConfig, flag?: string): ModelsDir {
  return resolveModelsDir(flag, config.modelsDir, config.modelsCacheDir);
}

export interface EngineSettings extends EngineOptions {
  modelsDir: ModelsDir;
  referencePhotosDir: ReferencePhotosDir;
  manifestsDirs: string[];
  limits: ImageLimits;
  decodeConcurrency: number;
  download: DownloadOptions;
}

/** Engine options for `config` (a --models-dir flag wins over ARGUS_MODELS_DIR). */
export function engineOptions(config: ProviderConfig, modelsDirFlag?: string): EngineSettings {
  return {
    modelsDir: modelsDirOf(config, modelsDirFlag),
    referencePhotosDir: referencePhotosDirOf(config),
    manifestsDirs: defaultManifestsDirs(config.manifestsDirs),
    limits: { maxBytes: config.maxImageBytes, maxPixels: config.maxImagePixels },
    decodeConcurrency: defaultDecodeConcurrency(config.threadPoolSize),
    download: config.modelsMirror ? { mirror: config.modelsMirror } : {},
  };
}

const formatDefault = (value: unknown) => (Array.isArray(value) ? value.join(delimiter) : String(value));

/** The settings table (Markdown) the README shows. */
export function describeProviderSettings(): string {
  return describeSettings(PROVIDER_SETTINGS, { formatDefault });
}

/** The provider image's part of .env.example. */
export function exampleEnv(): string[] {
  return envExampleLines(PROVIDER_SETTINGS, { formatDefault });
}
