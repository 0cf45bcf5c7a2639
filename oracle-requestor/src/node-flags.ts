/**
 * Node flags the oracle process runs with. V8 sizes its young generation for
 * throughput: under a burst of events it grows to 128 MB of semi-spaces while the live
 * heap stays near 50 MB. Capping the semi-space at 8 MB keeps the oracle with 10,000
 * queued requests at ~250 MB resident instead of ~350 MB (npm run bench:oracle-memory),
 * for more frequent but cheap minor collections. main.ts adds them itself when started
 * without them, so every launcher (`npm run oracle`, `argus oracle start`, a supervisor)
 * gets them.
 */
export const ORACLE_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=8"];

/**
 * The node arguments that rerun `argv` (script and its arguments) with the oracle's
 * flags; undefined when `execArgv` already sets each of them (to any value: a launcher
 * that chose another semi-space size, like bench:oracle-memory's baseline, keeps it).
 */
export function withOracleNodeFlags(execArgv: readonly string[], argv: readonly string[]): string[] | undefined {
  const name = (flag: string) => flag.split("=")[0];
  const missing = ORACLE_NODE_FLAGS.filter((flag) => !execArgv.some((given) => name(given) === name(flag)));
  return missing.length === 0 ? undefined : [...execArgv, ...missing, ...argv];
}
