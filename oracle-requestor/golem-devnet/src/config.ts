/**
 * Settings of `npm run golem-devnet`, in the settings pattern of @argus/protocol's
 * config-fields: defaults, environment variables and command-line flags (flags win over
 * the environment, the environment over the defaults). main.ts hands in the environment.
 */
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { z } from "zod";
import { DEFAULT_YAGNA_VERSION } from "./node-routes.ts";
import { ConfigError, describeSettings, envExampleLines, loadSettings, type Setting } from "@argus/protocol/config-fields";

export { ConfigError };

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

/** Where `npm run build:provider-image` writes the image (registered at start when present). */
export const DEFAULT_IMAGE = join(REPO_ROOT, "provider-image/dist/argus-provider.gvmi");

const port = z.coerce.number().int().min(0).max(65_535);
const count = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const price = z.coerce.number().min(0);
const flagBoolean = z.union([
  z.boolean(),
  z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(["1", "true", "yes", "on", "0", "false", "no", "off"], { error: "expected true or false" }))
    .transform((text) => ["1", "true", "yes", "on"].includes(text)),
]);
const folder = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .transform((text) => resolve(text));

/** Each setting: schema, default, variable, flag and meaning. */
export const SETTINGS = {
  host: {
    schema: z.string().trim().min(1),
    default: "127.0.0.1",
    env: "ARGUS_GOLEM_DEVNET_HOST",
    flag: "host",
    accepts: "a host name or address",
    help: "interface to bind",
  },
  port: {
    schema: port,
    default: 7465,
    env: "ARGUS_GOLEM_DEVNET_PORT",
    flag: "port",
    help: "port of the emulated yagna API (yagna's own is 7465; 0: any free port)",
  },
  appKey: {
    schema: z.string().trim().min(8, "at least 8 characters"),
    default: "golem-devnet-app-key",
    env: "ARGUS_GOLEM_DEVNET_APP_KEY",
    flag: "app-key",
    help: "the app key clients must send (Bearer); give the oracle the same as YAGNA_APPKEY",
  },
  providers: {
    schema: count(1, 64),
    default: 3,
    env: "ARGUS_GOLEM_DEVNET_PROVIDERS",
    flag: "providers",
    help: "number of emulated providers",
  },
  threads: {
    schema: count(1, 256),
    default: 4,
    env: "ARGUS_GOLEM_DEVNET_THREADS",
    flag: "threads",
    help: "CPU threads each provider offers",
  },
  memoryGib: {
    schema: z.coerce.number().positive(),
    default: 8,
    env: "ARGUS_GOLEM_DEVNET_MEMORY_GIB",
    flag: "memory-gib",
    help: "memory each provider offers (GiB; the sandbox's limit)",
  },
  storageGib: {
    schema: z.coerce.number().positive(),
    default: 20,
    env: "ARGUS_GOLEM_DEVNET_STORAGE_GIB",
    flag: "storage-gib",
    help: "disk each provider offers (GiB)",
  },
  startPriceGlm: {
    schema: price,
    default: 0.01,
    env: "ARGUS_GOLEM_DEVNET_START_PRICE",
    flag: "start-price",
    help: "price of starting an activity (GLM)",
  },
  envPerHourGlm: {
    schema: price,
    default: 0.05,
    env: "ARGUS_GOLEM_DEVNET_ENV_PER_HOUR",
    flag: "env-per-hour",
    help: "price per hour of activity (GLM)",
  },
  cpuPerHourGlm: {
    schema: price,
    default: 0.1,
    env: "ARGUS_GOLEM_DEVNET_CPU_PER_HOUR",
    flag: "cpu-per-hour",
    help: "price per CPU-thread hour (GLM)",
  },
  speed: {
    schema: z.coerce.number().min(1),
    default: 1,
    env: "ARGUS_GOLEM_DEVNET_SPEED",
    flag: "speed",
    help: "how many times slower than this machine the providers run commands (≥ 1)",
  },
  walletGlm: {
    schema: z.coerce.number().positive(),
    default: 1_000,
    env: "ARGUS_GOLEM_DEVNET_WALLET_GLM",
    flag: "wallet-glm",
    help: "GLM in the requestor's wallet on each payment platform",
  },
  yagnaVersion: {
    schema: z
      .string()
      .trim()
      .regex(/^\d+\.\d+\.\d+$/, "a release number such as 0.17.4"),
    default: DEFAULT_YAGNA_VERSION,
    env: "ARGUS_GOLEM_DEVNET_YAGNA_VERSION",
    flag: "yagna-version",
    accepts: "a release number such as 0.17.4",
    help: "the yagna release the emulated node answers as (GET /version/get); Hoodi needs 0.17.4 or newer",
  },
  workRoot: {
    schema: folder,
    default: join(tmpdir(), "argus-golem-devnet"),
    shownDefault: "<os.tmpdir()>/argus-golem-devnet",
    env: "ARGUS_GOLEM_DEVNET_WORK_ROOT",
    flag: "work-root",
    accepts: "a folder outside the checkout",
    help: "image caches and activity volumes of the providers",
  },
  image: {
    schema: folder,
    default: DEFAULT_IMAGE,
    shownDefault: "./provider-image/dist/argus-provider.gvmi",
    env: "ARGUS_GOLEM_DEVNET_IMAGE",
    flag: "image",
    accepts: "a .gvmi file",
    help: "provider image the registry serves (registered at start when the file exists)",
  },
  strict: {
    schema: flagBoolean,
    default: false,
    env: "ARGUS_GOLEM_DEVNET_STRICT",
    flag: "strict",
    help: "answer spec violations with 400/500 instead of only recording them (GET /devnet/violations)",
  },
  latencyMs: {
    schema: count(0, 10_000),
    default: 50,
    env: "ARGUS_GOLEM_DEVNET_LATENCY_MS",
    flag: "latency-ms",
    help: "one-way delay of a message to or from a provider (ms); golem-js needs a realistic one (its counter-proposal is stored after the POST returns)",
  },
  logLevel: {
    schema: z.enum(["debug", "info", "warn", "error"]),
    default: "info",
    env: "ARGUS_GOLEM_DEVNET_LOG_LEVEL",
    flag: "log-level",
    help: "least important log lines printed (stderr)",
  },
} as const satisfies Record<string, Setting & { flag: string }>;

export type DevnetSettings = { -readonly [K in keyof typeof SETTINGS]: z.output<(typeof SETTINGS)[K]["schema"]> };

/** Reads the settings from `argv` (without node and script) and `env`; throws ConfigError naming every bad one. */
export function resolveSettings(argv: string[], env: Readonly<Record<string, string | undefined>>): DevnetSettings & { help: boolean } {
  const flagOptions: Record<string, { type: "string" | "boolean" }> = { help: { type: "boolean" } };
  for (const [key, setting] of Object.entries(SETTINGS)) flagOptions[setting.flag] = { type: key === "strict" ? "boolean" : "string" };
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: argv, options: flagOptions, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  const overrides: Record<string, unknown> = {};
  for (const [key, setting] of Object.entries(SETTINGS)) if (values[setting.flag] !== undefined) overrides[key] = values[setting.flag];
  const settings = loadSettings(
    SETTINGS,
    { env, overrides, overrideSource: (_, setting) => `--${(setting as { flag: string }).flag}` },
    "golem-devnet settings",
  );
  if (settings.workRoot === REPO_ROOT || settings.workRoot.startsWith(`${REPO_ROOT}/`)) {
    throw new ConfigError(`workRoot (${settings.workRoot}) must be outside the checkout: the providers' sandboxes must not see it`);
  }
  return { ...(settings as DevnetSettings), help: values.help === true };
}

/** Whether the configured image file exists (main.ts registers it then). */
export const imagePresent = (settings: Pick<DevnetSettings, "image">): boolean => existsSync(settings.image);

export function usage(): string {
  const lines = ["Usage: npm run golem-devnet -- [flags]", "", "Flags (environment variable, default):"];
  for (const setting of Object.values(SETTINGS)) {
    const shown = "shownDefault" in setting ? setting.shownDefault : String(setting.default);
    lines.push(`  --${setting.flag.padEnd(15)} ${setting.help} (${setting.env}, ${shown})`);
  }
  return lines.join("\n");
}

/** The settings table (Markdown) the README shows. */
export function describeDevnetSettings(): string {
  return describeSettings(SETTINGS);
}

/** The devnet's part of .env.example. */
export function exampleEnv(): string[] {
  return envExampleLines(SETTINGS);
}
