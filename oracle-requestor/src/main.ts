/**
 * Starts the oracle: `npm run oracle` (or `argus oracle start`). Configuration comes
 * from the environment and an optional JSON file; `--config FILE` names the file,
 * `--deployment FILE` the deployment record, and `--print-config-table` prints every
 * setting (the README's table), and `--doctor` runs the Golem preflight and prints one
 * line per check (exit 1 if one fails; `argus oracle doctor`). With `ARGUS_EXECUTOR=golem`
 * the same preflight runs before the oracle starts, and a failed check stops it (exit 1)
 * before any request is read. Unless the escrow address is configured, the chain and
 * IPFS endpoints and the eth_getLogs range come from the deployment record where neither
 * the environment nor the file sets them. SIGINT/SIGTERM stop it gracefully: running
 * chunks finish, the queue is left consistent.
 */
import { parseArgs } from "node:util";
import { deploymentFilePath, readDeploymentFile } from "@argus/escrow/deployment-file";
import { applyConfigDefaults, ConfigError, describeConfig, loadConfig } from "./config.ts";
import { withOracleNodeFlags } from "./node-flags.ts";
import { startOracle } from "./oracle.ts";

// The V8 flags only take effect when a process starts: become `node <flags> main.ts`,
// keeping the pid, so Ctrl-C, SIGTERM and supervisors reach the oracle directly.
const rerun = withOracleNodeFlags(process.execArgv, process.argv.slice(1));
if (rerun !== undefined && typeof process.execve === "function")
  process.execve(process.execPath, [process.execPath, ...rerun], process.env);

const { values } = parseArgs({
  options: {
    config: { type: "string" },
    deployment: { type: "string" },
    "print-config-table": { type: "boolean" },
    doctor: { type: "boolean" },
    "offer-wait-seconds": { type: "string" },
  },
});
if (values["print-config-table"]) {
  console.log(describeConfig());
  process.exit(0);
}

try {
  const env = process.env;
  const configFile = values.config ?? env.ARGUS_ORACLE_CONFIG;
  if (values.deployment) env.ARGUS_DEPLOYMENT_FILE = values.deployment;
  if (!env.ARGUS_ESCROW_ADDRESS) {
    // A missing record is reported by startOracle, which needs it for the escrow address.
    const record = await readDeploymentFile(deploymentFilePath(env)).catch(() => undefined);
    if (record) {
      const { rpcUrl, logRangeBlocks } = record.chain;
      applyConfigDefaults(
        env,
        { rpcUrl, ipfsApi: record.ipfs.apiUrl, ...(logRangeBlocks === undefined ? {} : { logRangeBlocks }) },
        configFile,
      );
    }
  }
  const config = loadConfig(env, {}, configFile);
  if (values.doctor || config.executor === "golem") {
    const { formatPreflight, runGolemPreflight } = await import("./service/golem-preflight.ts");
    const { preflightPassed } = await import("./executors/golem/preflight.ts");
    const wait = Number(values["offer-wait-seconds"]);
    const checks = await runGolemPreflight(config, Number.isFinite(wait) && wait > 0 ? { offerWaitMs: wait * 1000 } : {});
    const passed = preflightPassed(checks);
    if (values.doctor) {
      console.log(formatPreflight(checks));
      process.exit(passed ? 0 : 1);
    }
    console.error(formatPreflight(checks));
    if (!passed) {
      console.error("golem preflight failed: the oracle does not start (`argus oracle doctor` repeats the checks)");
      process.exit(1);
    }
  }
  const oracle = await startOracle(config);
  process.stdout.write(
    `${JSON.stringify({ event: "ready", escrow: oracle.escrow, chainId: oracle.chainId, oracle: oracle.oracleAddress, status: oracle.statusUrl })}\n`,
  );
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
