import { expect } from "chai";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BUILTIN_MANIFESTS_DIR } from "@argus/provider-image/catalog";
import { requireSharedData, SHARED_MODELS_DIR } from "../support/shared.ts";
import { argus, cleanEnv } from "./support/argus.ts";

/**
 * `argus models check`: the self-test on demand, needing no chain — a table of the
 * reference photos with expected and obtained answers, exit code 1 for a failing
 * model, and `--record` writing a passing score into the manifest file.
 */
describe("argus models check", function () {
  let workDir: string;
  const env = cleanEnv({ ARGUS_MODELS_DIR: SHARED_MODELS_DIR });

  before(async function () {
    requireSharedData(this);
    workDir = await mkdtemp(join(tmpdir(), "argus-check-"));
  });

  after(async function () {
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it("prints one line per reference photo, right or wrong, and the verdict", async function () {
    const run = await argus(["models", "check", "mobilenetv2-12-int8"], env);
    expect(run.code, run.stderr).to.equal(0);
    const lines = run.stdout.trim().split("\n");
    expect(lines[0]).to.equal("mobilenetv2-12-int8 on imagenet-photos-v1: 6 of 6 right, requires 6 — pass");
    expect(lines).to.have.length(7);
    expect(run.stdout).to.match(/✓ wonnx_bald_eagle.jpeg\s+bald eagle \(22\)\s+→ bald eagle \(22\) \d+\.\d%/);

    const detector = await argus(["models", "check", "fastestdet-coco80", "--json"], env);
    expect(detector.code, detector.stderr).to.equal(0);
    expect(detector.json()).to.deep.include({ referenceSet: "coco-objects-v1", correct: 10, total: 10, passed: true });
  });

  it("a failing manifest: exit 1, its misses marked; --record leaves it alone", async function () {
    const manifest = JSON.parse(await readFile(join(BUILTIN_MANIFESTS_DIR, "mobilenetv2-12-int8.json"), "utf8"));
    manifest.id = "mobilenet-caffe";
    manifest.preprocess = { ...manifest.preprocess, scale: 1, mean: [104, 117, 123], std: [1, 1, 1] };
    delete manifest.selfTest.measured;
    const file = join(workDir, "mobilenet-caffe.json");
    await writeFile(file, JSON.stringify(manifest));
    const run = await argus(["models", "check", file, "--record"], env);
    expect(run.code).to.equal(1);
    expect(run.stdout)
      .to.contain("0 of 6 right, requires 6 — FAIL")
      .and.match(/✗ glow_dog_207.png\s+golden retriever \(207\)/);
    expect(JSON.parse(await readFile(file, "utf8")).selfTest.measured).to.equal(undefined);
  });

  it("--record writes a passing score into the manifest file, and the check warns when a recorded score differs", async function () {
    const manifest = JSON.parse(await readFile(join(BUILTIN_MANIFESTS_DIR, "squeezenet1.1-fp16.json"), "utf8"));
    manifest.id = "squeezenet-recorded";
    manifest.selfTest.measured = { correct: 5, total: 6 };
    const file = join(workDir, "squeezenet-recorded.json");
    await writeFile(file, JSON.stringify(manifest));
    const stale = await argus(["models", "check", file], env);
    expect(stale.code).to.equal(0);
    expect(stale.stderr).to.contain("the manifest records 5/6, this run measured 6/6");
    const recorded = await argus(["models", "check", file, "--record", "--json"], env);
    expect(recorded.code, recorded.stderr).to.equal(0);
    expect(recorded.json()).to.deep.include({ recorded: true, correct: 6 });
    expect(JSON.parse(await readFile(file, "utf8")).selfTest.measured).to.deep.equal({ correct: 6, total: 6 });
  });

  it("a catalogue model whose weights are not here: the error says which file and URL it needs", async function () {
    const run = await argus(["models", "check", "resnet50-v1-12"], env);
    expect(run.code).to.equal(1);
    expect(run.stderr)
      .to.contain("model resnet50-v1-12 needs resnet50-v1-12.onnx")
      .and.contain("https://github.com/onnx/models/raw/b1eeaa1ac722dcc1cd1a8284bde34393dab61c3d/");
  });
});
