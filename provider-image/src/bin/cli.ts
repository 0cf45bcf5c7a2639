/**
 * What the command-line entry points share: a usage error type and a runner that
 * turns any failure into one clear line on stderr and a non-zero exit code, instead
 * of a stack trace.
 */
import { resolve } from "node:path";
import { parseArgs, type ParseArgsConfig } from "node:util";

/** Wrong or missing arguments: exit code 2, with the usage text. */
export class UsageError extends Error {
  override name = "UsageError";
}

export function runCli(usage: string, main: () => Promise<void>): void {
  main().then(
    () => {
      process.exitCode ??= 0;
    },
    (error: unknown) => {
      if (error instanceof UsageError) {
        process.stderr.write(`${error.message}\n\n${usage}\n`);
        process.exitCode = 2;
        return;
      }
      const name = error instanceof Error ? error.name : "Error";
      process.stderr.write(`argus: ${name}: ${error instanceof Error ? error.message : String(error)}\n`);
      if (process.env.ARGUS_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
      process.exitCode = 1;
    },
  );
}

/** `util.parseArgs`, with its errors reported as usage errors. */
export function parseCliArgs<T extends ParseArgsConfig>(config: T) {
  try {
    return parseArgs(config);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/**
 * A path the user typed, made absolute against the folder they typed it in: `npm run`
 * moves the working directory to the package root and keeps the original in INIT_CWD.
 */
export function userPath(path: string): string {
  return resolve(process.env.INIT_CWD ?? process.cwd(), path);
}

export function optionalUserPath(path: string | undefined): string | undefined {
  return path === undefined ? undefined : userPath(path);
}
