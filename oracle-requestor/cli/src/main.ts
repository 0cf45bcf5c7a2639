#!/usr/bin/env node
/**
 * `argus`: the command line for Argus — `npx argus <command>` in the repository.
 * One module per command (commands/); this file only dispatches and turns failures
 * into one line on stderr and an exit code (command.ts lists them).
 */
import { UsageError } from "@argus/provider-image/cli";
import { type Command, EXIT } from "./command.ts";
import { ConfigError, type CliSettings, loadCliSettings } from "./config.ts";
import { firstLine, type Io } from "./output.ts";

/** The real terminal and environment: the one place the CLI reads `process.env`. */
export const processIo = (): Io => ({ stdout: process.stdout, stderr: process.stderr, env: process.env });

interface Entry {
  /** As typed: `request`, `models list`. */
  name: string;
  summary: string;
  /** Command modules load on use: `argus --help` stays instant. */
  load(): Promise<Command>;
}

export const COMMANDS: readonly Entry[] = [
  {
    name: "models list",
    summary: "the on-chain model registry",
    load: async () => (await import("./commands/models.ts")).modelsListCommand,
  },
  {
    name: "models add",
    summary: "hash and self-test an ONNX model, pin its manifest and register it on-chain",
    load: async () => (await import("./commands/models.ts")).modelsAddCommand,
  },
  {
    name: "models check",
    summary: "run a model's self-test on the bundled reference photos",
    load: async () => (await import("./commands/models-check.ts")).modelsCheckCommand,
  },
  {
    name: "request",
    summary: "pin an image, pay for a prediction, optionally wait for the verified answer",
    load: async () => (await import("./commands/request.ts")).requestCommand,
  },
  {
    name: "result",
    summary: "status and verified result of a request",
    load: async () => (await import("./commands/result.ts")).resultCommand,
  },
  {
    name: "verify",
    summary: "check a request's answer; --recompute reruns the model here",
    load: async () => (await import("./commands/verify.ts")).verifyCommand,
  },
  { name: "events", summary: "query request and result events", load: async () => (await import("./commands/events.ts")).eventsCommand },
  {
    name: "reclaim",
    summary: "refund a request that missed its deadline",
    load: async () => (await import("./commands/reclaim.ts")).reclaimCommand,
  },
  {
    name: "withdraw",
    summary: "pay out refunds or earned fees held by the escrow",
    load: async () => (await import("./commands/withdraw.ts")).withdrawCommand,
  },
  {
    name: "oracle start",
    summary: "run the oracle service (as `npm run oracle`)",
    load: async () => (await import("./commands/oracle.ts")).oracleStartCommand,
  },
  {
    name: "oracle doctor",
    summary: "check yagna, funds, the provider image and Golem offers (the oracle's preflight)",
    load: async () => (await import("./commands/oracle.ts")).oracleDoctorCommand,
  },
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
    "Keys: ARGUS_PRIVATE_KEY, or ARGUS_KEYSTORE and ARGUS_KEYSTORE_PASSWORD. Every setting:",
    "the CLI section of .env.example and oracle-requestor/cli/README.md.",
    "Exit codes: 0 done, 1 failed, 2 bad arguments, 3 request rejected or expired (when waiting).",
  ].join("\n");
}

/** Finds the command `argv` names (one or two words); undefined when none matches. */
function findCommand(argv: readonly string[]): { entry: Entry; rest: string[] } | undefined {
  for (const words of [2, 1]) {
    const name = argv.slice(0, words).join(" ");
    const command = COMMANDS.find((candidate) => candidate.name === name);
    if (command) return { entry: command, rest: argv.slice(words) };
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
      group.length === 0
        ? `unknown command "${first}"`
        : argv[1] === undefined
          ? `"${first}" needs a subcommand: ${subcommands}`
          : `"${argv.slice(0, 2).join(" ")}" is not a command; ${first} has: ${subcommands}`;
    io.stderr.write(`argus: ${what}\n\n${usage()}\n`);
    return EXIT.usage;
  }
  const { entry, rest } = found;
  const command = await entry.load();
  if (rest.includes("--help") || rest.includes("-h")) {
    io.stdout.write(`${command.usage}\n`);
    return EXIT.ok;
  }
  let settings: CliSettings;
  try {
    settings = loadCliSettings(io.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.stderr.write(`argus ${entry.name}: ${error.message}\n`);
    return EXIT.usage;
  }
  try {
    return await command.run(rest, io, settings);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`argus ${entry.name}: ${error.message}\n\n${command.usage}\n`);
      return EXIT.usage;
    }
    // A deployment record's problems and a self-test's misses are listed one per line; anything else is said in one.
    const listed = ["DeploymentError", "SelfTestFailedError"].includes((error as Error).name);
    const message = listed ? (error as Error).message : firstLine(error);
    io.stderr.write(`argus ${entry.name}: ${message}\n`);
    if (settings.debug && error instanceof Error) io.stderr.write(`${error.stack}\n`);
    return EXIT.failure;
  }
}

if (import.meta.main) {
  process.exitCode = await runArgus(process.argv.slice(2));
}
