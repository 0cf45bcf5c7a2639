/**
 * A depth-first DAG walker for pinning and pin listings.
 *
 * Helia's own walkers (@helia/utils) run their block loads in a job queue and
 * re-throw a failed load into their generator with `gen.throw()`, which leaves an
 * unhandled promise rejection behind: pinning a CID whose blocks never arrive would
 * crash the node. This walker loads blocks one after another in the generator
 * itself, so a failure is an ordinary exception for the caller.
 */
import type { GraphNode, GraphWalkerFactory } from "helia";
import { createUnsafe } from "multiformats/block";
import type { CID } from "multiformats/cid";
import { collectBytes } from "./bytes.ts";

export function sequentialDepthFirstWalker(): GraphWalkerFactory {
  return (components) => ({
    async *walk<T = unknown>(root: CID, options: { depth?: number; signal?: AbortSignal } = {}): AsyncGenerator<GraphNode<T>> {
      const maxDepth = options.depth ?? Infinity;
      const pending: Array<{ cid: CID; depth: number; path: CID[] }> = [{ cid: root, depth: 0, path: [root] }];
      while (pending.length > 0) {
        const { cid, depth, path } = pending.pop()!;
        options.signal?.throwIfAborted();
        const bytes = await collectBytes(components.blockstore.get(cid, options));
        const block = createUnsafe({ cid, bytes, codec: await components.getCodec(cid.code) });
        yield { block, depth, path } as unknown as GraphNode<T>;
        if (depth >= maxDepth) continue;
        // Pushed in reverse so that children are visited in link order.
        const children = [...block.links()].map(([, child]) => child).reverse();
        for (const child of children) pending.push({ cid: child, depth: depth + 1, path: [...path, child] });
      }
    },
  });
}
