/**
 * OpenAPI 3.0 schemas to JSON Schema for Ajv, once per direction (a request body and a
 * response body read `readOnly` differently). The rules, each from the OpenAPI 3.0.3
 * specification unless noted, and listed in specs/README.md:
 *
 * 1. `nullable: true` admits null (added to `type`, and to `enum` when there is one).
 * 2. `readOnly` properties are not required in requests, `writeOnly` ones not in responses.
 * 3. `discriminator` (without mapping): a value names the component schema to check.
 *    Where a schema with a discriminator is used other than as an `allOf` part of one of
 *    its own sub-schemas, it is replaced by a "dispatch" schema: the base, the property
 *    limited to the sub-schema names, and the named sub-schema applied.
 * 4. A schema with `properties` and no type is an object (ya-client's PaymentPlatform is
 *    inside a oneOf with a string, which would otherwise match both branches).
 * 5. References become absolute (`<base>/<direction>/<file>.yaml#/…`), so any converted
 *    part compiles on its own.
 * 6. Errata (errata.ts): places where yagna's real messages differ from ya-client's
 *    spec, each with the yagna source that shows it.
 */
import { applyErrata } from "./errata.ts";
import type { SpecDocument } from "./load.ts";

export type Direction = "request" | "response";

export const SCHEMA_BASE = "https://golem-devnet.argus/specs";

export const documentId = (direction: Direction, file: string): string => `${SCHEMA_BASE}/${direction}/${file}.yaml`;

type Node = Record<string, unknown>;
const isNode = (value: unknown): value is Node => typeof value === "object" && value !== null && !Array.isArray(value);

const LOCAL_SCHEMA = /^#\/components\/schemas\/([^/]+)$/;
const DISPATCH_SUFFIX = "__dispatch";

/** The components of one spec file after conversion: the Ajv document for that direction. */
export function convertDocument(file: string, document: SpecDocument, all: ReadonlyMap<string, SpecDocument>, direction: Direction): Node {
  const schemas = structuredClone((document.components?.schemas ?? {}) as Record<string, Node>);
  applyErrata(file, schemas);
  const converter = new Converter(file, schemas, all, direction);
  const converted: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(schemas)) converted[name] = converter.convert(schema, false);
  for (const [base, candidates] of converter.discriminated) {
    converted[`${base}${DISPATCH_SUFFIX}`] = converter.dispatch(base, candidates);
  }
  return { $id: documentId(direction, file), components: { schemas: converted } };
}

/** Converts a schema found outside components (a parameter's, an inline body) of `file`. */
export function convertInline(file: string, schema: unknown, all: ReadonlyMap<string, SpecDocument>, direction: Direction): Node | boolean {
  const document = all.get(file);
  const schemas = structuredClone((document?.components?.schemas ?? {}) as Record<string, Node>);
  applyErrata(file, schemas);
  return new Converter(file, schemas, all, direction).convert(schema, false) as Node | boolean;
}

class Converter {
  readonly file: string;
  readonly schemas: Record<string, Node>;
  readonly all: ReadonlyMap<string, SpecDocument>;
  readonly direction: Direction;
  /** Base schemas with a discriminator, and the names of the schemas built on them. */
  readonly discriminated = new Map<string, { property: string; names: string[] }>();

  constructor(file: string, schemas: Record<string, Node>, all: ReadonlyMap<string, SpecDocument>, direction: Direction) {
    this.file = file;
    this.schemas = schemas;
    this.all = all;
    this.direction = direction;
    for (const [name, schema] of Object.entries(schemas)) {
      const property = discriminatorOf(schema);
      if (!property) continue;
      const names = Object.entries(schemas)
        .filter(
          ([, other]) =>
            Array.isArray(other.allOf) && other.allOf.some((part) => isNode(part) && part.$ref === `#/components/schemas/${name}`),
        )
        .map(([other]) => other);
      if (names.length > 0) this.discriminated.set(name, { property, names });
    }
  }

  convert(value: unknown, inAllOf: boolean): unknown {
    if (Array.isArray(value)) return value.map((item) => this.convert(item, false));
    if (!isNode(value)) return value;
    const node: Node = {};
    for (const [key, child] of Object.entries(value)) {
      if (key === "nullable" || key === "discriminator" || key === "example" || key === "xml" || key === "externalDocs") continue;
      if (key === "$ref") node.$ref = this.reference(String(child), inAllOf);
      else if (key === "allOf" && Array.isArray(child)) node.allOf = child.map((part) => this.convert(part, true));
      else if (key === "properties" && isNode(child)) {
        node.properties = Object.fromEntries(Object.entries(child).map(([name, schema]) => [name, this.convert(schema, false)]));
      } else node[key] = this.convert(child, false);
    }
    if (value.nullable === true) admitNull(node);
    if (isNode(value.properties)) {
      if (node.type === undefined && !("$ref" in node) && !node.allOf && !node.oneOf && !node.anyOf) node.type = "object";
      if (Array.isArray(node.required)) {
        const hidden = this.direction === "request" ? "readOnly" : "writeOnly";
        node.required = (node.required as string[]).filter((name) => !this.flag((value.properties as Node)[name], hidden));
      }
    }
    return node;
  }

  /** Whether a property schema (or the schema it refers to) is readOnly/writeOnly. */
  flag(schema: unknown, which: "readOnly" | "writeOnly"): boolean {
    if (!isNode(schema)) return false;
    if (schema[which] === true) return true;
    if (typeof schema.$ref !== "string") return false;
    const [file, pointer] = splitRef(schema.$ref, this.file);
    const target = (file === this.file ? this.schemas : this.all.get(file)?.components?.schemas)?.[pointer.replace(/^.*\//, "")];
    return isNode(target) && target[which] === true;
  }

  reference(ref: string, inAllOf: boolean): string {
    const [file, pointer] = splitRef(ref, this.file);
    const local = LOCAL_SCHEMA.exec(`#${pointer}`);
    if (file === this.file && local && !inAllOf && this.discriminated.has(local[1]!)) {
      return `${documentId(this.direction, file)}#/components/schemas/${local[1]}${DISPATCH_SUFFIX}`;
    }
    return `${documentId(this.direction, file)}#${pointer}`;
  }

  dispatch(base: string, { property, names }: { property: string; names: string[] }): Node {
    const id = documentId(this.direction, this.file);
    return {
      allOf: [
        { $ref: `${id}#/components/schemas/${base}` },
        { type: "object", required: [property], properties: { [property]: { enum: names } } },
        ...names.map((name) => ({
          if: { type: "object", required: [property], properties: { [property]: { const: name } } },
          // biome-ignore lint/suspicious/noThenProperty: `then` is the JSON Schema keyword
          then: { $ref: `${id}#/components/schemas/${name}` },
        })),
      ],
    };
  }
}

function discriminatorOf(schema: Node): string | undefined {
  const own = isNode(schema.discriminator) ? schema.discriminator.propertyName : undefined;
  if (typeof own === "string") return own;
  for (const part of Array.isArray(schema.allOf) ? schema.allOf : []) {
    if (isNode(part) && isNode(part.discriminator) && typeof part.discriminator.propertyName === "string")
      return part.discriminator.propertyName;
  }
  return undefined;
}

function admitNull(node: Node): void {
  if (typeof node.type === "string") node.type = [node.type, "null"];
  else if (Array.isArray(node.type) && !node.type.includes("null")) node.type = [...node.type, "null"];
  if (Array.isArray(node.enum) && !node.enum.includes(null)) node.enum = [...node.enum, null];
}

/** `common.yaml#/a/b` → ["common", "/a/b"]; `#/a/b` → [current file, "/a/b"]. */
export function splitRef(ref: string, currentFile: string): [file: string, pointer: string] {
  const hash = ref.indexOf("#");
  const filePart = hash < 0 ? ref : ref.slice(0, hash);
  const pointer = hash < 0 ? "" : ref.slice(hash + 1);
  return [filePart === "" ? currentFile : filePart.replace(/\.yaml$/, ""), pointer];
}
