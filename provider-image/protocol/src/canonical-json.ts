/**
 * Canonical JSON: the one byte form of a JSON value, so that the same object always
 * hashes to the same sha256 wherever it is serialised (provider, oracle, browser).
 *
 * The rules follow RFC 8785 (JCS) for the values Argus uses: object keys sorted by
 * UTF-16 code units, no whitespace, strings escaped as `JSON.stringify` does, numbers
 * in ECMAScript's shortest round-trip form (which is JCS's). Anything JSON cannot carry
 * without loss — NaN, ±Infinity, bigint, functions, `undefined` inside arrays, class
 * instances such as Date or typed arrays — is rejected instead of being silently
 * coerced, because a silent coercion would make two different objects hash alike.
 * Object properties whose value is `undefined` are left out, as in `JSON.stringify`,
 * so optional fields do not change the bytes.
 *
 * Browser-safe: no dependencies.
 */

export class NonCanonicalValueError extends TypeError {
  override name = "NonCanonicalValueError";
}

/** The canonical JSON text of `value`. */
export function canonicalJson(value: unknown): string {
  return serialise(value, "$");
}

/** The canonical JSON of `value` as UTF-8 bytes: what gets hashed and pinned. */
export function canonicalJsonBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(canonicalJson(value));
}

function serialise(value: unknown, path: string): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "boolean":
      return value ? "true" : "false";
    case "string":
      return JSON.stringify(value);
    case "number":
      if (!Number.isFinite(value)) throw new NonCanonicalValueError(`${path} is ${value}, which JSON cannot represent`);
      return JSON.stringify(value); // -0 becomes "0", as JCS requires
    case "object":
      return Array.isArray(value) ? serialiseArray(value, path) : serialiseObject(value as object, path);
    default:
      throw new NonCanonicalValueError(`${path} is a ${typeof value}, which JSON cannot represent`);
  }
}

function serialiseArray(items: readonly unknown[], path: string): string {
  const parts = items.map((item, index) => {
    if (item === undefined) throw new NonCanonicalValueError(`${path}[${index}] is undefined`);
    return serialise(item, `${path}[${index}]`);
  });
  return `[${parts.join(",")}]`;
}

function serialiseObject(object: object, path: string): string {
  const prototype = Object.getPrototypeOf(object);
  if (prototype !== Object.prototype && prototype !== null) {
    throw new NonCanonicalValueError(`${path} is a ${object.constructor?.name ?? "non-plain object"}, not a plain object`);
  }
  const record = object as Record<string, unknown>;
  // Default sort compares UTF-16 code units: exactly the order JCS prescribes.
  const keys = Object.keys(record).sort();
  const parts: string[] = [];
  for (const key of keys) {
    const member = record[key];
    if (member === undefined) continue;
    parts.push(`${JSON.stringify(key)}:${serialise(member, `${path}.${key}`)}`);
  }
  return `{${parts.join(",")}}`;
}
