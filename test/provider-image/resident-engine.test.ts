/**
 * `entry.ts --resident`, run as child processes the way a Golem VM runs its commands:
 * the first call starts the resident engine, later calls hand it their batch; the
 * answers are the one-shot command's, and a failed batch, a dead engine or a stale
 * socket file are each handled without a wrong or stale answer.
 */
import { execFile } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { rawCidOfBytes } from "@argus/provider-image/file-cid";
import type { BatchDescription } from "@argus/protocol/batch";
import { REPO_ROOT, requireSharedData, SHARED_IMAGES_DIR, SHARED_MODELS_DIR, sharedImage } from "../support/shared.ts";
import { MOBILENET } from "./support/engine.ts";
import { isAlive } from "../stack/support/npm-start.ts";

const ENTRY = join(REPO_ROOT, "provider-image/src/bin/entry.ts");

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** results.json without the timings, which differ from run to run. */
async function answers(path: string): Promise<unknown[]> {
  return (JSON.parse(await readFile(path, "utf8")) as Record<string, unknown>[]).map(({ timings: _timings, ...rest }) => rest);
}

describe("provider image: the resident engine (entry.ts --resident)", function () {
  this.timeout(120_000);
  let root: string;
  let input: string;
  let output: string;
  let residentDir: string;

  function entry(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Outcome> {
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        [ENTRY, "--input", input, "--output", output, ...args],
        {
          env: {
            PATH: process.env.PATH,
            HOME: process.env.HOME,
            ARGUS_MODELS_DIR: SHARED_MODELS_DIR,
            // The engine self-tests each model before serving it: its reference photos are
            // in the shared data. Unset, it would download them (no network in CI).
            ARGUS_REFERENCE_PHOTOS_DIR: SHARED_IMAGES_DIR,
            ARGUS_RESIDENT_DIR: residentDir,
            ...env,
          },
        },
        (error, stdout, stderr) => resolve({ code: error ? ((error.code as number | undefined) ?? 1) : 0, stdout, stderr }),
      );
    });
  }

  async function serverPid(): Promise<number> {
    return Number((await readFile(join(residentDir, "engine.pid"), "utf8")).trim());
  }

  async function stopServer(): Promise<void> {
    const pid = await serverPid().catch(() => undefined);
    if (pid !== undefined && isAlive(pid)) process.kill(pid, "SIGKILL");
  }

  before(async function () {
    requireSharedData(this);
    root = await mkdtemp(join(tmpdir(), "argus-resident-"));
    input = join(root, "input");
    output = join(root, "output");
    residentDir = join(root, "tmp", "argus-engine");
    await mkdir(input);
    const requests: BatchDescription["requests"] = [];
    for (const [index, photo] of ["wml_cat.jpg", "ortx_pineapple.png", "wonnx_bald_eagle.jpeg", "glow_dog_207.png"].entries()) {
      await copyFile(sharedImage(photo), join(input, photo));
      requests.push({ requestId: String(index + 1), imageCid: await rawCidOfBytes(await readFile(join(input, photo))), imageFile: photo });
    }
    const batch: BatchDescription = { batchVersion: 1, modelId: MOBILENET, requests };
    await writeFile(join(input, "batch.json"), JSON.stringify(batch));
  });

  afterEach(stopServer);

  after(async function () {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("answers exactly as the one-shot command, and from the second batch on without loading anything", async function () {
    const once = await entry([]);
    expect(once.code, once.stderr).to.equal(0);
    expect(JSON.parse(once.stdout)).to.deep.include({ modelId: MOBILENET, results: 4, errors: 0, engine: "one-shot" });
    const oneShotResults = await answers(join(output, "results.json"));

    const first = await entry(["--resident"]);
    expect(first.code, first.stderr).to.equal(0);
    expect(JSON.parse(first.stdout)).to.deep.include({ results: 4, errors: 0, engine: "resident", warm: false });
    expect(await answers(join(output, "results.json"))).to.deep.equal(oneShotResults);
    const pid = await serverPid();

    const second = await entry(["--resident"]);
    expect(second.code, second.stderr).to.equal(0);
    expect(JSON.parse(second.stdout)).to.deep.include({ results: 4, engine: "resident", warm: true });
    expect(await answers(join(output, "results.json"))).to.deep.equal(oneShotResults);
    expect(await serverPid(), "the same server").to.equal(pid);
    expect((await stat(join(residentDir, "engine.sock"))).isSocket()).to.equal(true);
  });

  it("fails a bad batch with its reason and no results file, and serves the next one", async function () {
    expect((await entry(["--resident"])).code).to.equal(0);
    const good = await readFile(join(input, "batch.json"), "utf8");
    await writeFile(join(input, "batch.json"), JSON.stringify({ batchVersion: 1, modelId: "no-such-model", requests: [] }));
    try {
      const bad = await entry(["--resident"]);
      expect(bad.code).to.equal(1);
      expect(bad.stderr).to.match(/^argus: ResidentEngineError: .+/);
      expect(await stat(join(output, "results.json")).catch(() => undefined), "no stale results").to.equal(undefined);
    } finally {
      await writeFile(join(input, "batch.json"), good);
    }
    const next = await entry(["--resident"]);
    expect(next.code, next.stderr).to.equal(0);
    expect(JSON.parse(next.stdout)).to.deep.include({ results: 4, warm: true });
  });

  it("starts a new engine when the last one died and left its socket file behind", async function () {
    expect((await entry(["--resident"])).code).to.equal(0);
    const dead = await serverPid();
    process.kill(dead, "SIGKILL");
    while (isAlive(dead)) await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await stat(join(residentDir, "engine.sock"))).isSocket(), "the socket file outlives its server").to.equal(true);
    const again = await entry(["--resident"]);
    expect(again.code, again.stderr).to.equal(0);
    expect(JSON.parse(again.stdout)).to.deep.include({ results: 4, warm: false });
    expect(await serverPid()).to.not.equal(dead);
  });

  it("says the engine stopped when it dies in the middle of a batch, and leaves no results file", async function () {
    expect((await entry(["--resident"])).code).to.equal(0);
    const pid = await serverPid();
    const pending = entry(["--resident"]);
    // The batch is in flight once the previous results file is removed (the server's first step).
    while (await stat(join(output, "results.json")).catch(() => undefined)) await new Promise((resolve) => setTimeout(resolve, 2));
    process.kill(pid, "SIGKILL");
    const cut = await pending;
    expect(cut.code).to.equal(1);
    expect(cut.stderr).to.include("the resident engine stopped before answering");
    expect(await stat(join(output, "results.json")).catch(() => undefined)).to.equal(undefined);
  });
});
