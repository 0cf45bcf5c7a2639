/**
 * Node flags the oracle process runs with (`npm run oracle`; give them to any other
 * launcher of main.ts). V8 sizes its young generation for throughput: under a burst of
 * events it grows to 128 MB of semi-spaces while the live heap stays near 50 MB. Capping
 * the semi-space at 8 MB keeps the oracle with 10,000 queued requests at ~250 MB
 * resident instead of ~350 MB (npm run bench:oracle-memory), for more frequent but
 * cheap minor collections.
 */
export const ORACLE_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=8"];
