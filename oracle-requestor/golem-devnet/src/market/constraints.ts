/**
 * Demand and offer constraints: the LDAP-style filters yagna's market resolver reads
 * (core/market/resolver/src/resolver/ldap_parser.rs), evaluated against the other side's
 * flat properties as its matching does (matching.rs: both sides' constraints must hold).
 *
 * Supported: `()` (empty, true), `(&…)`, `(|…)`, `(!…)`, `(key=value)` with `*` as a
 * wildcard and `(key=*)` for presence, and `<`, `<=`, `>`, `>=`. Whitespace between
 * filters is allowed. Anything else (approximate `~=`, extensible `:=`, escapes, typed
 * keys `key@v`, aspects `key[aspect]`) is refused with an error naming it: the devnet
 * does not guess how yagna would read it.
 *
 * A comparison with a property the other side does not have is undefined, and so is a
 * filter built on one; only a true result matches (yagna's `Match::Yes`).
 */

export type Filter =
  | { kind: "empty" }
  | { kind: "and" | "or"; filters: Filter[] }
  | { kind: "not"; filter: Filter }
  | { kind: "present"; key: string }
  | { kind: "compare"; key: string; op: "=" | "<" | "<=" | ">" | ">="; value: string };

export class ConstraintError extends Error {
  override name = "ConstraintError";
}

const KEY = /^[A-Za-z0-9_.?-]+$/;

export function parseConstraints(text: string): Filter {
  const parser = new Parser(text);
  const filter = parser.filter();
  parser.skipSpace();
  if (!parser.done()) parser.fail("unexpected text after the filter");
  return filter;
}

class Parser {
  readonly text: string;
  position = 0;

  constructor(text: string) {
    this.text = text;
  }

  done = () => this.position >= this.text.length;
  skipSpace = () => {
    while (/\s/.test(this.text[this.position] ?? "")) this.position++;
  };

  fail(message: string): never {
    throw new ConstraintError(`constraints: ${message} at character ${this.position + 1} of ${JSON.stringify(this.text)}`);
  }

  expect(char: string): void {
    this.skipSpace();
    if (this.text[this.position] !== char) this.fail(`expected "${char}"`);
    this.position++;
  }

  filter(): Filter {
    this.skipSpace();
    this.expect("(");
    this.skipSpace();
    const head = this.text[this.position];
    if (head === ")") {
      this.position++;
      return { kind: "empty" };
    }
    if (head === "&" || head === "|") {
      this.position++;
      const filters: Filter[] = [];
      for (;;) {
        this.skipSpace();
        if (this.text[this.position] === ")") break;
        if (this.done()) this.fail("unterminated filter list");
        filters.push(this.filter());
      }
      this.position++;
      return { kind: head === "&" ? "and" : "or", filters };
    }
    if (head === "!") {
      this.position++;
      const filter = this.filter();
      this.expect(")");
      return { kind: "not", filter };
    }
    return this.item();
  }

  item(): Filter {
    const close = this.text.indexOf(")", this.position);
    if (close < 0) this.fail("unterminated item");
    const body = this.text.slice(this.position, close);
    const match = /^([^=<>~:!()]+?)(<=|>=|=|<|>)(.*)$/s.exec(body);
    if (!match) this.fail(`unsupported filter item "${body}"`);
    const [, rawKey, op, value] = match as unknown as [string, string, "=" | "<" | "<=" | ">" | ">=", string];
    const key = rawKey.trim();
    if (!KEY.test(key)) this.fail(`unsupported property name "${key}" (typed keys and aspects are not supported)`);
    if (/[\\(]/.test(value) || value.startsWith("=") || /^[~:]/.test(value)) this.fail(`unsupported value syntax "${value}"`);
    this.position = close + 1;
    if (op === "=" && value === "*") return { kind: "present", key };
    return { kind: "compare", key, op, value };
  }
}

/** true, false, or undefined (a property the filter names is missing). */
export type Truth = boolean | undefined;

export function evaluate(filter: Filter, properties: Readonly<Record<string, unknown>>): Truth {
  switch (filter.kind) {
    case "empty":
      return true;
    case "and": {
      let result: Truth = true;
      for (const inner of filter.filters) {
        const value = evaluate(inner, properties);
        if (value === false) return false;
        if (value === undefined) result = undefined;
      }
      return result;
    }
    case "or": {
      let result: Truth = false;
      for (const inner of filter.filters) {
        const value = evaluate(inner, properties);
        if (value === true) return true;
        if (value === undefined) result = undefined;
      }
      return result;
    }
    case "not": {
      const value = evaluate(filter.filter, properties);
      return value === undefined ? undefined : !value;
    }
    case "present":
      return filter.key in properties ? true : undefined;
    case "compare": {
      if (!(filter.key in properties)) return undefined;
      const property = properties[filter.key];
      const values = Array.isArray(property) ? property : [property];
      return values.some((value) => compare(value, filter.op, filter.value));
    }
  }
}

function compare(property: unknown, op: "=" | "<" | "<=" | ">" | ">=", text: string): boolean {
  if (typeof property === "number") {
    const value = Number(text);
    if (text.trim() === "" || Number.isNaN(value)) return false;
    return ordered(property, op, value);
  }
  if (typeof property === "boolean") return op === "=" && String(property) === text.trim().toLowerCase();
  if (typeof property === "string") {
    if (op === "=") return wildcard(text).test(property);
    return ordered(property, op, text);
  }
  return false;
}

function ordered<T extends number | string>(left: T, op: string, right: T): boolean {
  switch (op) {
    case "=":
      return left === right;
    case "<":
      return left < right;
    case "<=":
      return left <= right;
    case ">":
      return left > right;
    default:
      return left >= right;
  }
}

function wildcard(pattern: string): RegExp {
  return new RegExp(
    `^${pattern
      .split("*")
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*")}$`,
    "s",
  );
}

/** Whether a demand and an offer match: each side's constraints hold for the other's properties. */
export function matches(
  demand: { filter: Filter; properties: Readonly<Record<string, unknown>> },
  offer: { filter: Filter; properties: Readonly<Record<string, unknown>> },
): boolean {
  return evaluate(demand.filter, offer.properties) === true && evaluate(offer.filter, demand.properties) === true;
}
