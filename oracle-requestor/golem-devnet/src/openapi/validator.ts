/**
 * Checks every request and every response of the emulated yagna against the vendored
 * ya-client specs: query and path parameters, request bodies, response bodies. What does
 * not conform is recorded as a violation (GET /devnet/violations lists them); in strict
 * mode a bad request is also answered 400 and a bad response replaced by a 500, each
 * naming the reason.
 */
import { Ajv } from "ajv";
import type { ErrorObject, ValidateFunction } from "ajv";
import { convertDocument, convertInline, type Direction } from "./convert.ts";
import type { SpecDocument } from "./load.ts";
import { SPEC_FILES } from "./load.ts";
import type { Operation, Parameter } from "./operations.ts";

/** RFC 3339 date-time, the only format in the specs that constrains a value. */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
/** Formats the specs name that describe a number's or string's encoding, not a constraint Ajv could check. */
const DESCRIPTIVE_FORMATS = ["int32", "int64", "float", "double", "decimal", "hex", "integer", "binary", "byte", "uri"];

export interface Violation {
  /** When it happened (real time, ISO). */
  at: string;
  direction: Direction;
  operationId: string;
  method: string;
  path: string;
  status?: number;
  errors: string[];
}

export class SpecValidator {
  readonly #ajv: Ajv;
  readonly #specs: ReadonlyMap<string, SpecDocument>;
  readonly #cache = new Map<string, ValidateFunction>();

  constructor(specs: ReadonlyMap<string, SpecDocument>) {
    this.#specs = specs;
    this.#ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
    this.#ajv.addFormat("date-time", DATE_TIME);
    for (const format of DESCRIPTIVE_FORMATS) this.#ajv.addFormat(format, true);
    for (const direction of ["request", "response"] as const) {
      for (const file of SPEC_FILES) {
        const document = specs.get(file);
        if (document) this.#ajv.addSchema(convertDocument(file, document, specs, direction));
      }
    }
  }

  /** Problems with the request's parameters and body (empty when it conforms). */
  checkRequest(
    operation: Operation,
    params: Record<string, string>,
    query: Record<string, unknown>,
    body: unknown,
    hasBody: boolean,
  ): string[] {
    const problems: string[] = [];
    for (const parameter of operation.parameters) {
      if (parameter.in !== "path" && parameter.in !== "query") continue;
      const value = parameter.in === "path" ? params[parameter.name] : query[parameter.name];
      if (value === undefined) {
        if (parameter.required) problems.push(`${parameter.in} parameter ${parameter.name} is required`);
        continue;
      }
      problems.push(
        ...this.#check(
          `param:${operation.operationId}:${parameter.name}`,
          parameter.file,
          parameter.schema,
          "request",
          value,
          parameter.name,
        ),
      );
    }
    const known = new Set(operation.parameters.filter((parameter) => parameter.in === "query").map((parameter) => parameter.name));
    for (const name of Object.keys(query)) if (!known.has(name)) problems.push(`query parameter ${name} is not in the spec`);
    if (operation.body) {
      if (!hasBody) {
        if (operation.body.required) problems.push("the request body is required");
      } else
        problems.push(...this.#check(`body:${operation.operationId}`, operation.body.file, operation.body.schema, "request", body, "body"));
    } else if (hasBody) problems.push("this operation takes no request body");
    return problems;
  }

  /** Problems with a response (status documented, body conforming). */
  checkResponse(operation: Operation, status: number, body: unknown, hasBody: boolean): string[] {
    const response = operation.responses.get(String(status)) ?? (status >= 400 ? operation.responses.get("default") : undefined);
    if (!response) return [`status ${status} is not documented for ${operation.operationId}`];
    if (!response.schema) return hasBody ? [`status ${status} of ${operation.operationId} has no content, but a body was sent`] : [];
    if (!hasBody) return [`status ${status} of ${operation.operationId} needs a body`];
    return this.#check(
      `response:${operation.operationId}:${status}`,
      response.schema.file,
      response.schema.schema,
      "response",
      body,
      "body",
    );
  }

  /** Checks a value against a named component schema (e.g. a Server-Sent Event's RuntimeEvent). */
  checkComponent(file: string, schemaName: string, direction: Direction, value: unknown): string[] {
    return this.#check(
      `component:${file}:${schemaName}`,
      file,
      { $ref: `#/components/schemas/${schemaName}` },
      direction,
      value,
      schemaName,
    );
  }

  #check(key: string, file: string, schema: unknown, direction: Direction, value: unknown, what: string): string[] {
    const cacheKey = `${direction}:${key}`;
    let validate = this.#cache.get(cacheKey);
    if (!validate) {
      validate = this.#ajv.compile(convertInline(file, schema, this.#specs, direction));
      this.#cache.set(cacheKey, validate);
    }
    if (validate(value)) return [];
    return describeErrors(validate.errors ?? [], what);
  }
}

function describeErrors(errors: ErrorObject[], what: string): string[] {
  // `if`/`then` and `allOf` failures repeat the underlying error; keep the specific ones.
  const specific = errors.filter((error) => error.keyword !== "if");
  return [...new Set(specific.map((error) => `${what}${error.instancePath || ""}: ${error.message ?? error.keyword}${detail(error)}`))];
}

function detail(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  if (error.keyword === "enum") return ` (${JSON.stringify(params.allowedValues)})`;
  if (error.keyword === "additionalProperties") return ` (${String(params.additionalProperty)})`;
  if (error.keyword === "const") return ` (${JSON.stringify(params.allowedValue)})`;
  return "";
}

/** Query values converted to the types their parameters declare, so that the schemas can check them. */
export function typedQuery(operation: Operation | undefined, search: URLSearchParams): Record<string, unknown> {
  const query: Record<string, unknown> = {};
  const declared = new Map<string, Parameter>((operation?.parameters ?? []).filter((p) => p.in === "query").map((p) => [p.name, p]));
  for (const name of new Set(search.keys())) {
    const values = search.getAll(name);
    const parameter = declared.get(name);
    const schema = (parameter?.schema ?? {}) as Record<string, unknown>;
    if (schema.type === "array") {
      const items = parameter?.commaSeparated ? values.flatMap((value) => value.split(",")) : values;
      query[name] = items.map((item) => convertScalar(item, (schema.items ?? {}) as Record<string, unknown>));
    } else query[name] = convertScalar(values[values.length - 1]!, schema);
  }
  return query;
}

function convertScalar(text: string, schema: Record<string, unknown>): unknown {
  if (schema.type === "number" || schema.type === "integer") {
    const value = Number(text);
    return text.trim() === "" || Number.isNaN(value) ? text : value;
  }
  if (schema.type === "boolean") return text === "true" ? true : text === "false" ? false : text;
  return text;
}
