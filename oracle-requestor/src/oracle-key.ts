/**
 * The oracle's signing key: a raw private key (ARGUS_ORACLE_PRIVATE_KEY) or an
 * encrypted JSON keystore (ARGUS_ORACLE_KEYSTORE + ARGUS_ORACLE_KEYSTORE_PASSWORD), the
 * format geth, Foundry's `cast wallet` and ethers write.
 */
import { readFile } from "node:fs/promises";
import { Wallet } from "ethers";
import { type LocalAccount } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { ConfigError, type OracleConfig } from "./config.ts";

export async function loadOracleAccount(config: Pick<OracleConfig, "privateKey" | "keystoreFile" | "keystorePassword">): Promise<LocalAccount> {
  if (config.privateKey) return privateKeyToAccount(config.privateKey as `0x${string}`);
  if (!config.keystoreFile) {
    throw new ConfigError("no oracle key: set ARGUS_ORACLE_PRIVATE_KEY, or ARGUS_ORACLE_KEYSTORE and ARGUS_ORACLE_KEYSTORE_PASSWORD");
  }
  if (config.keystorePassword === undefined) throw new ConfigError("ARGUS_ORACLE_KEYSTORE is set but ARGUS_ORACLE_KEYSTORE_PASSWORD is not");
  const json = await readFile(config.keystoreFile, "utf8").catch((error: Error) => {
    throw new ConfigError(`cannot read the keystore ${config.keystoreFile}: ${error.message}`);
  });
  const wallet = await Wallet.fromEncryptedJson(json, config.keystorePassword).catch((error: Error) => {
    throw new ConfigError(`cannot decrypt the keystore ${config.keystoreFile}: ${error.message}`);
  });
  return privateKeyToAccount(wallet.privateKey as `0x${string}`);
}
