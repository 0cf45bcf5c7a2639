/**
 * The production dependency tree of one workspace package, found by Node's own
 * resolution walk over the installed node_modules (no npm needed in or for the image).
 * Workspace packages (symlinks into the repository) are reported separately: the
 * image carries their sources, not a copy of node_modules' link.
 */
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { dirname, join, relative } from "node:path";

export interface ProductionTree {
  /** Installed package folders, relative to the repository root (e.g. node_modules/sharp). */
  packageDirs: string[];
  /** Workspace packages depended on: name → their folder relative to the repository root. */
  workspaceLinks: Map<string, string>;
}

interface PackageJson {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

function readPackageJson(dir: string): PackageJson {
  return JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as PackageJson;
}

/** The folder `name` resolves to from `fromDir`, climbing node_modules up to the root. */
function resolvePackageDir(name: string, fromDir: string, repoRoot: string): string | undefined {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, "node_modules", name);
    if (existsSync(join(candidate, "package.json"))) return candidate;
    if (dir === repoRoot || dir === dirname(dir)) return undefined;
  }
}

export function productionTree(repoRoot: string, packageDir: string): ProductionTree {
  const packageDirs = new Set<string>();
  const workspaceLinks = new Map<string, string>();
  const visit = (dir: string) => {
    const manifest = readPackageJson(dir);
    const required = Object.keys(manifest.dependencies ?? {});
    // Optional dependencies are platform binaries (sharp's @img/*): take those installed here.
    const optional = Object.keys(manifest.optionalDependencies ?? {});
    for (const name of [...required, ...optional]) {
      const found = resolvePackageDir(name, dir, repoRoot);
      if (found === undefined) {
        if (required.includes(name))
          throw new Error(`${name} (needed by ${relative(repoRoot, dir) || "."}) is not installed: run npm install`);
        continue;
      }
      const real = realpathSync(found);
      const fromRoot = relative(repoRoot, real);
      if (!fromRoot.split("/").includes("node_modules")) {
        if (!workspaceLinks.has(name)) {
          workspaceLinks.set(name, fromRoot);
          visit(real);
        }
        continue;
      }
      const installed = relative(repoRoot, found);
      if (packageDirs.has(installed)) continue;
      packageDirs.add(installed);
      visit(found);
    }
  };
  visit(join(repoRoot, packageDir));
  return { packageDirs: [...packageDirs].sort(), workspaceLinks };
}
