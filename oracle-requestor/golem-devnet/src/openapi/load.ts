/**
 * Reads the vendored ya-client OpenAPI files (specs/README.md names their origin).
 *
 * Three of them close a multi-line single-quoted `description` with a quote less indented
 * than the key (e.g. market-api.yaml line 28), which strict YAML 1.2 parsers refuse and
 * yagna's own tooling accepts. Such a line, holding nothing but the closing quote, is
 * indented before parsing; it only ends a description, so no schema changes.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

export const SPECS_DIR = join(dirname(fileURLToPath(import.meta.url)), "../../specs");

/** The spec files the devnet serves (operations) and the one they share (common). */
export const API_FILES = ["identity-api", "version-api", "market-api", "payment-api", "activity-api"] as const;
export const SPEC_FILES = ["common", ...API_FILES] as const;

export type ApiFile = (typeof API_FILES)[number];
export type SpecFile = (typeof SPEC_FILES)[number];

// biome-ignore lint/suspicious/noExplicitAny: an OpenAPI document is untyped YAML
export type SpecDocument = Record<string, any>;

export function readSpecText(file: SpecFile, dir = SPECS_DIR): string {
  return readFileSync(join(dir, `${file}.yaml`), "utf8");
}

export function parseSpec(text: string, name: string): SpecDocument {
  const fixed = text.replace(/^[ \t]*'[ \t]*$/gm, "                '");
  const document = parse(fixed, { prettyErrors: true }) as unknown;
  if (typeof document !== "object" || document === null) throw new Error(`${name} is not an OpenAPI document`);
  return document as SpecDocument;
}

export function loadSpecs(dir = SPECS_DIR): Map<SpecFile, SpecDocument> {
  return new Map(SPEC_FILES.map((file) => [file, parseSpec(readSpecText(file, dir), `${file}.yaml`)]));
}
