/**
 * The oracle's configuration: one schema, read from an optional JSON file
 * (ARGUS_ORACLE_CONFIG or `--config`) overlaid by environment variables, validated at
 * start with one message per bad field. Every field has a safe default for the local
 * stack; `describeConfig()` prints the table the README documents, `exampleConfig()` the
 * committed oracle.example.json. The Golem executor's settings are its `golem` section.
 * Only main.ts hands in the environment: the rest of the oracle gets this object.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { CHAIN_SETTINGS, privateKeySchema } from "@argus/escrow/chain-settings";
import { DEFAULT_STATE_DIR } from "@argus/escrow/deployment-file";
import { DEFAULT_LOG_RANGE_BLOCKS } from "@argus/escrow/deployment-record";
import { DEFAULT_IPFS_API } from "@argus/ipfs-node/client";
import {
  ConfigError,
  type ConfigInput,
  type ConfigOf,
  describeSettings,
  envExampleLines,
  jsonExample,
  loadSettings,
  type Section,
  type Setting,
} from "@argus/protocol/config-fields";
import { GOLEM_CONFIG_ENV, GOLEM_CONFIG_HELP, GolemConfigSchema, type GolemExecutorConfig } from "./executors/golem/config.ts";

import { MAX_BATCH_SIZE, MAX_IMAGE_BYTES } from "@argus/protocol/limits";
import { IMAGE_LIMITS_ENV } from "@argus/provider-image/image-limits";

export { ConfigError };

const privateKey = privateKeySchema;
const count = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** The `golem` section: GolemConfigSchema's fields, its variables and cross-field rules. */
const GOLEM_SECTION: Section = {
  help: "the Golem executor (executor: golem); see GOLEM.md",
  settings: Object.fromEntries(
    (Object.keys(GOLEM_CONFIG_ENV) as (keyof GolemExecutorConfig)[]).map((key): [string, Setting] => {
      const schema = GolemConfigSchema.shape[key] as z.ZodType;
      const fallback: unknown = schema.parse(undefined);
      return [
        key,
        {
          schema,
          default: Array.isArray(fallback) ? fallback.join(" ") : fallback,
          env: GOLEM_CONFIG_ENV[key],
          help: GOLEM_CONFIG_HELP[key],
        },
      ];
    }),
  ),
  check: GolemConfigSchema,
};

/** Each field: its schema, default, environment variable and meaning. */
/**
 * 4 s: in a burst of 256 requests it fills settlement transactions to 64 on either
 * executor — 4 fulfilment transactions where 1 s gave 6–7 locally and 8–10 on the Golem
 * devnet, whose results trickle in over a longer time — and cost 6% less gas per
 * fulfilment, with the burst's p95 latency unchanged within noise (npm run bench:e2e).
 */
export const DEFAULT_SETTLE_LINGER_MS = 4_000;

const FIELDS = {
  ...CHAIN_SETTINGS,
  privateKey: {
    schema: privateKey.optional(),
    default: undefined,
    env: "ARGUS_ORACLE_PRIVATE_KEY",
    help: "the oracle account's key (or use a keystore)",
  },
  keystoreFile: {
    schema: z.string().optional(),
    default: undefined,
    env: "ARGUS_ORACLE_KEYSTORE",
    help: "encrypted JSON keystore with the oracle key",
  },
  keystorePassword: { schema: z.string().optional(), default: undefined, env: "ARGUS_ORACLE_KEYSTORE_PASSWORD", help: "its password" },
  startBlock: {
    schema: z.coerce.bigint().min(0n).optional(),
    default: undefined,
    env: "ARGUS_START_BLOCK",
    help: "first block to read events from (default: the deployment block)",
  },
  confirmations: {
    schema: count(0, 1000),
    default: 1,
    env: "ARGUS_CONFIRMATIONS",
    help: "blocks a request event must be buried under before it is worked on",
  },
  settlementFinalityBlocks: {
    schema: count(1, 100_000),
    default: 64,
    env: "ARGUS_SETTLEMENT_FINALITY_BLOCKS",
    help: "blocks a settlement must be buried under before it is final and no longer watched for reorgs, on a node whose `finalized` block does not lag its head (otherwise that block decides)",
  },
  logRangeBlocks: {
    schema: count(1, 100_000),
    default: DEFAULT_LOG_RANGE_BLOCKS,
    env: "ARGUS_LOG_RANGE_BLOCKS",
    help: "most blocks per eth_getLogs call",
  },
  pollIntervalMs: { schema: count(50, 600_000), default: 1_000, env: "ARGUS_POLL_INTERVAL_MS", help: "how often to look for new blocks" },
  ipfsApi: { schema: z.url(), default: DEFAULT_IPFS_API, env: "ARGUS_IPFS_API", help: "Kubo RPC endpoint for images and results" },
  ipfsApiAuthorization: {
    schema: z.string().optional(),
    default: undefined,
    env: "ARGUS_IPFS_API_AUTHORIZATION",
    help: "Authorization header for a pinning service that wants one (Bearer …, Basic …)",
  },
  imageMaxBytes: {
    schema: count(1, 64 * 1024 * 1024),
    default: MAX_IMAGE_BYTES,
    // One limit, one name: the provider image's ARGUS_MAX_IMAGE_BYTES; the oracle's older name still works.
    env: IMAGE_LIMITS_ENV.maxBytes,
    aliases: ["ARGUS_IMAGE_MAX_BYTES"],
    help: "largest image accepted (the engine reads the same variable)",
  },
  fetchTimeoutMs: {
    schema: count(100, 600_000),
    default: 20_000,
    env: "ARGUS_FETCH_TIMEOUT_MS",
    help: "time to fetch one image before the attempt fails",
  },
  fetchAttempts: {
    schema: count(1, 20),
    default: 3,
    env: "ARGUS_FETCH_ATTEMPTS",
    help: "attempts before an unretrievable image is rejected",
  },
  fetchConcurrency: { schema: count(1, 256), default: 8, env: "ARGUS_FETCH_CONCURRENCY", help: "images fetched at once" },
  flushIntervalMs: {
    schema: count(0, 3_600_000),
    default: 10_000,
    env: "ARGUS_FLUSH_INTERVAL_MS",
    help: "longest a request waits for its chunk to fill",
  },
  maxChunkSize: {
    schema: count(1, MAX_BATCH_SIZE),
    default: MAX_BATCH_SIZE,
    env: "ARGUS_MAX_CHUNK_SIZE",
    help: "requests per chunk (one executor task)",
  },
  maxChunkBytes: {
    schema: count(1, 1024 * 1024 * 1024),
    default: 64 * 1024 * 1024,
    env: "ARGUS_MAX_CHUNK_BYTES",
    help: "image bytes per chunk",
  },
  maxReadyRequests: {
    schema: count(16, 100_000),
    default: 512,
    env: "ARGUS_MAX_READY_REQUESTS",
    help: "fetched images held on disk awaiting a chunk (back-pressure)",
  },
  executionPaused: {
    schema: z.union([z.boolean(), z.stringbool()]),
    default: false,
    env: "ARGUS_EXECUTION_PAUSED",
    help: "start with chunk execution paused: requests are read and fetched, none is run",
  },
  deadlineMarginS: {
    schema: count(0, 86_400),
    default: 30,
    env: "ARGUS_DEADLINE_MARGIN_S",
    help: "requests closer than this to their deadline are not started",
  },
  resultCacheWindowS: {
    schema: count(0, 30 * 86_400),
    default: 3_600,
    env: "ARGUS_RESULT_CACHE_WINDOW_S",
    help: "reuse a model's result for the same image CID within this window",
  },
  settleLingerMs: {
    schema: count(0, 3_600_000),
    default: DEFAULT_SETTLE_LINGER_MS,
    env: "ARGUS_SETTLE_LINGER_MS",
    help: "longest a finished request waits for its settlement transaction to fill while more results are on their way (a lone request never waits)",
  },
  maxSettlementsPerTx: {
    schema: count(1, 256),
    default: 64,
    env: "ARGUS_MAX_SETTLEMENTS_PER_TX",
    help: "fulfilments or rejections per transaction",
  },
  txReceiptTimeoutMs: {
    schema: count(1_000, 3_600_000),
    default: 60_000,
    env: "ARGUS_TX_RECEIPT_TIMEOUT_MS",
    help: "wait before a pending transaction's fees are bumped",
  },
  maxFeePerGasGwei: {
    schema: z.coerce.number().positive(),
    default: 500,
    env: "ARGUS_MAX_FEE_PER_GAS_GWEI",
    help: "never pay more than this per gas",
  },
  executor: { schema: z.enum(["local", "golem"]), default: "local", env: "ARGUS_EXECUTOR", help: "where chunks run" },
  localConcurrency: { schema: count(1, 64), default: 2, env: "ARGUS_LOCAL_CONCURRENCY", help: "chunks the local executor runs at once" },
  modelsDir: { schema: z.string().optional(), default: undefined, env: "ARGUS_MODELS_DIR", help: "ONNX models for the local executor" },
  dataDir: {
    schema: z.string(),
    default: join(DEFAULT_STATE_DIR, "oracle"),
    shownDefault: "./.argus/oracle",
    env: "ARGUS_ORACLE_DATA_DIR",
    help: "the SQLite queue and the image spool",
  },
  httpHost: { schema: z.string(), default: "127.0.0.1", env: "ARGUS_ORACLE_HOST", help: "interface for /healthz, /metrics and /requests" },
  httpPort: {
    schema: count(0, 65_535),
    default: 9464,
    env: "ARGUS_ORACLE_PORT",
    help: "port for /healthz, /metrics and /requests (0: any free port)",
  },
  logLevel: {
    schema: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]),
    default: "info",
    env: "ARGUS_LOG_LEVEL",
    help: "pino log level",
  },
  golem: GOLEM_SECTION,
} as const satisfies Record<string, Setting | Section>;

type Fields = typeof FIELDS;
export type OracleConfig = Omit<ConfigOf<Fields>, "golem"> & { golem: GolemExecutorConfig };
export type ConfigKey = keyof Fields;
/** Settings that a launcher may default (plain values, not the `golem` section). */
type PlainKey = Exclude<ConfigKey, "golem">;

/** The variable naming the configuration file (`--config` wins). */
export const CONFIG_FILE_ENV = "ARGUS_ORACLE_CONFIG";

/**
 * Builds the configuration from defaults, then the JSON file (if any), then the
 * environment, then `overrides` (for tests and embedding; `golem` nested as in the file).
 * Throws a ConfigError listing every invalid field with its source and accepted values.
 */
export function loadConfig(
  env: Readonly<Record<string, string | undefined>>,
  overrides: ConfigInput<Fields> = {},
  configFile: string | undefined = env[CONFIG_FILE_ENV],
): OracleConfig {
  const file = configFile ? { name: configFile, values: readConfigFile(configFile) } : undefined;
  return loadSettings(FIELDS, { env, ...(file ? { file } : {}), overrides }, "oracle configuration") as unknown as OracleConfig;
}

/**
 * Gives the settings in `defaults` to the oracle through `env`, for a launcher that knows
 * better defaults than the built-in ones (`argus oracle start`: the deployment record's
 * endpoints), but only those that neither `env` nor the configuration file sets: the
 * environment outranks the file, so a value put there would silently beat the file's.
 */
export function applyConfigDefaults(
  env: NodeJS.ProcessEnv,
  defaults: Partial<Record<PlainKey, string | number>>,
  configFile: string | undefined = env[CONFIG_FILE_ENV],
): void {
  const fromFile = configFile ? readConfigFile(configFile) : {};
  for (const [key, value] of Object.entries(defaults) as [PlainKey, string | number | undefined][]) {
    const name = FIELDS[key].env;
    if (value === undefined || key in fromFile || (env[name] !== undefined && env[name] !== "")) continue;
    env[name] = String(value);
  }
}

function readConfigFile(path: string): Record<string, unknown> {
  try {
    const json: unknown = JSON.parse(readFileSync(path, "utf8"));
    if (typeof json !== "object" || json === null || Array.isArray(json)) throw new Error("not a JSON object");
    return json as Record<string, unknown>;
  } catch (error) {
    throw new ConfigError(`cannot read the oracle configuration file ${path}: ${(error as Error).message}`);
  }
}

const formatDefault = (value: unknown) => String(value).replace(DEFAULT_STATE_DIR, "./.argus");

/** The configuration table (Markdown), generated from the schema so the docs cannot drift. */
export function describeConfig(): string {
  return describeSettings(FIELDS, { formatDefault });
}

/** oracle.example.json: every setting with its default, each after a `//key` comment. */
export function exampleConfig(): string {
  return `${JSON.stringify({ "//": "Argus oracle configuration (npm run oracle -- --config FILE, or ARGUS_ORACLE_CONFIG=FILE). Every setting is shown with its default; delete what you do not change. The environment overrides this file. Keys starting with // are comments.", ...jsonExample(FIELDS, { formatDefault }) }, null, 2)}\n`;
}

/** The oracle's part of .env.example. */
export function exampleEnv(): string[] {
  return [
    `# ${CONFIG_FILE_ENV}: the JSON configuration file (as --config; see oracle.example.json)`,
    `#${CONFIG_FILE_ENV}=`,
    ...envExampleLines(FIELDS, { formatDefault }),
  ];
}
