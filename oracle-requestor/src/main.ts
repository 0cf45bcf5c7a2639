/**
 * Starts the oracle: `npm run oracle` (or `argus oracle start`). Configuration comes
 * from the environment and an optional JSON file; `--config FILE` names the file and
 * `--print-config-table` prints every setting (the README's table). SIGINT/SIGTERM stop
 * it gracefully: running chunks finish, the queue is left consistent.
 */
import { parseArgs } from "node:util";
import { ConfigError, describeConfig, loadConfig } from "./config.ts";
import { startOracle } from "./oracle.ts";

const { values } = parseArgs({ options: { config: { type: "string" }, "print-config-table": { type: "boolean" } } });
if (values["print-config-table"]) {
  console.log(describeConfig());
  process.exit(0);
}

try {
  const config = loadConfig(process.env, {}, values.config ?? process.env.ARGUS_ORACLE_CONFIG);
  const oracle = await startOracle(config);
  process.stdout.write(`${JSON.stringify({ event: "ready", escrow: oracle.escrow, chainId: oracle.chainId, oracle: oracle.oracleAddress, status: oracle.statusUrl })}\n`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    oracle.log.info({ signal }, "stopping");
    oracle.stop().then(
      () => process.exit(0),
      (error: Error) => {
        oracle.log.error({ err: error.message }, "unclean stop");
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(2);
  }
  throw error;
}
