/**
 * `npm run bench:frontend`: builds the app and measures the JavaScript a first visit
 * loads before any interaction (the entry chunk and everything it imports statically;
 * lazy chunks excluded), gzipped. Budget: 300 KB. Then Lighthouse on the production build,
 * the start page and an answered request's page, 3 runs each (bench-lighthouse.ts: it
 * starts the whole local stack; ARGUS_BENCH_LIGHTHOUSE=0 skips it). The last line is
 * machine-readable:
 *   {"initialJsGzipKB":…,"totalJsGzipKB":…,"chunks":…,"lighthouse":{"main":{"performance":…,"accessibility":…,"bestPractices":…,"runs":[…]},"request":{…}},"loadAverage":{…}}
 * (Lighthouse's performance score depends on the machine's load: the load is printed beside it.)
 */
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { LIGHTHOUSE_TARGETS, meetsTargets, runLighthouse } from "./bench-lighthouse.ts";

const FRONTEND = resolve(import.meta.dirname, "..");
const DIST = join(FRONTEND, "dist");
const BUDGET_KB = 300;

interface ManifestChunk {
  file: string;
  isEntry?: boolean;
  imports?: string[];
}

const viteBin = join(dirname(createRequire(import.meta.url).resolve("vite/package.json")), "bin/vite.js");
execFileSync(process.execPath, [viteBin, "build", "--logLevel", "warn"], {
  cwd: FRONTEND,
  stdio: ["ignore", "inherit", "inherit"],
});
const manifest = JSON.parse(await readFile(join(DIST, ".vite/manifest.json"), "utf8")) as Record<string, ManifestChunk>;

const gzipKB = async (file: string) => gzipSync(await readFile(join(DIST, file))).byteLength / 1024;

const initial = new Set<string>();
const visit = (key: string) => {
  const chunk = manifest[key];
  if (!chunk || initial.has(chunk.file)) return;
  initial.add(chunk.file);
  for (const imported of chunk.imports ?? []) visit(imported);
};
for (const [key, chunk] of Object.entries(manifest)) if (chunk.isEntry) visit(key);

const allJs = [...new Set(Object.values(manifest).map((chunk) => chunk.file))].filter((file) => file.endsWith(".js"));
let initialKB = 0;
let totalKB = 0;
for (const file of allJs) {
  const size = await gzipKB(file);
  totalKB += size;
  if (initial.has(file)) initialKB += size;
  console.log(`${initial.has(file) ? "initial" : "lazy   "} ${size.toFixed(1).padStart(7)} KB gz  ${file}`);
}
console.log(`initial JavaScript ${initialKB.toFixed(1)} KB gzipped (budget ${BUDGET_KB} KB)`);
const figures: Record<string, unknown> = {
  initialJsGzipKB: Number(initialKB.toFixed(1)),
  totalJsGzipKB: Number(totalKB.toFixed(1)),
  chunks: allJs.length,
};
let failed = initialKB > BUDGET_KB;
if (process.env.ARGUS_BENCH_LIGHTHOUSE !== "0") {
  const lighthouse = await runLighthouse();
  for (const [page, scores] of Object.entries(lighthouse.lighthouse))
    console.log(`lighthouse (mobile) ${page}, median of ${scores.runs.length}: ${JSON.stringify({ ...scores, runs: undefined })}`);
  console.log(`load average over the runs ${JSON.stringify(lighthouse.loadAverage)}; targets ${JSON.stringify(LIGHTHOUSE_TARGETS)}`);
  Object.assign(figures, lighthouse);
  failed ||= !meetsTargets(lighthouse);
}
console.log(JSON.stringify(figures));
if (failed) process.exitCode = 1;
