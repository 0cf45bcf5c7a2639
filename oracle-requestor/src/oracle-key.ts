/**
 * Signing keys: a raw private key or an encrypted JSON keystore (the format geth,
 * Foundry's `cast wallet` and ethers write) with its password. The oracle reads
 * ARGUS_ORACLE_PRIVATE_KEY or ARGUS_ORACLE_KEYSTORE + ARGUS_ORACLE_KEYSTORE_PASSWORD;
 * the `argus` CLI the same without ORACLE_ (see KeyVariables).
 */
import { readFile } from "node:fs/promises";
import { Wallet } from "ethers";
import { type LocalAccount } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { ConfigError, type OracleConfig } from "./config.ts";

export type KeySource = Pick<OracleConfig, "privateKey" | "keystoreFile" | "keystorePassword">;

/** The environment variables a key source is read from, named in error messages. */
export interface KeyVariables {
  privateKey: string;
  keystoreFile: string;
  keystorePassword: string;
}

export const ORACLE_KEY_VARIABLES: KeyVariables = {
  privateKey: "ARGUS_ORACLE_PRIVATE_KEY",
  keystoreFile: "ARGUS_ORACLE_KEYSTORE",
  keystorePassword: "ARGUS_ORACLE_KEYSTORE_PASSWORD",
};

export async function loadOracleAccount(config: KeySource): Promise<LocalAccount> {
  return loadAccount(config, ORACLE_KEY_VARIABLES, "oracle key");
}

export async function loadAccount(source: KeySource, names: KeyVariables, what = "key"): Promise<LocalAccount> {
  if (source.privateKey) return privateKeyToAccount(source.privateKey as `0x${string}`);
  if (!source.keystoreFile) {
    throw new ConfigError(`no ${what}: set ${names.privateKey}, or ${names.keystoreFile} and ${names.keystorePassword}`);
  }
  if (source.keystorePassword === undefined) throw new ConfigError(`${names.keystoreFile} is set but ${names.keystorePassword} is not`);
  const json = await readFile(source.keystoreFile, "utf8").catch((error: Error) => {
    throw new ConfigError(`cannot read the keystore ${source.keystoreFile}: ${error.message}`);
  });
  const wallet = await Wallet.fromEncryptedJson(json, source.keystorePassword).catch((error: Error) => {
    throw new ConfigError(`cannot decrypt the keystore ${source.keystoreFile}: ${error.message}`);
  });
  return privateKeyToAccount(wallet.privateKey as `0x${string}`);
}
