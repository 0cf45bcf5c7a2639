/**
 * The operations of the vendored specs as a route table: each `paths` entry under its
 * file's server URL (`/market-api/v1`, …), with its parameters, request body and
 * responses resolved from `$ref`s. The server routes a request to the operation whose
 * template matches, preferring templates with fewer parameters (`/payments/status`
 * before `/payments/{paymentId}`).
 */
import { splitRef } from "./convert.ts";
import { STATUS_ERRATA } from "./errata.ts";
import type { ApiFile, SpecDocument } from "./load.ts";
import { API_FILES } from "./load.ts";

type Node = Record<string, unknown>;
const isNode = (value: unknown): value is Node => typeof value === "object" && value !== null && !Array.isArray(value);

export interface Parameter {
  name: string;
  in: "path" | "query" | "header" | "cookie";
  required: boolean;
  /** The raw OpenAPI schema and the file it is written in (converted when validators are built). */
  schema: unknown;
  file: string;
  /** `form` with `explode: false`: one comma-separated value. */
  commaSeparated: boolean;
}

export interface ResponseSpec {
  /** The JSON schema of the body and its file; undefined when the response has no content. */
  schema?: { file: string; schema: unknown };
}

export interface Operation {
  file: ApiFile;
  operationId: string;
  method: string;
  /** The full path template, e.g. `/market-api/v1/demands/{subscriptionId}/events`. */
  template: string;
  pattern: RegExp;
  pathNames: string[];
  parameters: Parameter[];
  body?: { required: boolean; file: string; schema: unknown };
  responses: Map<string, ResponseSpec>;
  /** Whether the operation needs the app key (the spec's `security`). */
  secured: boolean;
}

const METHODS = ["get", "post", "put", "delete", "patch"];

export function buildOperations(specs: ReadonlyMap<string, SpecDocument>): Operation[] {
  const operations: Operation[] = [];
  for (const file of API_FILES) {
    const document = specs.get(file);
    if (!document) throw new Error(`spec ${file}.yaml is missing`);
    const base = String(document.servers?.[0]?.url ?? "").replace(/\/$/, "");
    for (const [path, item] of Object.entries((document.paths ?? {}) as Record<string, Node>)) {
      const shared = Array.isArray(item.parameters) ? item.parameters : [];
      for (const method of METHODS) {
        const operation = item[method];
        if (!isNode(operation)) continue;
        const template = `${base}${path}`;
        const pathNames = [...template.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]!);
        const own = Array.isArray(operation.parameters) ? operation.parameters : [];
        const parameters = mergeParameters([...shared, ...own].map((parameter) => resolveParameter(specs, file, parameter)));
        operations.push({
          file,
          operationId: String(operation.operationId ?? `${method} ${path}`),
          method: method.toUpperCase(),
          template,
          pattern: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\\?\{[^}]+\\?\}/g, "([^/]+)")}$`),
          pathNames,
          parameters,
          body: resolveBody(specs, file, operation.requestBody),
          responses: resolveResponses(specs, file, operation.responses),
          secured: isSecured(operation.security ?? document.security),
        });
      }
    }
  }
  for (const erratum of STATUS_ERRATA) {
    for (const operationId of erratum.operationIds) {
      const operation = operations.find((entry) => entry.file === erratum.file && entry.operationId === operationId);
      if (!operation) throw new Error(`status erratum: ${erratum.file} has no operation ${operationId}`);
      operation.responses.set(String(erratum.status), {
        schema: { file: "common", schema: { $ref: "#/components/schemas/ErrorMessage" } },
      });
    }
  }
  return operations.sort((a, b) => a.pathNames.length - b.pathNames.length);
}

export interface RouteMatch {
  operation: Operation;
  params: Record<string, string>;
}

/** The operation serving `method path`; `{ allowed }` lists the methods of a known path otherwise. */
export function matchOperation(operations: readonly Operation[], method: string, path: string): RouteMatch | { allowed: string[] } {
  const allowed: string[] = [];
  for (const operation of operations) {
    const match = operation.pattern.exec(path);
    if (!match) continue;
    if (operation.method !== method) {
      allowed.push(operation.method);
      continue;
    }
    const params: Record<string, string> = {};
    operation.pathNames.forEach((name, index) => {
      params[name] = decodeURIComponent(match[index + 1]!);
    });
    return { operation, params };
  }
  return { allowed };
}

function resolve(specs: ReadonlyMap<string, SpecDocument>, file: string, value: unknown): { file: string; node: Node } {
  let current = value;
  let currentFile = file;
  for (let depth = 0; isNode(current) && typeof current.$ref === "string"; depth++) {
    if (depth > 10) throw new Error(`reference loop at ${String(current.$ref)} in ${file}`);
    const [target, pointer] = splitRef(current.$ref, currentFile);
    const document = specs.get(target);
    if (!document) throw new Error(`${currentFile}.yaml refers to ${target}.yaml, which is not vendored`);
    current = pointer
      .split("/")
      .filter(Boolean)
      .reduce<unknown>((node, key) => (isNode(node) ? node[key.replace(/~1/g, "/").replace(/~0/g, "~")] : undefined), document);
    currentFile = target;
  }
  if (!isNode(current)) throw new Error(`unresolvable OpenAPI object in ${file}.yaml`);
  return { file: currentFile, node: current };
}

function resolveParameter(specs: ReadonlyMap<string, SpecDocument>, file: string, value: unknown): Parameter {
  const { file: where, node } = resolve(specs, file, value);
  return {
    name: String(node.name),
    in: node.in as Parameter["in"],
    required: node.required === true,
    schema: node.schema ?? {},
    file: where,
    commaSeparated: (node.style ?? "form") === "form" && node.explode === false,
  };
}

/** Operation parameters override path-level ones of the same name and location. */
function mergeParameters(parameters: Parameter[]): Parameter[] {
  const byKey = new Map<string, Parameter>();
  for (const parameter of parameters) byKey.set(`${parameter.in}:${parameter.name}`, parameter);
  return [...byKey.values()];
}

function resolveBody(specs: ReadonlyMap<string, SpecDocument>, file: string, value: unknown): Operation["body"] {
  if (value === undefined) return undefined;
  const { file: where, node } = resolve(specs, file, value);
  const content = isNode(node.content) ? node.content["application/json"] : undefined;
  const schema = isNode(content) ? content.schema : undefined;
  return { required: node.required === true, file: where, schema: schema ?? {} };
}

function resolveResponses(specs: ReadonlyMap<string, SpecDocument>, file: string, value: unknown): Map<string, ResponseSpec> {
  const responses = new Map<string, ResponseSpec>();
  for (const [code, response] of Object.entries(isNode(value) ? value : {})) {
    const { file: where, node } = resolve(specs, file, response);
    const content = isNode(node.content) ? node.content["application/json"] : undefined;
    const schema = isNode(content) ? content.schema : undefined;
    responses.set(code, schema === undefined ? {} : { schema: { file: where, schema } });
  }
  return responses;
}

function isSecured(security: unknown): boolean {
  return Array.isArray(security) && security.some((requirement) => isNode(requirement) && Object.keys(requirement).length > 0);
}

/** The success status an operation documents first (201 for a creation, 204 without content, …). */
export function successStatus(operation: Operation): number {
  const codes = [...operation.responses.keys()].filter((code) => /^2\d\d$/.test(code)).sort();
  return codes.length > 0 ? Number(codes[0]) : 200;
}
