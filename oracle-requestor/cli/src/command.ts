/**
 * The shape of an `argus` command, and its exit codes: 0 done, 1 failed at run time,
 * 2 bad arguments (with the usage), 3 the request was rejected or expired (when
 * waiting for it), 130 interrupted.
 */
import type { CliSettings } from "./config.ts";
import type { Io } from "./output.ts";

export const EXIT = { ok: 0, failure: 1, usage: 2, refused: 3, interrupted: 130 } as const;

/** A command module's export; main.ts names it and loads it only when it is run. */
export interface Command {
  usage: string;
  /** `settings`: the environment's, read once by main.ts. */
  run(argv: string[], io: Io, settings: CliSettings): Promise<number>;
}
