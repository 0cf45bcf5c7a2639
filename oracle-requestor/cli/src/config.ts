/**
 * The `argus` CLI's settings, in the settings pattern of @argus/protocol's config-fields:
 * the deployment record, endpoints that override the record's, the user's key, and the
 * provider settings the CLI shares (image caps, models and manifests folders, download
 * mirror). main.ts loads them from
 * the environment once per command; commands get the typed object.
 */
import { resolve } from "node:path";
import { z } from "zod";
import { ConfigError, type ConfigOf, describeSettings, envExampleLines, loadSettings, type Setting } from "@argus/protocol/config-fields";
import { DEFAULT_DEPLOYMENT_FILE } from "@argus/escrow/deployment-file";
import { PROVIDER_SETTINGS } from "@argus/provider-image/config";
import type { EngineOptions } from "@argus/provider-image/engine";
import { defaultModelsCacheDir, type ModelsDir, resolveModelsDir } from "@argus/provider-image/models-dir";
import { defaultReferencePhotosCacheDir, type ReferencePhotosDir, resolveReferencePhotosDir } from "@argus/provider-image/reference-set";

export { ConfigError };

export const CLI_SETTINGS = {
  deploymentFile: {
    schema: z
      .string()
      .trim()
      .min(1)
      .transform((path) => resolve(path)),
    default: DEFAULT_DEPLOYMENT_FILE,
    shownDefault: "./.argus/deployment.json",
    env: "ARGUS_DEPLOYMENT_FILE",
    accepts: "a file (relative to the working directory)",
    help: "deployment record: chain, escrow, IPFS and oracle endpoints (--deployment wins)",
  },
  rpcUrl: {
    schema: z.url().optional(),
    default: undefined,
    env: "ARGUS_RPC_URL",
    help: "JSON-RPC endpoint of the chain (unset: the deployment record's)",
  },
  logRangeBlocks: {
    schema: z.coerce.number().int().min(1).max(100_000).optional(),
    default: undefined,
    env: "ARGUS_LOG_RANGE_BLOCKS",
    help: "most blocks per eth_getLogs call (unset: the record's, else 2000)",
  },
  ipfsApi: {
    schema: z.url().optional(),
    default: undefined,
    env: "ARGUS_IPFS_API",
    help: "Kubo RPC endpoint (unset: the deployment record's)",
  },
  ipfsApiAuthorization: {
    schema: z.string().optional(),
    default: undefined,
    env: "ARGUS_IPFS_API_AUTHORIZATION",
    help: "Authorization header for a pinning service that wants one",
  },
  oracleStatusUrl: {
    schema: z.url().optional(),
    default: undefined,
    env: "ARGUS_ORACLE_STATUS_URL",
    help: "the oracle's status server (unset: the deployment record's)",
  },
  privateKey: {
    schema: z.string().trim().optional(),
    default: undefined,
    env: "ARGUS_PRIVATE_KEY",
    accepts: "0x and 64 hex digits",
    help: "the key commands that send transactions sign with",
  },
  keystoreFile: {
    schema: z.string().trim().optional(),
    default: undefined,
    env: "ARGUS_KEYSTORE",
    accepts: "a file",
    help: "encrypted JSON keystore with that key (instead of ARGUS_PRIVATE_KEY)",
  },
  keystorePassword: {
    schema: z.string().optional(),
    default: undefined,
    env: "ARGUS_KEYSTORE_PASSWORD",
    help: "its password (asked for on a terminal when unset)",
  },
  modelsDir: PROVIDER_SETTINGS.modelsDir,
  referencePhotosDir: PROVIDER_SETTINGS.referencePhotosDir,
  manifestsDirs: PROVIDER_SETTINGS.manifestsDirs,
  modelsMirror: PROVIDER_SETTINGS.modelsMirror,
  maxImageBytes: PROVIDER_SETTINGS.maxImageBytes,
  maxImagePixels: PROVIDER_SETTINGS.maxImagePixels,
  debug: PROVIDER_SETTINGS.debug,
} as const satisfies Record<string, Setting>;

export type CliSettings = ConfigOf<typeof CLI_SETTINGS> & { modelsCacheDir: string; referencePhotosCacheDir: string };

/** The settings `env` gives; a ConfigError names every bad one. */
export function loadCliSettings(env: Readonly<Record<string, string | undefined>>): CliSettings {
  return {
    ...loadSettings(CLI_SETTINGS, { env }, "argus settings"),
    modelsCacheDir: defaultModelsCacheDir(env),
    referencePhotosCacheDir: defaultReferencePhotosCacheDir(env),
  };
}

/** Where the commands that run a model find its files and the self-test's photos, and how they download missing ones. */
export function engineFilesOf(
  settings: CliSettings,
  modelsDirFlag?: string,
): Required<Pick<EngineOptions, "download">> & { modelsDir: ModelsDir; referencePhotosDir: ReferencePhotosDir } {
  return {
    modelsDir: resolveModelsDir(modelsDirFlag, settings.modelsDir, settings.modelsCacheDir),
    referencePhotosDir: resolveReferencePhotosDir(settings.referencePhotosDir, settings.referencePhotosCacheDir),
    download: settings.modelsMirror ? { mirror: settings.modelsMirror } : {},
  };
}

/** The settings table (Markdown) the README shows. */
export function describeCliSettings(): string {
  return describeSettings(CLI_SETTINGS);
}

/** The CLI's part of .env.example. */
export function exampleEnv(): string[] {
  return envExampleLines(CLI_SETTINGS);
}
