/**
 * Settings of the embedded IPFS node, in the settings pattern of @argus/protocol's
 * config-fields: defaults, environment variables and command-line flags. Flags win over
 * the environment, the environment over the defaults. main.ts hands in the environment.
 */
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { z } from "zod";
import { ConfigError, describeSettings, envExampleLines, loadSettings, type Setting } from "@argus/protocol/config-fields";

export { ConfigError };
import { MAX_IMAGE_BYTES } from "@argus/protocol/limits";

export interface EmbeddedIpfsOptions {
  /** Interface both servers bind to. */
  host: string;
  /** Kubo RPC API port (`/api/v0/…`); 0 picks a free port. */
  apiPort: number;
  /** Path gateway port (`/ipfs/<cid>`); 0 picks a free port. */
  gatewayPort: number;
  /** Blocks, pins and the node identity live here. */
  dataDir: string;
  /** Browser origins allowed to call the API (`*` allows any). */
  corsOrigins: string[];
  /** Largest upload (`add` file bytes, `block/put` block) accepted; larger ones are refused before anything is stored. */
  maxUploadBytes: number;
  /** How long a read waits for a block that is not stored here before answering with a timeout error. */
  readTimeoutMs: number;
  /** Join the public IPFS network (libp2p, bitswap, HTTP gateways). Off: no connection is ever opened. */
  networking: boolean;
}

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

/** Vite's dev server and preview server, the two ways the web UI runs locally. */
export const DEFAULT_CORS_ORIGINS = ["http://localhost:5173", "http://127.0.0.1:5173", "http://localhost:4173", "http://127.0.0.1:4173"];

export const DEFAULT_OPTIONS: EmbeddedIpfsOptions = {
  host: "127.0.0.1",
  apiPort: 5001, // Kubo's RPC port, so every Kubo tool finds the node where it expects one
  gatewayPort: 8080, // Kubo's gateway port
  dataDir: resolve(REPO_ROOT, ".argus/ipfs"),
  corsOrigins: DEFAULT_CORS_ORIGINS,
  maxUploadBytes: MAX_IMAGE_BYTES, // the largest upload is the largest image
  readTimeoutMs: 30_000,
  networking: false,
};

const port = z.coerce.number().int().min(0).max(65_535);
const positiveInteger = z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
const flagBoolean = z.union([
  z.boolean(),
  z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(["1", "true", "yes", "on", "0", "false", "no", "off"], { error: "expected true or false" }))
    .transform((text) => ["1", "true", "yes", "on"].includes(text)),
]);
const origins = z.union([z.array(z.string()), z.string().transform((text) => text.split(","))]).transform((list, context) => {
  const result: string[] = [];
  for (const origin of list.map((item) => item.trim()).filter((item) => item !== "")) {
    if (origin === "*") {
      result.push(origin);
      continue;
    }
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      context.addIssue({ code: "custom", message: `"${origin}" is not an origin such as http://localhost:5173` });
      continue;
    }
    if (parsed.origin !== origin.replace(/\/$/, "")) {
      context.addIssue({ code: "custom", message: `"${origin}" must be a bare origin (scheme, host, port) without a path` });
      continue;
    }
    result.push(origin.replace(/\/$/, ""));
  }
  return result;
});

/** Each setting: schema, default, variable, flag and meaning. */
export const SETTINGS = {
  host: {
    schema: z.string().trim().min(1, "must not be empty"),
    default: DEFAULT_OPTIONS.host,
    env: "ARGUS_IPFS_HOST",
    flag: "host",
    accepts: "a host name or address",
    help: "interface to bind",
  },
  apiPort: {
    schema: port,
    default: DEFAULT_OPTIONS.apiPort,
    env: "ARGUS_IPFS_API_PORT",
    flag: "api-port",
    help: "Kubo RPC API port (0: any free port)",
  },
  gatewayPort: {
    schema: port,
    default: DEFAULT_OPTIONS.gatewayPort,
    env: "ARGUS_IPFS_GATEWAY_PORT",
    flag: "gateway-port",
    help: "path gateway port (0: any free port)",
  },
  dataDir: {
    schema: z
      .string()
      .trim()
      .min(1, "must not be empty")
      .transform((text) => resolve(text)),
    default: DEFAULT_OPTIONS.dataDir,
    shownDefault: "./.argus/ipfs",
    env: "ARGUS_IPFS_DATA_DIR",
    flag: "data-dir",
    accepts: "a folder",
    help: "blocks, pins and identity",
  },
  corsOrigins: {
    schema: origins,
    default: DEFAULT_OPTIONS.corsOrigins,
    env: "ARGUS_IPFS_CORS_ORIGINS",
    flag: "cors-origins",
    accepts: "comma-separated origins such as http://localhost:5173, or *",
    help: "browser origins allowed to call the API (comma-separated, or *)",
  },
  maxUploadBytes: {
    schema: positiveInteger,
    default: DEFAULT_OPTIONS.maxUploadBytes,
    env: "ARGUS_IPFS_MAX_UPLOAD_BYTES",
    flag: "max-upload-bytes",
    help: "largest accepted upload in bytes",
  },
  readTimeoutMs: {
    schema: positiveInteger,
    default: DEFAULT_OPTIONS.readTimeoutMs,
    env: "ARGUS_IPFS_READ_TIMEOUT_MS",
    flag: "read-timeout-ms",
    help: "how long a read waits for a missing block",
  },
  networking: {
    schema: flagBoolean,
    default: DEFAULT_OPTIONS.networking,
    env: "ARGUS_IPFS_NETWORKING",
    flag: "networking",
    help: "join the public IPFS network (libp2p, bitswap, HTTP gateways)",
  },
} as const satisfies Record<keyof EmbeddedIpfsOptions, Setting>;

/**
 * Reads the settings from `argv` (without the node and script paths) and `env`.
 * Throws ConfigError naming every bad setting, the flag or variable it came from and what is accepted.
 */
export function resolveOptions(argv: string[], env: Readonly<Record<string, string | undefined>>): EmbeddedIpfsOptions & { help: boolean } {
  const { values } = parseFlags(argv);
  const overrides: Record<string, unknown> = {};
  for (const [key, setting] of Object.entries(SETTINGS)) if (values[setting.flag] !== undefined) overrides[key] = values[setting.flag];
  const options: EmbeddedIpfsOptions = loadSettings(
    SETTINGS,
    { env, overrides, overrideSource: (_, setting) => `--${setting.flag}` },
    "IPFS node settings",
  );
  return { ...options, help: values.help === true };
}

function parseFlags(argv: string[]) {
  const flagOptions: Record<string, { type: "string" | "boolean" }> = { help: { type: "boolean" } };
  for (const [key, setting] of Object.entries(SETTINGS)) flagOptions[setting.flag] = { type: key === "networking" ? "boolean" : "string" };
  try {
    return parseArgs({ args: argv, options: flagOptions, strict: true, allowPositionals: false });
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
}

const formatDefault = (value: unknown) => (Array.isArray(value) ? value.join(",") : String(value));

export function usage(): string {
  const lines = ["Usage: npm run ipfs -- [flags]", "", "Flags (environment variable, default):"];
  for (const setting of Object.values(SETTINGS)) {
    lines.push(
      `  --${setting.flag.padEnd(17)} ${setting.help} (${setting.env}, ${"shownDefault" in setting ? setting.shownDefault : formatDefault(setting.default)})`,
    );
  }
  return lines.join("\n");
}

/** The settings table (Markdown) the README shows. */
export function describeIpfsSettings(): string {
  return describeSettings(SETTINGS, { formatDefault });
}

/** The IPFS node's part of .env.example. */
export function exampleEnv(): string[] {
  return envExampleLines(SETTINGS, { formatDefault });
}
