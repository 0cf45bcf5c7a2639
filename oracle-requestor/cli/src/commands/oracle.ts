/**
 * `argus oracle doctor`: the oracle's Golem preflight on demand (its main with `--doctor`),
 * one line per check, exit 1 if one fails.
 *
 * `argus oracle start [--config FILE] [--print-config-table]`: runs the oracle service
 * (the @argus/oracle package's main) in place of this process, exactly as
 * `npm run oracle` does. The oracle takes the chain and IPFS endpoints and the chain's
 * eth_getLogs range from the deployment record, unless the environment or the
 * configuration file sets them.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { noPositionals, parseCommand, UsageError } from "../args.ts";
import type { Command } from "../command.ts";

const USAGE = `usage: argus oracle start [--config <file>] [--print-config-table] [--deployment <file>]

Runs the oracle until Ctrl-C (SIGINT/SIGTERM stop it gracefully). Configuration: the
environment (ARGUS_ORACLE_PRIVATE_KEY, ARGUS_EXECUTOR, …; --print-config-table lists
every setting) and an optional JSON file. The escrow, chain RPC and IPFS API come from
the deployment record unless set explicitly.`;

export const ORACLE_MAIN = fileURLToPath(import.meta.resolve("@argus/oracle/main"));

export const oracleStartCommand: Command = {
  usage: USAGE,
  async run(argv, io, _settings) {
    const { values, positionals } = parseCommand(argv, {
      config: { type: "string" },
      "print-config-table": { type: "boolean", default: false },
    });
    noPositionals(positionals);
    const args = oracleArgs(values);
    if (typeof process.execve === "function") {
      // The same pid: Ctrl-C, SIGTERM and supervisors reach the oracle directly.
      process.execve(process.execPath, [process.execPath, ...args], io.env);
    }
    const child = spawn(process.execPath, args, { env: io.env, stdio: "inherit" });
    for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => child.kill(signal));
    return new Promise<number>((resolve) => child.on("exit", (code) => resolve(code ?? 1)));
  },
};

const DOCTOR_USAGE = `usage: argus oracle doctor [--config <file>] [--deployment <file>] [--offer-wait <seconds>]

Checks what the Golem executor needs, with the oracle's own configuration (as
\`argus oracle start\` would read it): yagna reachable and at least 0.17.4, an account
that can fund one allocation of ARGUS_GOLEM_BUDGET_GLM, every model's provider image
resolving, and an offer matching the demand within --offer-wait seconds (default 60).
One line per check, saying what to do when it fails; exit status 1 if one fails. The
oracle runs the same checks before it starts with ARGUS_EXECUTOR=golem.`;

export const oracleDoctorCommand: Command = {
  usage: DOCTOR_USAGE,
  async run(argv, io, _settings) {
    const { values, positionals } = parseCommand(argv, {
      config: { type: "string" },
      "offer-wait": { type: "string" },
    });
    noPositionals(positionals);
    const wait = values["offer-wait"];
    if (wait !== undefined && !(Number(wait) > 0)) throw new UsageError(`--offer-wait takes a number of seconds, not ${wait}`);
    const args = [...oracleArgs(values), "--doctor", ...(wait ? ["--offer-wait-seconds", wait] : [])];
    const child = spawn(process.execPath, args, { env: io.env, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.setEncoding("utf8").on("data", (text: string) => io.stdout.write(text));
    child.stderr.setEncoding("utf8").on("data", (text: string) => io.stderr.write(text));
    return new Promise<number>((resolve) => child.on("close", (code) => resolve(code ?? 1)));
  },
};

/** `main.ts` and the arguments that pass this command's options on to it. */
export function oracleArgs(values: { config?: string; deployment?: string; "print-config-table"?: boolean }): string[] {
  return [
    ORACLE_MAIN,
    ...(values.config ? ["--config", values.config] : []),
    ...(values.deployment ? ["--deployment", values.deployment] : []),
    ...(values["print-config-table"] ? ["--print-config-table"] : []),
  ];
}
