/**
 * `argus oracle start [--config FILE] [--print-config-table]`: runs the oracle service in
 * this process, exactly as `npm run oracle` does, with the chain and IPFS endpoints and
 * the chain's eth_getLogs range taken from the deployment record, unless the
 * environment or the configuration file sets them.
 */
import { fileURLToPath } from "node:url";
import { applyConfigDefaults } from "../../config.ts";
import { DEPLOYMENT_FILE_ENV, deploymentFilePath, readDeploymentFile } from "../../deployment-file.ts";
import { ORACLE_NODE_FLAGS } from "../../node-flags.ts";
import { noPositionals, parseCommand } from "../args.ts";
import type { Command } from "../command.ts";

const USAGE = `usage: argus oracle start [--config <file>] [--print-config-table] [--deployment <file>]

Runs the oracle until Ctrl-C (SIGINT/SIGTERM stop it gracefully). Configuration: the
environment (ARGUS_ORACLE_PRIVATE_KEY, ARGUS_EXECUTOR, …; --print-config-table lists
every setting) and an optional JSON file. The escrow, chain RPC and IPFS API come from
the deployment record unless set explicitly.`;

const ORACLE_MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));

export const oracleStartCommand: Command = {
  usage: USAGE,
  async run(argv, io) {
    const { values, positionals } = parseCommand(argv, { config: { type: "string" }, "print-config-table": { type: "boolean", default: false } });
    noPositionals(positionals);
    const env = io.env;
    if (values.deployment) env[DEPLOYMENT_FILE_ENV] = values.deployment;
    if (!values["print-config-table"] && !env.ARGUS_ESCROW_ADDRESS) {
      const record = await readDeploymentFile(deploymentFilePath(env));
      applyConfigDefaults(
        env,
        { rpcUrl: record.chain.rpcUrl, ipfsApi: record.ipfs.apiUrl, ...(record.chain.logRangeBlocks === undefined ? {} : { logRangeBlocks: record.chain.logRangeBlocks }) },
        values.config ?? env.ARGUS_ORACLE_CONFIG,
      );
    }
    const mainArgs = [...(values.config ? ["--config", values.config] : []), ...(values["print-config-table"] ? ["--print-config-table"] : [])];
    const exec = oracleExec(process.execArgv, mainArgs);
    if (exec !== undefined && typeof process.execve === "function") {
      // The oracle's V8 flags (node-flags.ts) only take effect when a process starts, so
      // this process becomes `node <flags> main.ts`: the same pid, so Ctrl-C, SIGTERM and
      // supervisors reach the oracle directly.
      process.execve(process.execPath, [process.execPath, ...exec], env);
    }
    // Already running with the flags (or no execve on this platform): main.ts reads its
    // arguments from process.argv and owns the process from here (signals, exit).
    process.argv = [process.argv[0]!, ORACLE_MAIN, ...mainArgs];
    await import(ORACLE_MAIN);
    return new Promise<number>(() => {}); // runs until main.ts exits the process
  },
};

/** The node arguments that start main.ts with the oracle's flags; undefined when `execArgv` has them all. */
export function oracleExec(execArgv: readonly string[], mainArgs: readonly string[]): string[] | undefined {
  if (ORACLE_NODE_FLAGS.every((flag) => execArgv.includes(flag))) return undefined;
  return [...execArgv, ...ORACLE_NODE_FLAGS.filter((flag) => !execArgv.includes(flag)), ORACLE_MAIN, ...mainArgs];
}
