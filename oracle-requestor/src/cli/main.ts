#!/usr/bin/env node
/**
 * `argus`: the command line for Argus — `npx argus <command>` in the repository.
 * One module per command (commands/); this file only dispatches and turns failures
 * into one line on stderr and an exit code (command.ts lists them).
 */
import { DeploymentError } from "../deployment-record.ts";
import { UsageError } from "./args.ts";
import { type Command, EXIT } from "./command.ts";
import { eventsCommand } from "./commands/events.ts";
import { modelsAddCommand, modelsListCommand } from "./commands/models.ts";
import { oracleStartCommand } from "./commands/oracle.ts";
import { reclaimCommand } from "./commands/reclaim.ts";
import { requestCommand } from "./commands/request.ts";
import { resultCommand } from "./commands/result.ts";
import { withdrawCommand } from "./commands/withdraw.ts";
import { firstLine } from "./context.ts";
import { type Io, processIo } from "./output.ts";

export const COMMANDS: readonly Command[] = [
  modelsListCommand,
  modelsAddCommand,
  requestCommand,
  resultCommand,
  eventsCommand,
  reclaimCommand,
  withdrawCommand,
  oracleStartCommand,
];

export function usage(): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length));
  return [
    "usage: npx argus <command> [options]",
    "",
    ...COMMANDS.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
    "",
    "Every command takes --json (machine-readable output), --deployment <file> (default:",
    "ARGUS_DEPLOYMENT_FILE or .argus/deployment.json, written by `npm start`) and --help.",
    "Keys: ARGUS_PRIVATE_KEY, or ARGUS_KEYSTORE and ARGUS_KEYSTORE_PASSWORD.",
    "Exit codes: 0 done, 1 failed, 2 bad arguments, 3 request rejected or expired (when waiting).",
  ].join("\n");
}

/** Finds the command `argv` names (one or two words); undefined when none matches. */
function findCommand(argv: readonly string[]): { command: Command; rest: string[] } | undefined {
  for (const words of [2, 1]) {
    const name = argv.slice(0, words).join(" ");
    const command = COMMANDS.find((candidate) => candidate.name === name);
    if (command) return { command, rest: argv.slice(words) };
  }
  return undefined;
}

export async function runArgus(argv: readonly string[], io: Io = processIo()): Promise<number> {
  const [first] = argv;
  if (first === undefined) {
    io.stderr.write(`${usage()}\n`);
    return EXIT.usage;
  }
  if (first === "--help" || first === "-h" || first === "help") {
    io.stdout.write(`${usage()}\n`);
    return EXIT.ok;
  }
  const found = findCommand(argv);
  if (!found) {
    const group = COMMANDS.filter((command) => command.name.startsWith(`${first} `));
    const subcommands = group.map((command) => command.name.slice(first.length + 1)).join(", ");
    const what =
      group.length === 0 ? `unknown command "${first}"` : argv[1] === undefined ? `"${first}" needs a subcommand: ${subcommands}` : `"${argv.slice(0, 2).join(" ")}" is not a command; ${first} has: ${subcommands}`;
    io.stderr.write(`argus: ${what}\n\n${usage()}\n`);
    return EXIT.usage;
  }
  const { command, rest } = found;
  if (rest.includes("--help") || rest.includes("-h")) {
    io.stdout.write(`${command.usage}\n`);
    return EXIT.ok;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`argus ${command.name}: ${error.message}\n\n${command.usage}\n`);
      return EXIT.usage;
    }
    const message = error instanceof DeploymentError ? (error as Error).message : firstLine(error);
    io.stderr.write(`argus ${command.name}: ${message}\n`);
    if (io.env.ARGUS_DEBUG && error instanceof Error) io.stderr.write(`${error.stack}\n`);
    return EXIT.failure;
  }
}

if (import.meta.main) {
  process.exitCode = await runArgus(process.argv.slice(2));
}
