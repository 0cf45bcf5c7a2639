/**
 * The node's blockstore: one file per block under `<dataDir>/blocks`, in the same
 * layout as blockstore-fs (and Kubo's flatfs), with two guarantees blockstore-fs does
 * not give:
 *
 * - **No corrupt block after a crash.** A block is written to a uniquely named file in
 *   `.incoming/`, fsynced, then renamed into place, so its final name only ever holds
 *   the complete bytes. (blockstore-fs, through steno, reuses one temporary name per
 *   block, so two concurrent writes of the same block can rename a half-written file
 *   into place.) Leftovers of a killed write are swept away on open.
 * - **Every read is verified.** The bytes are hashed and compared with the CID's
 *   multihash before anyone sees them; a block that fails is moved to `.corrupt/` (so
 *   adding the content again repairs it) and the read fails with CorruptBlockError.
 *   Helia only verifies blocks that arrive from the network.
 */
import { createHash, randomUUID } from "node:crypto";
import { mkdir, open, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { FsBlockstore } from "blockstore-fs";
import type { Blockstore, InputPair, Pair } from "interface-blockstore";
import { base32upper } from "multiformats/bases/base32";
import { CID } from "multiformats/cid";
import { collectBytes } from "./bytes.ts";

type AbortOptions = { signal?: AbortSignal };
type BlockInput = InputPair["bytes"];

const SHA2_256 = 0x12;
const SHA2_512 = 0x13;
const NODE_HASH_NAMES = new Map([
  [SHA2_256, "sha256"],
  [SHA2_512, "sha512"],
]);

/** Multihash codes this node can verify, and therefore store. */
export function isSupportedMultihash(code: number): boolean {
  return NODE_HASH_NAMES.has(code);
}

export class CorruptBlockError extends Error {
  override name = "CorruptBlockError";
}

export class BlockHashMismatchError extends Error {
  override name = "BlockHashMismatchError";
}

/**
 * The identity of a block: its multihash. A CIDv0 and a CIDv1 (raw or dag-pb) of the
 * same bytes name one stored block.
 */
export function blockKey(cid: CID): string {
  return base32upper.encode(cid.multihash.bytes);
}

/** True when `bytes` hash to the multihash in `cid`. */
export function blockMatchesCid(cid: CID, bytes: Uint8Array): boolean {
  const hashName = NODE_HASH_NAMES.get(cid.multihash.code);
  if (hashName === undefined) {
    throw new BlockHashMismatchError(`cannot verify ${cid}: multihash 0x${cid.multihash.code.toString(16)} is not supported`);
  }
  const digest = createHash(hashName).update(bytes).digest();
  return Buffer.compare(digest, cid.multihash.digest) === 0;
}

/** The flatfs "next-to-last/2" naming: base32 multihash, sharded by its last two characters. */
const sharding = {
  extension: ".data",
  encode(cid: CID): { dir: string; file: string } {
    const name = base32upper.encoder.encode(cid.multihash.bytes);
    return { dir: name.slice(-2), file: `${name}.data` };
  },
  decode(path: string): CID {
    return CID.decode(base32upper.decoder.decode(basename(path, ".data")));
  },
};

export interface VerifiedFsBlockstoreInit {
  /** Called after a block is durably stored (or found already stored) under `cid`. */
  onStored?: (cid: CID) => void;
}

export class VerifiedFsBlockstore implements Blockstore {
  readonly root: string;
  readonly #files: FsBlockstore;
  readonly #incomingDir: string;
  readonly #corruptDir: string;
  readonly #onStored: (cid: CID) => void;

  constructor(root: string, init: VerifiedFsBlockstoreInit = {}) {
    this.root = root;
    this.#files = new FsBlockstore(root, { shardingStrategy: sharding });
    this.#incomingDir = join(root, ".incoming");
    this.#corruptDir = join(root, ".corrupt");
    this.#onStored = init.onStored ?? (() => {});
  }

  async open(): Promise<void> {
    await this.#files.open();
    // Whatever is here was being written when the process died: never part of the store.
    await rm(this.#incomingDir, { recursive: true, force: true });
    await mkdir(this.#incomingDir, { recursive: true });
    await this.#removeStenoLeftovers();
  }

  async close(): Promise<void> {
    await this.#files.close();
  }

  async has(cid: CID, options?: AbortOptions): Promise<boolean> {
    return this.#files.has(cid, options);
  }

  async put(cid: CID, input: BlockInput, options?: AbortOptions): Promise<CID> {
    const bytes = await collectBytes(input);
    if (!blockMatchesCid(cid, bytes)) {
      throw new BlockHashMismatchError(`refusing to store ${cid}: its bytes hash to something else`);
    }
    const target = this.#pathOf(cid);
    if (!(await isFile(target))) {
      options?.signal?.throwIfAborted();
      const incoming = join(this.#incomingDir, `${randomUUID()}.tmp`);
      const handle = await open(incoming, "wx");
      try {
        await handle.writeFile(bytes);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await mkdir(dirname(target), { recursive: true });
      await rename(incoming, target);
    }
    this.#onStored(cid);
    return cid;
  }

  async *putMany(source: Iterable<InputPair> | AsyncIterable<InputPair>, options?: AbortOptions): AsyncGenerator<CID> {
    for await (const { cid, bytes } of source) {
      yield await this.put(cid, bytes, options);
    }
  }

  async *get(cid: CID, options?: AbortOptions): AsyncGenerator<Uint8Array> {
    yield await this.getBytes(cid, options);
  }

  /** The whole verified block. */
  async getBytes(cid: CID, options?: AbortOptions): Promise<Uint8Array> {
    const path = this.#pathOf(cid);
    let bytes: Uint8Array;
    try {
      bytes = await readFile(path, { signal: options?.signal });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") {
        throw Object.assign(new Error(`block ${cid} is not stored here`), { name: "NotFoundError" });
      }
      throw error;
    }
    if (!blockMatchesCid(cid, bytes)) {
      await this.#quarantine(path);
      throw new CorruptBlockError(`block ${cid} on disk does not match its hash; moved it to ${this.#corruptDir}`);
    }
    return bytes;
  }

  async *getMany(source: Iterable<CID> | AsyncIterable<CID>, options?: AbortOptions): AsyncGenerator<Pair> {
    for await (const cid of source) {
      yield { cid, bytes: this.get(cid, options) };
    }
  }

  async delete(cid: CID, options?: AbortOptions): Promise<void> {
    await this.#files.delete(cid, options);
  }

  async *deleteMany(source: Iterable<CID> | AsyncIterable<CID>, options?: AbortOptions): AsyncGenerator<CID> {
    yield* this.#files.deleteMany(source, options);
  }

  /** Every stored block, unverified (for garbage collection and inspection). */
  getAll(options?: AbortOptions): AsyncGenerator<Pair> {
    return this.#files.getAll(options) as AsyncGenerator<Pair>;
  }

  #pathOf(cid: CID): string {
    const { dir, file } = sharding.encode(cid);
    return join(this.root, dir, file);
  }

  async #quarantine(path: string): Promise<void> {
    await mkdir(this.#corruptDir, { recursive: true });
    await rename(path, join(this.#corruptDir, `${basename(path)}.${Date.now()}`)).catch(() => {});
  }

  /** A data directory once written by plain blockstore-fs may hold its `.NAME.data.tmp` files. */
  async #removeStenoLeftovers(): Promise<void> {
    for (const entry of await readdir(this.root, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name.startsWith(".")) continue;
      const shard = join(this.root, entry.name);
      for (const name of await readdir(shard)) {
        if (name.startsWith(".") && name.endsWith(".tmp")) await rm(join(shard, name), { force: true });
      }
    }
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
