/**
 * The packages' dependency rules, as data, and a checker that reads every source file's
 * imports (static, dynamic and `export … from`) and reports each one that crosses a rule:
 *
 * - protocol depends on nothing of ours; escrow, provider-image and ipfs-node on the
 *   protocol only; the oracle and the CLI on those four; the web UI on the escrow client
 *   and the protocol only; the dev chain (npm start, tests) on escrow, provider-image
 *   and protocol; the Golem devnet (an emulated yagna) on provider-image and protocol;
 *   the HTTP gateway on protocol, escrow and ipfs-node; the CLI also on the gateway
 *   (its x402 client scheme, for `argus request --pay-over-http`);
 * - nothing outside scripts/ imports scripts/;
 * - a relative import never leaves its package (cross-package imports go by name);
 * - tests import product code by package name only;
 * - no package exports a wildcard ("./*"): exports are curated.
 *
 * `import.meta.resolve("@argus/oracle/main")` is not an import: the CLI resolves the
 * oracle's entry point to spawn it, which the rules allow.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative, sep } from "node:path";

export interface PackageRule {
  name: string;
  /** The package's folder, relative to the repository root. */
  root: string;
  /** Folders inside `root` that belong to other packages. */
  exclude?: string[];
  /** The @argus packages it may import. */
  mayImport: string[];
}

export const PACKAGE_RULES: PackageRule[] = [
  { name: "@argus/protocol", root: "provider-image/protocol", mayImport: [] },
  { name: "@argus/escrow", root: "contracts/client", mayImport: ["@argus/protocol"] },
  { name: "@argus/provider-image", root: "provider-image", exclude: ["provider-image/protocol"], mayImport: ["@argus/protocol"] },
  { name: "@argus/ipfs-node", root: "oracle-requestor/ipfs-node", mayImport: ["@argus/protocol"] },
  {
    name: "@argus/oracle",
    root: "oracle-requestor",
    exclude: ["oracle-requestor/cli", "oracle-requestor/ipfs-node", "oracle-requestor/golem-devnet", "oracle-requestor/gateway"],
    mayImport: ["@argus/protocol", "@argus/escrow", "@argus/provider-image", "@argus/ipfs-node"],
  },
  {
    name: "@argus/cli",
    root: "oracle-requestor/cli",
    mayImport: ["@argus/protocol", "@argus/escrow", "@argus/provider-image", "@argus/ipfs-node", "@argus/gateway"],
  },
  { name: "@argus/gateway", root: "oracle-requestor/gateway", mayImport: ["@argus/protocol", "@argus/escrow", "@argus/ipfs-node"] },
  { name: "@argus/golem-devnet", root: "oracle-requestor/golem-devnet", mayImport: ["@argus/protocol", "@argus/provider-image"] },
  { name: "@argus/frontend", root: "frontend", mayImport: ["@argus/escrow", "@argus/protocol"] },
  { name: "@argus/devchain", root: "contracts/devchain", mayImport: ["@argus/escrow", "@argus/provider-image", "@argus/protocol"] },
];

const SOURCE = /\.(ts|tsx|mts|mjs|js)$/;
const IMPORT =
  /(?:^|[\s;])(?:import|export)\s[^"'`;]*?from\s*["']([^"']+)["']|(?:^|[\s;(=])import\s*["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/gm;

function sourceFiles(root: string, dir: string, skip: (path: string) => boolean): string[] {
  const found: string[] = [];
  if (!existsSync(join(root, dir))) return found;
  for (const entry of readdirSync(join(root, dir))) {
    const path = join(dir, entry);
    if (entry === "node_modules" || entry === "dist" || entry.startsWith(".") || skip(path)) continue;
    if (statSync(join(root, path)).isDirectory()) found.push(...sourceFiles(root, path, skip));
    else if (SOURCE.test(entry) && !entry.endsWith(".d.ts")) found.push(path);
  }
  return found;
}

export function importsOf(text: string): string[] {
  const specifiers: string[] = [];
  for (const match of text.matchAll(IMPORT)) specifiers.push((match[1] ?? match[2] ?? match[3])!);
  return specifiers;
}

const packageName = (specifier: string) => specifier.split("/").slice(0, 2).join("/");
const inside = (path: string, folder: string) => path === folder || path.startsWith(folder + sep) || path.startsWith(`${folder}/`);

/** Every violation in the repository at `root`, one sentence each. */
export function checkDependencyRules(root: string, rules: readonly PackageRule[] = PACKAGE_RULES): string[] {
  const problems: string[] = [];
  const ownerOf = (path: string) =>
    rules.find((rule) => inside(path, rule.root) && !(rule.exclude ?? []).some((folder) => inside(path, folder)));

  for (const rule of rules) {
    const manifest = join(root, rule.root, "package.json");
    if (!existsSync(manifest)) {
      problems.push(`${rule.name}: no package.json in ${rule.root}`);
      continue;
    }
    const exportsField = JSON.parse(readFileSync(manifest, "utf8")).exports ?? {};
    for (const key of Object.keys(exportsField))
      if (key.includes("*")) problems.push(`${rule.name} exports a wildcard "${key}": list its public modules`);
  }

  const files = sourceFiles(root, ".", (path) => ["artifacts", "cache", "types", "test-output", "coverage"].includes(normalize(path)));
  for (const file of files) {
    const owner = ownerOf(file);
    const inScripts = inside(file, "scripts");
    const inTests = inside(file, "test");
    for (const specifier of importsOf(readFileSync(join(root, file), "utf8"))) {
      if (specifier.startsWith(".")) {
        const target = normalize(join(dirname(file), specifier));
        if (inside(target, "scripts") && !inScripts) problems.push(`${file} imports ${specifier}: nothing imports scripts/`);
        else if (owner && ownerOf(target) !== owner)
          problems.push(`${file} imports ${specifier}, outside ${owner.name}: import other packages by name`);
        else if (inTests && !inside(target, "test") && !inside(target, "types"))
          problems.push(`${file} imports ${specifier}: tests import product code by package name`);
        continue;
      }
      if (!specifier.startsWith("@argus/") || !owner) continue;
      const target = packageName(specifier);
      if (target !== owner.name && !owner.mayImport.includes(target)) {
        problems.push(`${file} imports ${specifier}: ${owner.name} may import ${owner.mayImport.join(", ") || "no package of ours"}`);
      }
    }
  }
  return problems;
}

/** For messages: `path` relative to `root`. */
export function relativeTo(root: string, path: string): string {
  return relative(root, path);
}
