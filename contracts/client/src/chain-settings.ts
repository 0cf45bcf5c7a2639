/**
 * The settings every Node service that talks to the escrow shares (the oracle, the HTTP
 * gateway), in the settings pattern of @argus/protocol's config-fields: where the chain
 * is, which escrow, and the deployment record that names both when they are not set.
 * One definition, so a variable means the same in every program.
 */
import { z } from "zod";
import type { Setting } from "@argus/protocol/config-fields";
import { DEFAULT_DEPLOYMENT_FILE, DEPLOYMENT_FILE_ENV } from "./deployment-file.ts";

export const addressSchema = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "an address is 0x followed by 40 hex digits");
export const privateKeySchema = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "a private key is 0x followed by 64 hex digits");

export const CHAIN_SETTINGS = {
  rpcUrl: { schema: z.url(), default: "http://127.0.0.1:8545", env: "ARGUS_RPC_URL", help: "JSON-RPC endpoint of the chain" },
  escrowAddress: {
    schema: addressSchema.optional(),
    default: undefined,
    env: "ARGUS_ESCROW_ADDRESS",
    help: "the PredictionEscrow (default: the deployment record)",
  },
  deploymentFile: {
    schema: z.string(),
    default: DEFAULT_DEPLOYMENT_FILE,
    shownDefault: "./.argus/deployment.json",
    env: DEPLOYMENT_FILE_ENV,
    help: "deployment record giving the escrow address, chain id and deployment block",
  },
} as const satisfies Record<string, Setting>;
