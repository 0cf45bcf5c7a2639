/**
 * Lighthouse (npm `lighthouse`, pinned) on the production build, mobile preset (its
 * default: Moto G-class emulation, simulated slow 4G and 4× CPU slowdown), in Debian's
 * Chromium. The page needs a deployment to talk to, so this starts the real local stack
 * (`npm start` with the production UI, no oracle) on free ports in a scratch state
 * directory, audits the start page, and stops the stack. Targets: performance ≥ 90,
 * accessibility = 100, best practices ≥ 95.
 *
 * Run by bench-bundle.ts (ARGUS_BENCH_LIGHTHOUSE=1 npm run bench:frontend) or alone;
 * prints one JSON line last: {"lighthouse":{"performance":…,"accessibility":…,"bestPractices":…},"loadAverage":…}
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import lighthouse from "lighthouse";
import { chromium } from "playwright-core";

const REPO = resolve(import.meta.dirname, "../..");
const CHROMIUM = process.env.ARGUS_CHROMIUM ?? "/usr/bin/chromium";
export const LIGHTHOUSE_TARGETS = { performance: 90, accessibility: 100, bestPractices: 95 };

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as { port: number };
  await new Promise((done) => server.close(done));
  return port;
}

/** The local stack with the production UI on free ports; resolves with the UI's URL once it answers. */
async function startStack(stateDir: string): Promise<{ url: string; child: ChildProcess }> {
  const [chain, api, gateway, ui] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const shared = process.env.ARGUS_SHARED_DIR ?? "/work/shared";
  const child = spawn(process.execPath, [join(REPO, "scripts/stack/start.ts"), "--ui", "preview"], {
    cwd: REPO,
    env: {
      ...process.env,
      ARGUS_STATE_DIR: stateDir,
      ARGUS_ORACLE: "off",
      ARGUS_CHAIN_PORT: String(chain),
      ARGUS_IPFS_API_PORT: String(api),
      ARGUS_IPFS_GATEWAY_PORT: String(gateway),
      ARGUS_UI_PORT: String(ui),
      ...(existsSync(join(shared, "models")) && !process.env.ARGUS_MODELS_DIR ? { ARGUS_MODELS_DIR: join(shared, "models") } : {}),
      ...(existsSync(join(shared, "images")) && !process.env.ARGUS_REFERENCE_PHOTOS_DIR
        ? { ARGUS_REFERENCE_PHOTOS_DIR: join(shared, "images") }
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
  const deadline = Date.now() + 240_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the stack exited (${child.exitCode}):\n${output}`);
    if (/Argus is running/.test(output)) return { url, child };
    await new Promise((done) => setTimeout(done, 500));
  }
  throw new Error(`the stack did not start within 4 minutes:\n${output}`);
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

export interface LighthouseScores {
  performance: number;
  accessibility: number;
  bestPractices: number;
}

export async function runLighthouse(): Promise<LighthouseScores> {
  const stateDir = await mkdtemp(join(tmpdir(), "argus-lighthouse-"));
  const { url, child } = await startStack(stateDir);
  // Lighthouse drives the browser over its DevTools port; playwright-core only launches it.
  const debugPort = await freePort();
  const browser = await chromium
    .launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [`--remote-debugging-port=${debugPort}`, "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
    })
    .catch(async (error: unknown) => {
      await stop(child);
      throw error;
    });
  try {
    const result = await lighthouse(url, {
      port: debugPort,
      output: "json",
      logLevel: "error",
      onlyCategories: ["performance", "accessibility", "best-practices"],
    });
    if (!result) throw new Error("lighthouse returned nothing");
    const { categories } = result.lhr;
    const score = (id: string) => Math.round((categories[id]?.score ?? 0) * 100);
    for (const [id, category] of Object.entries(categories)) {
      for (const ref of category.auditRefs) {
        const audit = result.lhr.audits[ref.id];
        if (ref.weight > 0 && audit && audit.score !== null && audit.score < 1)
          console.log(`  ${id}: ${audit.id} ${audit.score} ${audit.displayValue ?? ""}`);
      }
    }
    return { performance: score("performance"), accessibility: score("accessibility"), bestPractices: score("best-practices") };
  } finally {
    await browser.close();
    await stop(child);
    await rm(stateDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const scores = await runLighthouse();
  const [loadAverage] = loadavg();
  console.log(JSON.stringify({ lighthouse: scores, loadAverage: Number(loadAverage!.toFixed(2)) }));
  if (
    scores.performance < LIGHTHOUSE_TARGETS.performance ||
    scores.accessibility < LIGHTHOUSE_TARGETS.accessibility ||
    scores.bestPractices < LIGHTHOUSE_TARGETS.bestPractices
  )
    process.exitCode = 1;
}
