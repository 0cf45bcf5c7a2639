/**
 * The settings pattern every Argus program uses: a table of fields, each with its zod
 * schema, default, environment variable and one-line meaning. From that one table come
 * validation (one message per bad setting, naming it, where its value came from and what
 * is accepted), the overlays (defaults < JSON file < environment < explicit values), the
 * Markdown table the READMEs show, and the lines of `.env.example` / `*.example.json`.
 *
 * Browser-safe (zod only): callers read files and the environment and hand them in, so
 * that only a program's entry point touches `process.env`.
 */
import type { z } from "zod";

export interface Setting {
  schema: z.ZodType;
  /** The value when nothing sets it (`undefined`: unset). */
  default: unknown;
  /** The environment variable that sets it. */
  env: string;
  /** Older variable names of the same setting, still read when `env` is not set. */
  aliases?: readonly string[];
  /** What it does, in one line. */
  help: string;
  /** The default as documented, where the real one depends on the machine (a folder of the checkout). */
  shownDefault?: string;
  /** What a value may be; derived from the schema when omitted. */
  accepts?: string;
  /** A command-line flag that sets it too (`api-port` for `--api-port`). */
  flag?: string;
}

/** A nested group of settings (`golem` in the oracle's file), with a check across its fields. */
export interface Section {
  help: string;
  settings: Settings;
  /** Validates the assembled section (cross-field rules); its issues are reported per field. */
  check?: z.ZodType;
}

export type Settings = { readonly [key: string]: Setting | Section };

export type ConfigOf<S extends Settings> = {
  -readonly [K in keyof S]: S[K] extends Section ? ConfigOf<S[K]["settings"]> : S[K] extends Setting ? z.output<S[K]["schema"]> : never;
};

/** Input for tests and embedders: any subset, sections nested like the file (checked when loaded). */
export type ConfigInput<S extends Settings> = { [K in keyof S]?: unknown };

export class ConfigError extends Error {
  override name = "ConfigError";
}

export const isSection = (entry: Setting | Section): entry is Section => "settings" in entry;

export interface ConfigSources {
  /** Environment variables (the entry point passes `process.env`). */
  env?: Readonly<Record<string, string | undefined>>;
  /** A configuration file's parsed JSON object and its name for messages. */
  file?: { name: string; values: Record<string, unknown> };
  /** Explicit values, nested like the file: flags, launchers, tests. They win over everything. */
  overrides?: Record<string, unknown>;
  /** How an explicit value's source is named in messages; default "override". */
  overrideSource?: (path: string, setting: Setting) => string;
}

/** Keys starting with `//` are comments in a configuration file (the example file uses them). */
const isComment = (key: string) => key.startsWith("//");

/**
 * The configuration `settings` describe, from defaults overlaid by the file, the
 * environment and then `overrides`. Throws one ConfigError listing every bad setting.
 */
export function loadSettings<S extends Settings>(settings: S, sources: ConfigSources, what: string): ConfigOf<S> {
  const problems: string[] = [];
  const config = loadSection(settings, sources, "", sources.file?.values ?? {}, sources.overrides ?? {}, problems, undefined);
  if (problems.length > 0) throw new ConfigError(`invalid ${what}:\n  ${problems.join("\n  ")}`);
  return config as ConfigOf<S>;
}

function loadSection(
  settings: Settings,
  sources: ConfigSources,
  prefix: string,
  fromFile: Record<string, unknown>,
  overrides: Record<string, unknown>,
  problems: string[],
  check: z.ZodType | undefined,
): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  const sourceOf: Record<string, string> = {};
  const fileName = sources.file?.name ?? "file";
  let failed = false;
  for (const [key, entry] of Object.entries(settings)) {
    const path = `${prefix}${key}`;
    if (isSection(entry)) {
      const nestedFile = objectAt(fromFile, key, `${fileName}: ${path}`, problems);
      const nestedOverrides = objectAt(overrides, key, `override ${path}`, problems);
      config[key] = loadSection(entry.settings, sources, `${path}.`, nestedFile, nestedOverrides, problems, entry.check);
      continue;
    }
    let raw: unknown = entry.default;
    let source = "default";
    if (key in fromFile) [raw, source] = [fromFile[key], fileName];
    for (const name of [...(entry.aliases ?? []).toReversed(), entry.env]) {
      const text = sources.env?.[name];
      if (text !== undefined && text !== "") [raw, source] = [text, name];
    }
    if (key in overrides && overrides[key] !== undefined)
      [raw, source] = [overrides[key], sources.overrideSource?.(path, entry) ?? "override"];
    sourceOf[key] = source;
    const parsed = entry.schema.safeParse(raw);
    if (parsed.success) config[key] = parsed.data;
    else {
      failed = true;
      problems.push(problemLine(path, source, parsed.error.issues.map((issue) => issue.message).join("; "), acceptedValues(entry)));
    }
  }
  const unknown = Object.keys(fromFile).filter((key) => !(key in settings) && !isComment(key));
  if (unknown.length > 0)
    problems.push(
      `${fileName}: unknown ${unknown.length === 1 ? "field" : "fields"} ${unknown.map((key) => `${prefix}${key}`).join(", ")}`,
    );
  if (check && !failed) {
    const parsed = check.safeParse(config);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const key = issue.path[0] === undefined ? "" : String(issue.path[0]);
        const entry = settings[key];
        problems.push(
          key && entry && !isSection(entry)
            ? problemLine(`${prefix}${key}`, sourceOf[key] ?? "default", issue.message, undefined)
            : `${prefix.slice(0, -1) || "configuration"}: ${issue.message}`,
        );
      }
    } else return parsed.data as Record<string, unknown>;
  }
  return config;
}

function problemLine(path: string, source: string, message: string, accepts: string | undefined): string {
  return `${path} (${source}): ${message}${accepts ? ` (accepted: ${accepts})` : ""}`;
}

function objectAt(values: Record<string, unknown>, key: string, where: string, problems: string[]): Record<string, unknown> {
  const value = values[key];
  if (value === undefined) return {};
  if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  problems.push(`${where} must be an object of settings`);
  return {};
}

/** What a setting accepts, in words: its `accepts`, else read from the schema (undefined when the schema's own message says it). */
export function acceptedValues(setting: Pick<Setting, "schema" | "accepts">): string | undefined {
  return setting.accepts ?? describeSchema(setting.schema);
}

interface SchemaDef {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
  entries?: Record<string, string>;
  options?: z.ZodType[];
  element?: z.ZodType;
  format?: string;
  checks?: unknown[];
}

function describeSchema(schema: z.ZodType): string | undefined {
  const def = (schema as unknown as { _zod: { def: SchemaDef } })._zod.def;
  switch (def.type) {
    case "optional":
    case "default":
    case "prefault":
    case "nullable":
      return describeSchema(def.innerType!);
    case "pipe": {
      const out = describeSchema(def.out!);
      return out ?? describeSchema(def.in!);
    }
    case "enum":
      return `one of ${Object.values(def.entries!).join(", ")}`;
    case "boolean":
      return "true or false";
    case "union": {
      const each = def.options!.map(describeSchema);
      if (each.includes("true or false")) return "true or false";
      return each.every((text) => text !== undefined) ? [...new Set(each)].join(", or ") : undefined;
    }
    case "array":
      return def.element ? `a list of ${describeSchema(def.element) ?? "values"}` : undefined;
    case "string":
      return def.format === "url" ? "a URL (http://host:port)" : undefined;
    case "bigint":
    case "number": {
      let kind = def.type === "bigint" ? "a whole number" : "a number";
      const bounds: string[] = [];
      for (const check of def.checks ?? []) {
        const {
          check: name,
          value,
          inclusive,
          format,
        } = (check as { _zod: { def: { check: string; value?: unknown; inclusive?: boolean; format?: string } } })._zod.def;
        if (name === "number_format" && format === "safeint") kind = "an integer";
        else if (name === "greater_than") bounds[0] = `${inclusive ? "≥" : ">"} ${String(value)}`;
        else if (name === "less_than") bounds[1] = `${inclusive ? "≤" : "<"} ${String(value)}`;
      }
      const [low, high] = bounds;
      if (low?.startsWith("≥") && high?.startsWith("≤")) return `${kind} from ${low.slice(2)} to ${high.slice(2)}`;
      return [kind, low, high]
        .filter(Boolean)
        .join(" ")
        .replace(/ (≤|<)/, low ? " and $1" : " $1");
    }
    default:
      return undefined;
  }
}

export interface DescribeOptions {
  /** How a default is shown (after `shownDefault`); default: its text, arrays joined by `joiner`. */
  formatDefault?: (value: unknown) => string;
}

function shownDefault(setting: Setting, options: DescribeOptions): string | undefined {
  if (setting.shownDefault !== undefined) return setting.shownDefault;
  if (setting.default === undefined) return undefined;
  if (options.formatDefault) return options.formatDefault(setting.default);
  return Array.isArray(setting.default) ? setting.default.join(",") : String(setting.default);
}

/** Every setting, sections flattened with dotted keys. */
export function flattenSettings(settings: Settings, prefix = ""): [path: string, setting: Setting][] {
  return Object.entries(settings).flatMap(([key, entry]): [string, Setting][] =>
    isSection(entry) ? flattenSettings(entry.settings, `${prefix}${key}.`) : [[`${prefix}${key}`, entry]],
  );
}

/** The Markdown table of the settings: variable (and flag), key, default, meaning. */
export function describeSettings(settings: Settings, options: DescribeOptions = {}): string {
  const flags = flattenSettings(settings).some(([, setting]) => setting.flag !== undefined);
  const rows = flattenSettings(settings).map(([path, setting]) => {
    const names = [setting.env, ...(setting.aliases ?? [])].map((name) => `\`${name}\``).join(" (or ");
    const variable = setting.aliases?.length ? `${names}${")".repeat(setting.aliases.length)}` : names;
    const shown = shownDefault(setting, options);
    const cells = [
      variable,
      ...(flags ? [setting.flag ? `\`--${setting.flag}\`` : "—"] : []),
      `\`${path}\``,
      shown === undefined ? "—" : `\`${shown}\``,
      setting.help,
    ];
    return `| ${cells.join(" | ")} |`;
  });
  const head = ["environment", ...(flags ? ["flag"] : []), "key", "default", "meaning"];
  return [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`, ...rows].join("\n");
}

/**
 * Lines for `.env.example`: per setting, its meaning, default and accepted values as a
 * comment, then the variable commented out, so that the file changes nothing until a
 * line is uncommented.
 */
export function envExampleLines(settings: Settings, options: DescribeOptions = {}): string[] {
  const lines: string[] = [];
  for (const [path, setting] of flattenSettings(settings)) {
    const shown = shownDefault(setting, options);
    const accepts = acceptedValues(setting);
    const also = setting.aliases?.length ? `; also read as ${setting.aliases.join(", ")}` : "";
    lines.push(`# ${path}: ${setting.help} (default: ${shown ?? "unset"}${accepts ? `; ${accepts}` : ""}${also})`);
    lines.push(`#${setting.env}=${shown ?? ""}`);
  }
  return lines;
}

/**
 * A configuration file giving every setting its default, each after a `//key` comment
 * with its meaning and variable; settings without a portable default (unset, or a
 * folder of the checkout) appear as the comment only.
 */
export function jsonExample(settings: Settings, options: DescribeOptions = {}): Record<string, unknown> {
  const example: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(settings)) {
    if (isSection(entry)) {
      example[`//${key}`] = entry.help;
      example[key] = jsonExample(entry.settings, options);
      continue;
    }
    const shown = shownDefault(entry, options);
    const portable = entry.shownDefault === undefined && entry.default !== undefined;
    example[`//${key}`] = `${entry.help} (${entry.env}${portable ? "" : `; default: ${shown ?? "unset"}`})`;
    if (portable) example[key] = typeof entry.default === "bigint" ? String(entry.default) : entry.default;
  }
  return example;
}

/** The defaults of `settings` as a loaded configuration would hold them (no file, no environment). */
export function defaultsOf<S extends Settings>(settings: S, what = "configuration defaults"): ConfigOf<S> {
  return loadSettings(settings, {}, what);
}
