/**
 * Lighthouse (npm `lighthouse`, pinned) on the production build, mobile preset (its
 * default: Moto G-class emulation, simulated slow 4G and 4× CPU slowdown), in Debian's
 * Chromium. The pages need a deployment to talk to, so this starts the real local stack
 * (`npm start` with the production UI and the oracle) on free ports in a scratch state
 * directory, pays for one prediction with the `argus` CLI and waits for its answer, then
 * audits the start page and that request's page (`/r/<id>`, with its verified result),
 * each ARGUS_LIGHTHOUSE_RUNS times (default 3), and stops the stack.
 *
 * Lighthouse's simulated throttling starts from the timings it observes, so on a shared
 * machine the performance score moves with the load: each page's score is the median of
 * its runs, every run is printed, and the 1-minute load average is sampled before each.
 * The full reports go to test-output/lighthouse/<page>-<run>.json.
 * Targets, on every page's median: performance ≥ 90, accessibility = 100, best practices ≥ 95.
 *
 * Run by bench-bundle.ts (npm run bench:frontend) or alone; prints one JSON line last:
 * {"lighthouse":{"main":{"performance":…,"accessibility":…,"bestPractices":…,"runs":[…]},"request":{…}},"loadAverage":{…}}
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import lighthouse from "lighthouse";
import { chromium } from "playwright-core";

const REPO = resolve(import.meta.dirname, "../..");
const REPORTS_DIR = join(REPO, "test-output/lighthouse");
const CHROMIUM = process.env.ARGUS_CHROMIUM ?? "/usr/bin/chromium";
const SHARED = process.env.ARGUS_SHARED_DIR ?? resolve(REPO, "../shared");
const RUNS = Number(process.env.ARGUS_LIGHTHOUSE_RUNS || 3);
export const LIGHTHOUSE_TARGETS = { performance: 90, accessibility: 100, bestPractices: 95 };

export interface LighthouseScores {
  performance: number;
  accessibility: number;
  bestPractices: number;
}
/** A page's median scores, and each run's with the load average sampled before it. */
export type PageScores = LighthouseScores & { runs: (LighthouseScores & { loadAverage: number })[] };
export interface LighthouseFigures {
  lighthouse: Record<string, PageScores>;
  /** The 1-minute load average over the runs. */
  loadAverage: { min: number; median: number; max: number };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as { port: number };
  await new Promise((done) => server.close(done));
  return port;
}

interface RunningStack {
  url: string;
  child: ChildProcess;
  /** The funded test account's key the stack printed. */
  privateKey: string;
}

/** The local stack with the production UI on free ports; resolves once it says it is running. */
async function startStack(stateDir: string): Promise<RunningStack> {
  const [chain, api, gateway, ui, status] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
  const child = spawn(process.execPath, [join(REPO, "scripts/stack/start.ts"), "--ui", "preview"], {
    cwd: REPO,
    env: {
      ...process.env,
      ARGUS_STATE_DIR: stateDir,
      ARGUS_CHAIN_PORT: String(chain),
      ARGUS_IPFS_API_PORT: String(api),
      ARGUS_IPFS_GATEWAY_PORT: String(gateway),
      ARGUS_UI_PORT: String(ui),
      ARGUS_ORACLE_PORT: String(status),
      ARGUS_GATEWAY: "off", // the HTTP payment gateway: the pages do not use it
      ...(existsSync(join(SHARED, "models")) && !process.env.ARGUS_MODELS_DIR ? { ARGUS_MODELS_DIR: join(SHARED, "models") } : {}),
      ...(existsSync(join(SHARED, "images")) && !process.env.ARGUS_REFERENCE_PHOTOS_DIR
        ? { ARGUS_REFERENCE_PHOTOS_DIR: join(SHARED, "images") }
        : {}),
    },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true, // its own process group, so stopping it stops everything it started
  });
  let output = "";
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout!.on("data", collect);
  child.stderr!.on("data", collect);
  const url = `http://127.0.0.1:${ui}/`;
  const deadline = Date.now() + 300_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the stack exited (${child.exitCode}):\n${output}`);
    const key = /export ARGUS_PRIVATE_KEY=(0x[0-9a-f]{64})/.exec(output)?.[1];
    if (/ready — Ctrl-C stops everything/.test(output) && key) return { url, child, privateKey: key };
    await new Promise((done) => setTimeout(done, 500));
  }
  await stop(child);
  throw new Error(`the stack did not start within 5 minutes:\n${output}`);
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null) return done();
    child.once("exit", () => done());
    process.kill(-child.pid!, "SIGINT");
    setTimeout(() => {
      if (child.exitCode === null) process.kill(-child.pid!, "SIGKILL");
    }, 20_000).unref();
  });
}

/** Pays for MobileNetV2 on the shared cat photo with the `argus` CLI, waits for the answer; its request id (0x…). */
async function answeredRequest(stateDir: string, privateKey: string): Promise<string> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      join(REPO, "oracle-requestor/cli/src/main.ts"),
      "request",
      "--model",
      "mobilenetv2-12-int8",
      "--image",
      join(SHARED, "images/wml_cat.jpg"),
      "--wait",
      "--timeout",
      "3m",
      "--json",
    ],
    { cwd: REPO, env: { ...process.env, ARGUS_DEPLOYMENT_FILE: join(stateDir, "deployment.json"), ARGUS_PRIVATE_KEY: privateKey } },
  );
  const answer = JSON.parse(stdout) as { requestId: string; status: string; verified?: boolean };
  if (answer.status !== "fulfilled" || answer.verified !== true) throw new Error(`the request was not answered and verified: ${stdout}`);
  return `0x${BigInt(answer.requestId).toString(16)}`;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)]!;

/** One Lighthouse run of `url` in a fresh browser; the report goes to REPORTS_DIR/<name>.json. */
async function audit(url: string, name: string): Promise<LighthouseScores> {
  // Lighthouse drives the browser over its DevTools port; playwright-core only launches it.
  const debugPort = await freePort();
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [`--remote-debugging-port=${debugPort}`, "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
  });
  try {
    const result = await lighthouse(url, {
      port: debugPort,
      output: "json",
      logLevel: "error",
      onlyCategories: ["performance", "accessibility", "best-practices"],
    });
    if (!result) throw new Error("lighthouse returned nothing");
    await writeFile(join(REPORTS_DIR, `${name}.json`), result.report as string);
    const { categories, audits } = result.lhr;
    const score = (id: string) => Math.round((categories[id]?.score ?? 0) * 100);
    for (const [id, category] of Object.entries(categories)) {
      for (const ref of category.auditRefs) {
        const found = audits[ref.id];
        if (ref.weight > 0 && found && found.score !== null && found.score < 1)
          console.log(`  ${name} ${id}: ${found.id} ${found.score} ${found.displayValue ?? ""}`);
      }
    }
    return { performance: score("performance"), accessibility: score("accessibility"), bestPractices: score("best-practices") };
  } finally {
    await browser.close();
  }
}

export async function runLighthouse(): Promise<LighthouseFigures> {
  await mkdir(REPORTS_DIR, { recursive: true });
  const stateDir = await mkdtemp(join(tmpdir(), "argus-lighthouse-"));
  const stack = await startStack(stateDir);
  try {
    const pages: Record<string, string> = { main: stack.url };
    if (existsSync(join(SHARED, "images/wml_cat.jpg")))
      pages.request = new URL(`r/${await answeredRequest(stateDir, stack.privateKey)}`, stack.url).href;
    else console.log(`no ${SHARED}/images/wml_cat.jpg: the request page is not audited`);
    const figures: LighthouseFigures = { lighthouse: {}, loadAverage: { min: 0, median: 0, max: 0 } };
    const loads: number[] = [];
    for (const [page, url] of Object.entries(pages)) {
      const runs: PageScores["runs"] = [];
      for (let run = 1; run <= RUNS; run++) {
        const loadAverage = Number(loadavg()[0]!.toFixed(2));
        loads.push(loadAverage);
        const scores = await audit(url, `${page}-${run}`);
        console.log(`lighthouse ${page} run ${run}: ${JSON.stringify(scores)} at load ${loadAverage}`);
        runs.push({ ...scores, loadAverage });
      }
      figures.lighthouse[page] = {
        performance: median(runs.map((run) => run.performance)),
        accessibility: median(runs.map((run) => run.accessibility)),
        bestPractices: median(runs.map((run) => run.bestPractices)),
        runs,
      };
    }
    figures.loadAverage = { min: Math.min(...loads), median: median(loads), max: Math.max(...loads) };
    return figures;
  } finally {
    await stop(stack.child);
    await rm(stateDir, { recursive: true, force: true });
  }
}

/** Every audited page's median meets the targets. */
export function meetsTargets(figures: LighthouseFigures): boolean {
  return Object.values(figures.lighthouse).every(
    (page) =>
      page.performance >= LIGHTHOUSE_TARGETS.performance &&
      page.accessibility >= LIGHTHOUSE_TARGETS.accessibility &&
      page.bestPractices >= LIGHTHOUSE_TARGETS.bestPractices,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const figures = await runLighthouse();
  console.log(JSON.stringify(figures));
  if (!meetsTargets(figures)) process.exitCode = 1;
}
