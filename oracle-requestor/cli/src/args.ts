/**
 * Argument parsing shared by every `argus` command: `node:util` parseArgs in strict
 * mode, its errors turned into UsageError (exit code 2, one line plus the usage), and
 * readers for the values commands take (request ids, addresses, amounts, durations).
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { getAddress, isAddress, parseUnits, type Address } from "viem";
import { parseRequestIdText } from "@argus/escrow/request-terms";
import { UsageError } from "@argus/provider-image/cli";

export { UsageError };

/** Options every command accepts. */
export const COMMON_OPTIONS = {
  json: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
  deployment: { type: "string" },
} as const;

type OptionsConfig = NonNullable<ParseArgsConfig["options"]>;

/**
 * `util.parseArgs` over a command's arguments: its own options plus COMMON_OPTIONS,
 * strict, positionals returned to the command; errors become usage errors.
 */
export function parseCommand<const O extends OptionsConfig>(argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, options: { ...COMMON_OPTIONS, ...options }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message.split("\n")[0]!);
  }
}

/** A request id as the escrow issues it: decimal or 0x-hex, up to 256 bits. */
export function parseRequestId(text: string | undefined): bigint {
  if (text === undefined) throw new UsageError("give a request id");
  const id = parseRequestIdText(text);
  if (id === undefined) throw new UsageError(`"${text}" is not a request id (decimal or 0x-hex, 1 to 2^256 − 1)`);
  return id;
}

export function parseAddress(text: string, what: string): Address {
  if (!isAddress(text, { strict: false })) throw new UsageError(`${what} "${text}" is not an address (0x followed by 40 hex digits)`);
  return getAddress(text);
}

export function parseBlock(text: string | undefined, what: string): bigint | undefined {
  if (text === undefined) return undefined;
  if (!/^[0-9]{1,20}$/.test(text)) throw new UsageError(`${what} "${text}" is not a block number`);
  return BigInt(text);
}

/** Whole seconds, `90`, `90s`, `15m` or `2h`. */
export function parseSeconds(text: string | undefined, what: string, fallback: number): number {
  if (text === undefined) return fallback;
  const match = /^([0-9]{1,7})(s|m|h)?$/.exec(text);
  if (!match) throw new UsageError(`${what} "${text}" is not a duration (seconds, or e.g. 90s, 15m, 2h)`);
  return Number(match[1]) * { s: 1, m: 60, h: 3600 }[(match[2] ?? "s") as "s" | "m" | "h"];
}

/** A decimal amount in a currency with `decimals` digits ("0.001") as base units. */
export function parseAmount(text: string, decimals: number, what: string): bigint {
  if (!/^[0-9]+(\.[0-9]+)?$/.test(text)) throw new UsageError(`${what} "${text}" is not a decimal amount`);
  const fraction = text.split(".")[1] ?? "";
  if (fraction.length > decimals) throw new UsageError(`${what} "${text}" has more than ${decimals} decimals`);
  return parseUnits(text, decimals);
}

export function noPositionals(positionals: readonly string[]): void {
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
}
