/** The oracle's signing account, from its configuration (see @argus/escrow/signing-key). */
import type { LocalAccount } from "viem";
import { type KeyVariables, loadAccount, SigningKeyError } from "@argus/escrow/signing-key";
import { ConfigError, type OracleConfig } from "./config.ts";

export const ORACLE_KEY_VARIABLES: KeyVariables = {
  privateKey: "ARGUS_ORACLE_PRIVATE_KEY",
  keystoreFile: "ARGUS_ORACLE_KEYSTORE",
  keystorePassword: "ARGUS_ORACLE_KEYSTORE_PASSWORD",
};

export async function loadOracleAccount(
  config: Pick<OracleConfig, "privateKey" | "keystoreFile" | "keystorePassword">,
): Promise<LocalAccount> {
  try {
    return await loadAccount(config, ORACLE_KEY_VARIABLES, "oracle key");
  } catch (error) {
    throw error instanceof SigningKeyError ? new ConfigError(error.message) : error;
  }
}
