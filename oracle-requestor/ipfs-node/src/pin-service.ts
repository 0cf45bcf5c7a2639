/**
 * Kubo's pin semantics on top of Helia's pins.
 *
 * - Pinning is idempotent, and a recursive pin replaces a direct one (Kubo does both;
 *   Helia throws AlreadyPinnedError).
 * - Pin changes run one at a time. Helia updates per-block pin counts with
 *   read-modify-write, so two concurrent uploads of the same image would otherwise
 *   lose a count and a later unpin of one would unprotect the other's blocks.
 * - Helia keys pins by CIDv1; the version the caller pinned is kept in the pin's
 *   metadata so listings show `Qm…` for what was added as `Qm…`, as Kubo does.
 */
import type { Helia } from "helia";
import type { CID } from "multiformats/cid";
import { blockKey } from "./block-store.ts";
import { sequentialDepthFirstWalker } from "./dag-walker.ts";
import { RpcError } from "./rpc/errors.ts";

export type PinType = "recursive" | "direct" | "indirect";
export type PinTypeFilter = PinType | "all";

export interface PinEntry {
  cid: CID;
  type: PinType;
  name?: string;
}

interface StoredPin {
  depth: number;
  metadata: Record<string, string | number | boolean>;
}

const METADATA_VERSION = "cidVersion";
const METADATA_NAME = "name";
/** See dag-walker.ts for why Helia's default walker is not used. */
const WALKER = sequentialDepthFirstWalker();

export class PinService {
  readonly #helia: Helia;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(helia: Helia) {
    this.#helia = helia;
  }

  /** Pins `cid` (and with `recursive` everything below it); waits for missing blocks until `signal` aborts. */
  async pin(cid: CID, options: { recursive?: boolean; name?: string; signal?: AbortSignal } = {}): Promise<void> {
    const recursive = options.recursive ?? true;
    await this.#exclusive(async () => {
      const existing = await this.#stored(cid, options.signal);
      if (existing !== undefined) {
        const existingRecursive = existing.depth === Infinity;
        if (existingRecursive && !recursive) throw new RpcError(`pin: ${cid} already pinned recursively`);
        if (existingRecursive === recursive) return;
        // Upgrade a direct pin to a recursive one.
        await drain(this.#helia.pins.rm(cid, { signal: options.signal, walker: WALKER }));
      }
      // Load (or wait for) every block first: Helia counts a block as pinned as soon as its
      // walk reaches it, so a walk that fails half-way would leave counts with no pin.
      const depth = recursive ? Infinity : 0;
      const walker = WALKER({ blockstore: this.#helia.blockstore, getCodec: this.#helia.getCodec });
      await drain(walker.walk(cid, { depth, signal: options.signal }));
      const metadata: Record<string, string | number> = { [METADATA_VERSION]: cid.version };
      if (options.name) metadata[METADATA_NAME] = options.name;
      await drain(this.#helia.pins.add(cid, { depth, metadata, signal: options.signal, walker: WALKER }));
    });
  }

  /** Removes the pin on `cid`; Kubo's errors when it is not pinned (or pinned differently). */
  async unpin(cid: CID, options: { recursive?: boolean; signal?: AbortSignal } = {}): Promise<void> {
    const recursive = options.recursive ?? true;
    await this.#exclusive(async () => {
      const existing = await this.#stored(cid, options.signal);
      if (existing === undefined) throw new RpcError("not pinned or pinned indirectly");
      if (existing.depth === Infinity && !recursive) throw new RpcError(`${cid} is pinned recursively`);
      await drain(this.#helia.pins.rm(cid, { signal: options.signal, walker: WALKER }));
    });
  }

  /** The pin on each of `cids`, or an error naming the first that is not pinned as `type` asks. */
  async lookup(cids: CID[], type: PinTypeFilter, signal?: AbortSignal): Promise<PinEntry[]> {
    const entries: PinEntry[] = [];
    for (const cid of cids) {
      const stored = await this.#stored(cid, signal);
      const entry = stored === undefined ? undefined : toEntry(cid, stored);
      if (entry !== undefined && (type === "all" || type === entry.type)) {
        entries.push(entry);
      } else if ((type === "all" || type === "indirect") && (await this.#helia.pins.isPinned(cid, { signal }))) {
        entries.push({ cid, type: "indirect" });
      } else {
        throw new RpcError(`path '${cid}' is not pinned${type === "all" ? "" : ` as ${type}`}`);
      }
    }
    return entries;
  }

  /** Every pin of `type`; indirect pins are the blocks below recursive pins that are not pinned themselves. */
  async *list(type: PinTypeFilter, signal?: AbortSignal): AsyncGenerator<PinEntry> {
    const recursiveRoots: CID[] = [];
    const explicitlyPinned = new Set<string>();
    for await (const pin of this.#helia.pins.ls({ signal })) {
      const entry = toEntry(pin.cid, pin);
      explicitlyPinned.add(blockKey(pin.cid));
      if (entry.type === "recursive") recursiveRoots.push(pin.cid);
      if (type === "all" || type === entry.type) yield entry;
    }
    if (type !== "all" && type !== "indirect") return;
    const walker = WALKER({ blockstore: this.#helia.blockstore, getCodec: this.#helia.getCodec });
    const reported = new Set<string>();
    for (const root of recursiveRoots) {
      for await (const node of walker.walk(root, { signal })) {
        const key = blockKey(node.block.cid);
        if (explicitlyPinned.has(key) || reported.has(key)) continue;
        reported.add(key);
        yield { cid: node.block.cid, type: "indirect" };
      }
    }
  }

  async #stored(cid: CID, signal?: AbortSignal): Promise<StoredPin | undefined> {
    try {
      return await this.#helia.pins.get(cid, { signal });
    } catch (error) {
      if ((error as Error).name === "NotFoundError") return undefined;
      throw error;
    }
  }

  async #exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task, task);
    this.#queue = run.catch(() => {});
    return run;
  }
}

function toEntry(cid: CID, pin: StoredPin): PinEntry {
  const entry: PinEntry = {
    cid: pin.metadata[METADATA_VERSION] === 0 && cid.code === 0x70 ? cid.toV0() : cid,
    type: pin.depth === Infinity ? "recursive" : "direct",
  };
  const name = pin.metadata[METADATA_NAME];
  if (typeof name === "string") entry.name = name;
  return entry;
}

async function drain(source: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of source) {
    // consuming the generator is what performs the work
  }
}
