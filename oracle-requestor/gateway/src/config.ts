/**
 * The gateway's configuration: one schema (the FIELDS table of @argus/protocol's
 * config-fields), read from the environment with `overrides` for tests and launchers,
 * validated at start with one message per bad field. `describeGatewaySettings()` prints
 * the README's table, `exampleEnv()` the gateway's part of .env.example. Only main.ts
 * hands in the environment.
 */
import { z } from "zod";
import { CHAIN_SETTINGS, privateKeySchema } from "@argus/escrow/chain-settings";
import { DEFAULT_STATE_DIR } from "@argus/escrow/deployment-file";
import { DEFAULT_LOG_RANGE_BLOCKS } from "@argus/escrow/deployment-record";
import { DEFAULT_IPFS_API, IPFS_API_AUTHORIZATION_ENV, IPFS_API_ENV } from "@argus/ipfs-node/client";
import {
  ConfigError,
  type ConfigInput,
  type ConfigOf,
  describeSettings,
  envExampleLines,
  loadSettings,
  type Setting,
} from "@argus/protocol/config-fields";
import { MAX_IMAGE_BYTES } from "@argus/protocol/limits";

export { ConfigError };

/**
 * Node flags the gateway is started with (`npm run gateway`, `npm start`, bench:gateway;
 * allowed in NODE_OPTIONS). As for the oracle, V8 grows its young generation to 128 MB of
 * semi-spaces under a burst while the live heap stays small: 8 MB caps it. main.ts also
 * sets `--optimize-for-size` itself before loading anything (Node refuses it in
 * NODE_OPTIONS): it trades some compiled-code speed for a smaller heap, and the gateway
 * waits on the chain and IPFS, not the CPU. Together they take an idle gateway from
 * ~160 MB resident to ~120 MB.
 */
export const GATEWAY_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=8"];

/** The port issue 19 gives the gateway (x402's 402, plus 8000). */
export const DEFAULT_GATEWAY_PORT = 8402;

const privateKey = privateKeySchema;
const count = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const FIELDS = {
  host: { schema: z.string(), default: "127.0.0.1", env: "ARGUS_GATEWAY_HOST", help: "interface the gateway listens on" },
  port: { schema: count(0, 65_535), default: DEFAULT_GATEWAY_PORT, env: "ARGUS_GATEWAY_PORT", help: "its port (0: any free port)" },
  publicUrl: {
    schema: z.url().optional(),
    default: undefined,
    env: "ARGUS_GATEWAY_PUBLIC_URL",
    help: "the URL clients reach it at, for the statusUrl and resource of each answer (default: the request's own origin)",
  },
  ...CHAIN_SETTINGS,
  relayerPrivateKey: {
    schema: privateKey.optional(),
    default: undefined,
    env: "ARGUS_GATEWAY_RELAYER_KEY",
    help: "the relayer account's key: it sends the payers' authorizations and pays their gas, never holds their tokens (required)",
  },
  ipfsApi: { schema: z.url(), default: DEFAULT_IPFS_API, env: IPFS_API_ENV, help: "Kubo RPC endpoint the images are pinned to" },
  ipfsApiAuthorization: {
    schema: z.string().optional(),
    default: undefined,
    env: IPFS_API_AUTHORIZATION_ENV,
    help: "Authorization header for a pinning service that wants one",
  },
  imageMaxBytes: {
    schema: count(1, 64 * 1024 * 1024),
    default: MAX_IMAGE_BYTES,
    env: "ARGUS_MAX_IMAGE_BYTES",
    help: "largest image accepted; an upload is cut off as soon as it passes this (the engine and the oracle read the same variable)",
  },
  rateLimitPerMinute: {
    schema: count(1, 1_000_000),
    default: 120,
    env: "ARGUS_GATEWAY_RATE_LIMIT",
    help: "uploads (paid or not) one client IP address may make per minute, a tenth of them at once",
  },
  readRateLimitPerMinute: {
    schema: count(1, 1_000_000),
    default: 600,
    env: "ARGUS_GATEWAY_READ_RATE_LIMIT",
    help: "other requests (status polls, models) one client IP address may make per minute, a tenth of them at once",
  },
  trustedProxyHops: {
    schema: count(0, 10),
    default: 0,
    env: "ARGUS_GATEWAY_TRUSTED_PROXY_HOPS",
    help: "reverse proxies in front of the gateway that append to X-Forwarded-For; the client IP the rate limits count is the entry this many from the right (0: the socket's address)",
  },
  maxConcurrentPayments: {
    schema: count(1, 1_024),
    // Images held in memory are at most 2 × this × imageMaxBytes (64 MiB at 16 and 2 MiB).
    default: 16,
    env: "ARGUS_GATEWAY_MAX_CONCURRENT",
    help: "uploads being read and hashed at once, and (apart) payments being relayed at once; more wait in line",
  },
  maxQueuedPayments: {
    schema: count(0, 100_000),
    default: 512,
    env: "ARGUS_GATEWAY_MAX_QUEUED",
    help: "uploads, and payments, waiting in line for those; beyond them a request gets 503 and Retry-After",
  },
  authorizationLifetimeS: {
    schema: count(30, 86_400),
    default: 600,
    env: "ARGUS_GATEWAY_AUTHORIZATION_LIFETIME_S",
    help: "x402 maxTimeoutSeconds: how long a signed authorization stays valid (validBefore)",
  },
  minRelayerBalanceWei: {
    schema: z.coerce.bigint().min(0n),
    default: 10n ** 16n,
    env: "ARGUS_GATEWAY_MIN_RELAYER_BALANCE_WEI",
    help: "below this native balance the relayer refuses new payments (503) and /healthz says so: top it up",
  },
  logRangeBlocks: {
    schema: count(1, 100_000),
    default: DEFAULT_LOG_RANGE_BLOCKS,
    env: "ARGUS_LOG_RANGE_BLOCKS",
    help: "most blocks per eth_getLogs call",
  },
  resultTimeoutMs: {
    schema: count(100, 600_000),
    default: 10_000,
    env: "ARGUS_GATEWAY_RESULT_TIMEOUT_MS",
    help: "time to fetch a result from IPFS before a status answer says it could not be verified yet",
  },
} as const satisfies Record<string, Setting>;

type Fields = typeof FIELDS;
export type GatewayConfig = ConfigOf<Fields>;

/** Defaults, then the environment, then `overrides`; throws a ConfigError naming every invalid field. */
export function loadGatewayConfig(env: Readonly<Record<string, string | undefined>>, overrides: ConfigInput<Fields> = {}): GatewayConfig {
  return loadSettings(FIELDS, { env, overrides }, "gateway configuration");
}

const formatDefault = (value: unknown) => String(value).replace(DEFAULT_STATE_DIR, "./.argus");

/** The settings table (Markdown) for the gateway's README. */
export function describeGatewaySettings(): string {
  return describeSettings(FIELDS, { formatDefault });
}

/** The gateway's part of .env.example. */
export function exampleEnv(): string[] {
  return envExampleLines(FIELDS, { formatDefault });
}
