/**
 * The same answer on every CPU. An int8 network's answer must be a function of the
 * weights, the image and the engine version — not of the CPU's instruction set — so
 * that providers can be cross-checked and anyone can recompute a result.
 *
 * The reference is the QDQ graph (reference-graph.ts): exact integer accumulations and
 * IEEE float32 requantization, the same bits on any CPU. These tests check, on this
 * machine, that the engine's chosen path gives those bits for every int8 model and every
 * shared photo, and — under valgrind, which hides AVX-512 and VNNI and so makes
 * onnxruntime use its AVX2 kernels — that the choice is right on an AVX2-only CPU too.
 */
import { execFile } from "node:child_process";
import { readdir } from "node:fs/promises";
import { arch } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import type { Engine } from "@argus/provider-image/engine";
import { fastestExactPath, INT8_PATHS, probeAllPaths } from "@argus/provider-image/inference-path";
import type { ClassificationResult } from "@argus/protocol/result";
import { REPO_ROOT, requireSharedData, SHARED_IMAGES_DIR, SHARED_MODELS_DIR } from "../support/shared.ts";
import { expectClose } from "../support/close-to.ts";
import { expectClassification, MOBILENET, predict, readSharedImage, sharedEngine, SQUEEZENET } from "./support/engine.ts";

const run = promisify(execFile);
const INT8_MODELS = [MOBILENET];

function describeTop5(result: ClassificationResult): string {
  return result.top5.map((entry) => `${entry.classIndex} ${entry.label.split(",")[0]} ${entry.score}`).join(" · ");
}

describe("provider-image: the same answer on every CPU", function () {
  let photoNames: string[];
  let photos: Buffer[];
  const engines = new Map<string, Engine>();
  const engineFor = (int8Path: (typeof INT8_PATHS)[number] | "auto") => {
    if (!engines.has(int8Path)) engines.set(int8Path, sharedEngine(int8Path === "auto" ? {} : { int8Path }));
    return engines.get(int8Path)!;
  };

  before(async function () {
    requireSharedData(this);
    photoNames = (await readdir(SHARED_IMAGES_DIR)).filter((name) => /\.(jpe?g|png)$/i.test(name)).sort();
    photos = await Promise.all(photoNames.map(readSharedImage));
  });

  it("picks the fastest path whose answers on the kernel probe equal the reference's bits", async function () {
    const verdicts = await probeAllPaths();
    const chosen = await fastestExactPath();
    console.log(`      probe on this CPU (${arch()}): ${JSON.stringify(verdicts)}; chosen: ${chosen}`);
    expect(verdicts["qdq-reference"]).to.equal(true);
    expect(verdicts[chosen]).to.equal(true);
    const faster = INT8_PATHS.slice(0, INT8_PATHS.indexOf(chosen));
    for (const path of faster) expect(verdicts[path], `${path} is faster and would have been chosen`).to.equal(false);
  });

  for (const modelId of INT8_MODELS) {
    it(`${modelId}: every shared photo gets the reference's answer — same top-5, same scores — on the engine's path`, async function () {
      const chosen = await predict(engineFor("auto"), modelId, photos);
      const reference = await predict(engineFor("qdq-reference"), modelId, photos);
      for (const [index, name] of photoNames.entries()) {
        const got = expectClassification(chosen[index]);
        const want = expectClassification(reference[index]);
        expect(got.runtime.inferencePath).to.equal(await fastestExactPath());
        expect(want.runtime.inferencePath).to.equal("qdq-reference");
        expect(got.top5, `${name}: ${describeTop5(got)} vs the reference's ${describeTop5(want)}`).to.deep.equal(want.top5);
      }
    });

    it(`${modelId}: all three int8 paths that this CPU computes exactly agree on every shared photo`, async function () {
      const verdicts = await probeAllPaths();
      const paths = INT8_PATHS.filter((path) => verdicts[path]);
      const answers = await Promise.all(paths.map((path) => predict(engineFor(path), modelId, photos)));
      for (const [index, name] of photoNames.entries()) {
        const first = expectClassification(answers[0]![index]);
        for (const [pathIndex, path] of paths.entries()) {
          const other = expectClassification(answers[pathIndex]![index]);
          expect(other.top5, `${name} on ${path}: ${describeTop5(other)}`).to.deep.equal(first.top5);
        }
      }
    });
  }

  it("a float network (SqueezeNet-fp16) has no integer arithmetic to make exact: its path says so, and thread counts move no score by 1e-4", async function () {
    const many = await predict(sharedEngine({ intraOpThreads: 2 }), SQUEEZENET, photos);
    const one = await predict(sharedEngine({ intraOpThreads: 1 }), SQUEEZENET, photos);
    for (const [index, name] of photoNames.entries()) {
      const a = expectClassification(many[index]);
      const b = expectClassification(one[index]);
      expect(a.runtime.inferencePath).to.equal("native-float");
      expect(
        a.top5.map((entry) => entry.classIndex),
        name,
      ).to.deep.equal(b.top5.map((entry) => entry.classIndex));
      a.top5.forEach((entry, rank) => {
        expectClose(entry.score, b.top5[rank]!.score, 1e-4);
      });
    }
  });

  describe("on AVX2 kernels (the engine under valgrind, which hides AVX-512 and VNNI from onnxruntime)", function () {
    this.timeout(600_000);
    const cat = "ortx_cat_224x224.jpg";

    before(async function () {
      const valgrind = await run("valgrind", ["--version"]).then(
        () => true,
        () => false,
      );
      if (arch() !== "x64" || !valgrind) {
        console.warn(`SKIPPED: the AVX2 emulation needs valgrind on x86-64 (arch ${arch()}, valgrind ${valgrind ? "found" : "missing"})`);
        this.skip();
      }
    });

    async function predictUnderValgrind(...flags: string[]): Promise<ClassificationResult> {
      const predictScript = join(REPO_ROOT, "provider-image/src/bin/predict.ts");
      const { stdout } = await run(
        "valgrind",
        [
          "--tool=none",
          "-q",
          process.execPath,
          predictScript,
          "--model",
          MOBILENET,
          "--models-dir",
          SHARED_MODELS_DIR,
          ...flags,
          join(SHARED_IMAGES_DIR, cat),
        ],
        { maxBuffer: 16 << 20 },
      );
      return expectClassification(JSON.parse(stdout)[0]);
    }

    it("the probe rejects native-int8 there (its u8×s8 sums saturate) and the engine's answer equals the reference's", async function () {
      const [reference] = await predict(engineFor("qdq-reference"), MOBILENET, [await readSharedImage(cat)]);
      const emulated = await predictUnderValgrind();
      const saturating = await predictUnderValgrind("--int8-path", "native-int8");
      console.log(`      ${cat} under valgrind: engine (${emulated.runtime.inferencePath}) ${describeTop5(emulated)}`);
      console.log(`      ${cat} under valgrind: native-int8 ${describeTop5(saturating)}`);
      expect(emulated.runtime.inferencePath).to.equal("native-u8u8");
      expect(emulated.top5).to.deep.equal(expectClassification(reference).top5);
      // The measurement behind all this: the native u8×s8 kernels there give other classes.
      expect(saturating.top5.map((entry) => entry.classIndex)).to.not.deep.equal(emulated.top5.map((entry) => entry.classIndex));
    });
  });
});
