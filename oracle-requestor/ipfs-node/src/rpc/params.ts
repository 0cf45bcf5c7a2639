/**
 * Reading a Kubo RPC request's query string the way Kubo does: repeated `arg`
 * parameters are the positional arguments, a boolean option given without a value
 * means true, and `timeout` is a Go duration ("5000ms", "30s", "1m").
 */
import { CID } from "multiformats/cid";
import { badRequest } from "./errors.ts";

const TRUE_WORDS = new Set(["", "1", "t", "true"]);
const FALSE_WORDS = new Set(["0", "f", "false"]);
const DURATION_UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

export class QueryParams {
  readonly #search: URLSearchParams;

  constructor(search: URLSearchParams) {
    this.#search = search;
  }

  args(): string[] {
    return this.#search.getAll("arg");
  }

  /** The first positional argument; Kubo's error when it is missing. */
  requiredArg(name: string): string {
    const value = this.#search.get("arg");
    if (value === null || value === "") throw badRequest(`argument "${name}" is required`);
    return value;
  }

  string(name: string): string | undefined {
    return this.#search.get(name) ?? undefined;
  }

  bool(name: string, fallback: boolean): boolean {
    const value = this.#search.get(name);
    if (value === null) return fallback;
    const normalized = value.toLowerCase();
    if (TRUE_WORDS.has(normalized)) return true;
    if (FALSE_WORDS.has(normalized)) return false;
    throw badRequest(`option "${name}": "${value}" is not a boolean`);
  }

  /** A non-negative integer option, or `undefined` when absent. */
  integer(name: string): number | undefined {
    const value = this.#search.get(name);
    if (value === null || value === "") return undefined;
    const parsed = Number(value);
    if (!Number.isSafeInteger(parsed) || parsed < 0) {
      throw badRequest(`option "${name}": "${value}" is not a non-negative integer`);
    }
    return parsed;
  }

  /** A Go duration option in milliseconds, or `undefined` when absent. */
  durationMs(name: string): number | undefined {
    const value = this.#search.get(name);
    if (value === null || value === "") return undefined;
    return parseGoDuration(value, name);
  }
}

export function parseGoDuration(text: string, name = "duration"): number {
  const pattern = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  for (const match of text.matchAll(pattern)) {
    total += Number(match[1]) * (DURATION_UNITS[match[2] as string] ?? 0);
    matched += match[0].length;
  }
  if (matched === 0 || matched !== text.length) {
    throw badRequest(`option "${name}": "${text}" is not a duration such as 5000ms or 30s`);
  }
  return total;
}

export interface ContentPath {
  cid: CID;
  /** Slash-separated path below the root, without leading slash; "" for the root itself. */
  path: string;
}

/** Parses `<cid>`, `<cid>/a/b`, `/ipfs/<cid>/a/b` and `ipfs://<cid>/a/b`. */
export function parseContentPath(text: string): ContentPath {
  let rest = text.trim();
  if (rest.startsWith("ipfs://")) rest = rest.slice("ipfs://".length);
  else if (rest.startsWith("/ipfs/")) rest = rest.slice("/ipfs/".length);
  else if (rest.startsWith("/")) throw badRequest(`invalid path "${text}": only /ipfs/ paths are supported`);
  const [root = "", ...segments] = rest.split("/");
  let cid: CID;
  try {
    cid = CID.parse(root);
  } catch (error) {
    throw badRequest(`invalid path "${text}": ${(error as Error).message}`);
  }
  return {
    cid,
    path: segments
      .filter((segment) => segment !== "")
      .map(decodeURIComponent)
      .join("/"),
  };
}

/** Parses a CID argument (a bare CID, or an `/ipfs/` path with nothing below the root). */
export function parseCidArg(text: string): CID {
  const { cid, path } = parseContentPath(text);
  if (path !== "") throw badRequest(`"${text}" names a path inside a DAG; a CID is required here`);
  return cid;
}
