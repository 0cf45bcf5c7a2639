/**
 * The node's data directory:
 *
 *   <dataDir>/blocks/       one file per block, named by multihash (the flatfs "next-to-last/2" layout Kubo uses)
 *   <dataDir>/datastore/    pins and other records (datastore-fs)
 *   <dataDir>/identity.key  the node's Ed25519 key in libp2p protobuf form, so its peer ID survives restarts
 *   <dataDir>/repo.lock     the PID of the process using the directory
 *
 * Two processes writing the same blockstore and pin records would corrupt the pin
 * counts, so the lock refuses a second node while the first is alive. A lock left by
 * a process that died (SIGKILL, power loss) is taken over.
 */
import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from "@libp2p/crypto/keys";

/** The key type libp2p and the peer-ID helpers take. */
export type NodePrivateKey = ReturnType<typeof privateKeyFromProtobuf>;

export interface RepoPaths {
  dataDir: string;
  blocksDir: string;
  datastoreDir: string;
  identityFile: string;
  lockFile: string;
}

export function repoPaths(dataDir: string): RepoPaths {
  return {
    dataDir,
    blocksDir: join(dataDir, "blocks"),
    datastoreDir: join(dataDir, "datastore"),
    identityFile: join(dataDir, "identity.key"),
    lockFile: join(dataDir, "repo.lock"),
  };
}

export class RepoLockedError extends Error {
  override name = "RepoLockedError";
}

/** Takes the data directory for this process; the returned function gives it back. */
export async function lockRepo(paths: RepoPaths): Promise<() => Promise<void>> {
  await mkdir(paths.dataDir, { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(paths.lockFile, "wx");
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return async () => {
        await rm(paths.lockFile, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const holder = Number.parseInt(await readFile(paths.lockFile, "utf8").catch(() => ""), 10);
      if (Number.isInteger(holder) && holder !== process.pid && isProcessAlive(holder)) {
        throw new RepoLockedError(
          `the IPFS data directory ${paths.dataDir} is in use by process ${holder}; stop it or pass another --data-dir`,
        );
      }
      // The holder is gone (or the file is unreadable): the lock is stale.
      await rm(paths.lockFile, { force: true });
    }
  }
  throw new RepoLockedError(`could not take the lock ${paths.lockFile}`);
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The node's private key, created on first start and kept in the data directory. */
export async function loadOrCreateIdentity(paths: RepoPaths): Promise<NodePrivateKey> {
  try {
    return privateKeyFromProtobuf(await readFile(paths.identityFile));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
      throw new Error(`the node identity ${paths.identityFile} is unreadable: ${(error as Error).message}`);
    }
  }
  const key = await generateKeyPair("Ed25519");
  // Written to a temporary name and renamed, so a crash never leaves half a key behind.
  const temporary = `${paths.identityFile}.${randomBytes(6).toString("hex")}.tmp`;
  await writeFile(temporary, privateKeyToProtobuf(key), { mode: 0o600 });
  await rename(temporary, paths.identityFile);
  return key;
}
