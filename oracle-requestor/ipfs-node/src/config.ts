/**
 * Settings of the embedded IPFS node: defaults, environment variables and command-line
 * flags. Flags win over the environment, the environment over the defaults.
 */
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
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
export const DEFAULT_CORS_ORIGINS = [
  "http://localhost:5173",
  "http://127.0.0.1:5173",
  "http://localhost:4173",
  "http://127.0.0.1:4173",
];

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

/** One setting: its flag, its environment variable and how to read its text. */
interface SettingSpec<K extends keyof EmbeddedIpfsOptions> {
  key: K;
  flag: string;
  env: string;
  parse: (text: string, source: string) => EmbeddedIpfsOptions[K];
  help: string;
}

function spec<K extends keyof EmbeddedIpfsOptions>(setting: SettingSpec<K>): SettingSpec<K> {
  return setting;
}

export const SETTINGS = [
  spec({ key: "host", flag: "host", env: "ARGUS_IPFS_HOST", parse: parseHost, help: "interface to bind" }),
  spec({ key: "apiPort", flag: "api-port", env: "ARGUS_IPFS_API_PORT", parse: parsePort, help: "Kubo RPC API port" }),
  spec({
    key: "gatewayPort",
    flag: "gateway-port",
    env: "ARGUS_IPFS_GATEWAY_PORT",
    parse: parsePort,
    help: "path gateway port",
  }),
  spec({
    key: "dataDir",
    flag: "data-dir",
    env: "ARGUS_IPFS_DATA_DIR",
    parse: (text) => resolve(text),
    help: "blocks, pins and identity",
  }),
  spec({
    key: "corsOrigins",
    flag: "cors-origins",
    env: "ARGUS_IPFS_CORS_ORIGINS",
    parse: parseOrigins,
    help: "comma-separated browser origins allowed to call the API, or *",
  }),
  spec({
    key: "maxUploadBytes",
    flag: "max-upload-bytes",
    env: "ARGUS_IPFS_MAX_UPLOAD_BYTES",
    parse: parsePositiveInteger,
    help: "largest accepted upload in bytes",
  }),
  spec({
    key: "readTimeoutMs",
    flag: "read-timeout-ms",
    env: "ARGUS_IPFS_READ_TIMEOUT_MS",
    parse: parsePositiveInteger,
    help: "how long a read waits for a missing block",
  }),
  spec({
    key: "networking",
    flag: "networking",
    env: "ARGUS_IPFS_NETWORKING",
    parse: parseBoolean,
    help: "join the public IPFS network",
  }),
] as const;

export class ConfigError extends Error {
  override name = "ConfigError";
}

/**
 * Reads the settings from `argv` (without the node and script paths) and `env`.
 * Throws ConfigError naming the flag or variable at fault.
 */
export function resolveOptions(argv: string[], env: NodeJS.ProcessEnv): EmbeddedIpfsOptions & { help: boolean } {
  const { values } = parseFlags(argv);
  const options: EmbeddedIpfsOptions = { ...DEFAULT_OPTIONS };
  for (const setting of SETTINGS) {
    const flagValue = values[setting.flag];
    const envValue = env[setting.env];
    if (flagValue !== undefined) {
      const text = typeof flagValue === "boolean" ? String(flagValue) : flagValue;
      assign(options, setting, setting.parse(text, `--${setting.flag}`));
    } else if (envValue !== undefined && envValue !== "") {
      assign(options, setting, setting.parse(envValue, setting.env));
    }
  }
  return { ...options, help: values.help === true };
}

function assign<K extends keyof EmbeddedIpfsOptions>(
  options: EmbeddedIpfsOptions,
  setting: SettingSpec<K>,
  value: EmbeddedIpfsOptions[K],
): void {
  options[setting.key] = value;
}

function parseFlags(argv: string[]) {
  const flagOptions: Record<string, { type: "string" | "boolean" }> = { help: { type: "boolean" } };
  for (const setting of SETTINGS) {
    flagOptions[setting.flag] = { type: setting.key === "networking" ? "boolean" : "string" };
  }
  try {
    return parseArgs({ args: argv, options: flagOptions, strict: true, allowPositionals: false });
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
}

export function usage(): string {
  const lines = ["Usage: npm run ipfs -- [flags]", "", "Flags (environment variable, default):"];
  for (const setting of SETTINGS) {
    const fallback = DEFAULT_OPTIONS[setting.key];
    const shown = Array.isArray(fallback) ? fallback.join(",") : String(fallback);
    lines.push(`  --${setting.flag.padEnd(17)} ${setting.help} (${setting.env}, ${shown})`);
  }
  return lines.join("\n");
}

function parseHost(text: string, source: string): string {
  const host = text.trim();
  if (host === "") throw new ConfigError(`${source} must not be empty`);
  return host;
}

function parsePort(text: string, source: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new ConfigError(`${source} must be a port number from 0 to 65535, got "${text}"`);
  }
  return port;
}

function parsePositiveInteger(text: string, source: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new ConfigError(`${source} must be a positive integer, got "${text}"`);
  }
  return value;
}

function parseBoolean(text: string, source: string): boolean {
  const normalized = text.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(normalized)) return true;
  if (["0", "false", "no", "off"].includes(normalized)) return false;
  throw new ConfigError(`${source} must be true or false, got "${text}"`);
}

function parseOrigins(text: string, source: string): string[] {
  const origins = text
    .split(",")
    .map((origin) => origin.trim())
    .filter((origin) => origin !== "");
  for (const origin of origins) {
    if (origin === "*") continue;
    let parsed: URL;
    try {
      parsed = new URL(origin);
    } catch {
      throw new ConfigError(`${source}: "${origin}" is not an origin such as http://localhost:5173`);
    }
    if (parsed.origin !== origin.replace(/\/$/, "")) {
      throw new ConfigError(`${source}: "${origin}" must be a bare origin (scheme, host, port) without a path`);
    }
  }
  return origins.map((origin) => origin.replace(/\/$/, ""));
}
