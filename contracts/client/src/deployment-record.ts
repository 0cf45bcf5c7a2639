/**
 * The deployment record: which chain, which contracts, which IPFS endpoints. One JSON
 * document that whoever starts a stack writes (`npm start` writes `.argus/deployment.json`
 * and serves a copy beside the web UI) and everything else reads: the web UI (fetched
 * from `deployment.json` next to index.html, so one static build serves any
 * deployment), the oracle (when ARGUS_ESCROW_ADDRESS is not set), the `argus` CLI and
 * the tests.
 *
 * Shape (schemaVersion 1):
 *   { schemaVersion: 1,
 *     chain: { id, name, rpcUrl, nativeCurrency?: {name, symbol, decimals}, blockExplorerUrl?, logRangeBlocks? },
 *     contracts: { predictionEscrow: { address, deployBlock } },
 *     ipfs: { apiUrl, gatewayUrl },
 *     oracle?: { statusUrl } }
 *
 * Environment-neutral (browser and Node): zod only. Reading and writing the file on
 * disk: deployment-file.ts.
 */
import { z } from "zod";
import { requestDeploymentRecord } from "./deployment-request.ts";

export const DEPLOYMENT_SCHEMA_VERSION = 1;

/**
 * Most blocks one eth_getLogs call spans where nothing says otherwise (the record's
 * `chain.logRangeBlocks`, ARGUS_LOG_RANGE_BLOCKS): public endpoints refuse wider ranges,
 * commonly beyond 2,000 to 10,000 blocks.
 */
export const DEFAULT_LOG_RANGE_BLOCKS = 2_000;

const AddressSchema = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, "an address is 0x followed by 40 hex digits")
  .transform((value) => value as `0x${string}`);

const HttpUrlSchema = z.url({ protocol: /^https?$/ }).transform((value) => value.replace(/\/+$/, ""));

export const DeploymentSchema = z.object({
  schemaVersion: z.literal(DEPLOYMENT_SCHEMA_VERSION),
  chain: z.object({
    /** EIP-155 chain id, e.g. 31337 for a local Hardhat node. */
    id: z.int().positive(),
    /** Shown to the user, e.g. in "switch to …". */
    name: z.string().min(1).max(100),
    /** JSON-RPC endpoint the app reads through (and offers to wallets adding the chain). */
    rpcUrl: HttpUrlSchema,
    nativeCurrency: z
      .object({ name: z.string().min(1), symbol: z.string().min(1).max(10), decimals: z.int().min(0).max(36) })
      .default({ name: "Ether", symbol: "ETH", decimals: 18 }),
    blockExplorerUrl: HttpUrlSchema.optional(),
    /** Most blocks per eth_getLogs call `rpcUrl` accepts; absent: DEFAULT_LOG_RANGE_BLOCKS. */
    logRangeBlocks: z.int().min(1).max(100_000).optional(),
  }),
  contracts: z.object({
    predictionEscrow: z.object({
      address: AddressSchema,
      /** Block the escrow was deployed in: event queries start there. */
      deployBlock: z.int().min(0).default(0),
    }),
  }),
  ipfs: z.object({
    /** Kubo RPC API (`/api/v0`) that uploads go to and results are read from. */
    apiUrl: HttpUrlSchema,
    /** Path gateway (`/ipfs/<cid>`) for showing pinned images. */
    gatewayUrl: HttpUrlSchema,
  }),
  /** The oracle serving this deployment, when known: its status server (`/healthz`, `/requests/<id>`). */
  oracle: z.object({ statusUrl: HttpUrlSchema }).optional(),
});

export type Deployment = z.infer<typeof DeploymentSchema>;
/** What a writer supplies: the defaults (native currency, deploy block) may be left out. */
export type DeploymentInput = z.input<typeof DeploymentSchema>;

export class DeploymentError extends Error {
  override name = "DeploymentError";
}

/** Validates untrusted JSON as a deployment record; the message lists every problem. */
export function parseDeployment(json: unknown, origin = "deployment.json"): Deployment {
  const parsed = DeploymentSchema.safeParse(json);
  if (!parsed.success) throw new DeploymentError(`${origin} is not a valid deployment record:\n${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/**
 * Fetches and validates the record, by default `deployment.json` beside the page;
 * `request` is its fetch when the caller has already started it.
 */
export async function loadDeployment(url = "deployment.json", request = requestDeploymentRecord(url)): Promise<Deployment> {
  let response: Response;
  try {
    response = await request;
  } catch (error) {
    throw new DeploymentError(`could not fetch ${url}: ${(error as Error).message}`);
  }
  if (!response.ok) throw new DeploymentError(`${url} answered HTTP ${response.status}: no deployment record is being served`);
  let json: unknown;
  try {
    json = await response.json();
  } catch {
    throw new DeploymentError(`${url} is not JSON`);
  }
  return parseDeployment(json, url);
}
