/**
 * Signing keys: a raw private key or an encrypted JSON keystore (Web3 Secret Storage v3,
 * the format geth, Foundry's `cast wallet` and ethers write) with its password. The
 * oracle reads ARGUS_ORACLE_PRIVATE_KEY or ARGUS_ORACLE_KEYSTORE +
 * ARGUS_ORACLE_KEYSTORE_PASSWORD; the `argus` CLI the same without ORACLE_ (see
 * KeyVariables). Node only (`@argus/escrow/signing-key`): the keystore is decrypted
 * with node:crypto (scrypt or PBKDF2, AES-128-CTR) and its MAC checked with keccak256.
 */
import { createDecipheriv, pbkdf2Sync, scryptSync } from "node:crypto";
import { readFile } from "node:fs/promises";
import { bytesToHex, concat, type Hex, keccak256, type LocalAccount } from "viem";
import { privateKeyToAccount } from "viem/accounts";

/** No key, or one that cannot be read or decrypted: a configuration problem, with the variables to set. */
export class SigningKeyError extends Error {
  override name = "SigningKeyError";
}

export interface KeySource {
  privateKey?: string | undefined;
  keystoreFile?: string | undefined;
  keystorePassword?: string | undefined;
}

/** The environment variables a key source is read from, named in error messages. */
export interface KeyVariables {
  privateKey: string;
  keystoreFile: string;
  keystorePassword: string;
}

export async function loadAccount(source: KeySource, names: KeyVariables, what = "key"): Promise<LocalAccount> {
  if (source.privateKey) return privateKeyToAccount(source.privateKey as Hex);
  if (!source.keystoreFile) {
    throw new SigningKeyError(`no ${what}: set ${names.privateKey}, or ${names.keystoreFile} and ${names.keystorePassword}`);
  }
  if (source.keystorePassword === undefined) throw new SigningKeyError(`${names.keystoreFile} is set but ${names.keystorePassword} is not`);
  const json = await readFile(source.keystoreFile, "utf8").catch((error: Error) => {
    throw new SigningKeyError(`cannot read the keystore ${source.keystoreFile}: ${error.message}`);
  });
  try {
    return privateKeyToAccount(decryptKeystore(json, source.keystorePassword));
  } catch (error) {
    throw new SigningKeyError(`cannot decrypt the keystore ${source.keystoreFile}: ${(error as Error).message}`);
  }
}

interface KeystoreV3 {
  version: number;
  crypto?: KeystoreCrypto;
  Crypto?: KeystoreCrypto;
}
interface KeystoreCrypto {
  cipher: string;
  ciphertext: string;
  cipherparams: { iv: string };
  kdf: string;
  kdfparams: { dklen: number; salt: string; n?: number; r?: number; p?: number; c?: number; prf?: string };
  mac: string;
}

/** The private key in a v3 keystore; throws on a wrong password (MAC mismatch) or an unsupported format. */
export function decryptKeystore(json: string, password: string): Hex {
  const keystore = JSON.parse(json) as KeystoreV3;
  const crypto = keystore.crypto ?? keystore.Crypto;
  if (keystore.version !== 3 || crypto === undefined) throw new Error("not a version 3 keystore");
  if (crypto.cipher !== "aes-128-ctr") throw new Error(`unsupported cipher ${crypto.cipher}`);
  const { kdfparams } = crypto;
  const salt = Buffer.from(kdfparams.salt, "hex");
  let derived: Buffer;
  if (crypto.kdf === "scrypt") {
    const { n = 0, r = 0, p = 0 } = kdfparams;
    derived = scryptSync(password.normalize("NFKC"), salt, kdfparams.dklen, { N: n, r, p, maxmem: 128 * n * r + 64 * 1024 * 1024 });
  } else if (crypto.kdf === "pbkdf2" && kdfparams.prf === "hmac-sha256") {
    derived = pbkdf2Sync(password.normalize("NFKC"), salt, kdfparams.c ?? 0, kdfparams.dklen, "sha256");
  } else {
    throw new Error(`unsupported key derivation ${crypto.kdf}`);
  }
  const ciphertext = Buffer.from(crypto.ciphertext, "hex");
  const mac = keccak256(concat([derived.subarray(16, 32), ciphertext]));
  if (mac.slice(2).toLowerCase() !== crypto.mac.toLowerCase()) throw new Error("wrong password (the keystore's MAC does not match)");
  const decipher = createDecipheriv("aes-128-ctr", derived.subarray(0, 16), Buffer.from(crypto.cipherparams.iv, "hex"));
  return bytesToHex(Buffer.concat([decipher.update(ciphertext), decipher.final()]));
}
