/**
 * The commands, run as child processes exactly as the oracle's local executor, the
 * Golem VM and a developer run them: the entry command on a folder of images, `npm run
 * predict`, the manifest skeleton writer and the model fetcher.
 */
import { execFile } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import sharp from "sharp";
import { rawCidOfBytes } from "@argus/provider-image/file-cid";
import { type BatchDescription, parseResultsFile, resultsFileBytes } from "@argus/protocol/batch";
import { parseManifest } from "@argus/protocol/manifest";
import { InferenceResultSchema } from "@argus/protocol/result";
import { referenceSetEntries } from "@argus/provider-image/reference-set";
import { REPO_ROOT, requireSharedData, SHARED_IMAGES_DIR, SHARED_MODELS_DIR, sharedImage } from "../support/shared.ts";
import {
  expectClassification,
  expectDetection,
  expectError,
  MOBILENET,
  type ModelsMirror,
  noiseBytes,
  SOME_CID,
  startModelsMirror,
} from "./support/engine.ts";

const ENTRY = join(REPO_ROOT, "provider-image/src/bin/entry.ts");
const PREDICT = join(REPO_ROOT, "provider-image/src/bin/predict.ts");
const SKELETON = join(REPO_ROOT, "provider-image/src/bin/manifest-skeleton.ts");
const FETCH = join(REPO_ROOT, "provider-image/src/bin/fetch-models.ts");

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a TypeScript entry point on this Node (24: it strips the types itself). */
function run(script: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [script, ...args],
      {
        env: { PATH: process.env.PATH, HOME: process.env.HOME, ARGUS_REFERENCE_PHOTOS_DIR: SHARED_IMAGES_DIR, ...env },
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => resolve({ code: error ? ((error.code as number | undefined) ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe("provider-image: commands", function () {
  const scratch: string[] = [];
  async function scratchDir(prefix: string): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), prefix));
    scratch.push(dir);
    return dir;
  }

  before(function () {
    requireSharedData(this);
  });

  after(async function () {
    await Promise.all(scratch.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  describe("the entry command (Golem VM and local executor)", function () {
    let input: string;
    let output: string;
    let batch: BatchDescription;

    before(async function () {
      input = await scratchDir("argus-input-");
      output = await scratchDir("argus-output-");
      await copyFile(sharedImage("wml_cat.jpg"), join(input, "cat.jpg"));
      await copyFile(sharedImage("ortx_pineapple.png"), join(input, "pineapple.png"));
      await writeFile(join(input, "junk.jpg"), "<html>not an image</html>");
      batch = {
        batchVersion: 1,
        modelId: MOBILENET,
        requests: [
          { requestId: "11", imageCid: SOME_CID, imageFile: "cat.jpg" },
          { requestId: "12", imageCid: SOME_CID, imageFile: "junk.jpg" },
          { requestId: "13", imageCid: SOME_CID, imageFile: "pineapple.png" },
          { requestId: "14", imageCid: SOME_CID, imageFile: "missing.jpg" },
          { requestId: "15", imageCid: SOME_CID, imageFile: "cat.jpg" },
        ],
      };
      await writeFile(join(input, "batch.json"), JSON.stringify(batch));
    });

    it("reads batch.json, writes results.json: one canonical result per request, in order", async function () {
      const outcome = await run(ENTRY, ["--input", input, "--output", output, "--models-dir", SHARED_MODELS_DIR]);
      expect(outcome.code, outcome.stderr).to.equal(0);
      expect(JSON.parse(outcome.stdout)).to.include({ modelId: MOBILENET, results: 5, errors: 2 });

      const bytes = await readFile(join(output, "results.json"));
      const results = parseResultsFile(JSON.parse(bytes.toString("utf8")), batch, {
        weightsSha256: "cc028fe6cae7bc11a4ff53cfc9b79c920e8be65ce33a904ec3e2a8f66d77f95f",
      });
      expect(Buffer.from(resultsFileBytes(results)).equals(bytes), "results.json is canonical JSON").to.equal(true);
      expect(expectClassification(results[0]).top5[0]!.classIndex).to.equal(285);
      expectError(results[1], "NOT_AN_IMAGE");
      expect(expectClassification(results[2]).top5[0]!.classIndex).to.equal(953);
      expectError(results[3], "FILE_NOT_FOUND");
      expect(expectClassification(results[4]).top5).to.deep.equal(expectClassification(results[0]).top5);
      expect(await readdir(output)).to.deep.equal(["results.json"]); // no temporary file left
    });

    it("takes its folders from ARGUS_INPUT_DIR / ARGUS_OUTPUT_DIR / ARGUS_MODELS_DIR when no flags are given", async function () {
      const elsewhere = await scratchDir("argus-output-");
      const outcome = await run(ENTRY, [], { ARGUS_INPUT_DIR: input, ARGUS_OUTPUT_DIR: elsewhere, ARGUS_MODELS_DIR: SHARED_MODELS_DIR });
      expect(outcome.code, outcome.stderr).to.equal(0);
      const results = JSON.parse(await readFile(join(elsewhere, "results.json"), "utf8"));
      expect(results).to.have.length(5);
      for (const result of results) InferenceResultSchema.parse(result);
    });

    it("runs a detector batch the same way", async function () {
      const detectorInput = await scratchDir("argus-input-");
      const detectorOutput = await scratchDir("argus-output-");
      await copyFile(sharedImage("detect_bus.jpg"), join(detectorInput, "bus.jpg"));
      await writeFile(
        join(detectorInput, "batch.json"),
        JSON.stringify({
          batchVersion: 1,
          modelId: "fastestdet-coco80",
          requests: [{ requestId: "1", imageCid: SOME_CID, imageFile: "bus.jpg" }],
        }),
      );
      const outcome = await run(ENTRY, ["--input", detectorInput, "--output", detectorOutput, "--models-dir", SHARED_MODELS_DIR]);
      expect(outcome.code, outcome.stderr).to.equal(0);
      const [result] = JSON.parse(await readFile(join(detectorOutput, "results.json"), "utf8"));
      expect(expectDetection(result).detections.map((found) => found.label)).to.include.members(["bus", "person"]);
    });

    it("an invalid batch.json: exit 1, the reason on stderr, and no results.json (a stale one is removed)", async function () {
      const badInput = await scratchDir("argus-input-");
      const badOutput = await scratchDir("argus-output-");
      await writeFile(join(badOutput, "results.json"), "[]"); // left over from an earlier task
      await writeFile(
        join(badInput, "batch.json"),
        JSON.stringify({ ...batch, requests: [{ ...batch.requests[0], imageFile: "../../etc/passwd" }] }),
      );
      const outcome = await run(ENTRY, ["--input", badInput, "--output", badOutput, "--models-dir", SHARED_MODELS_DIR]);
      expect(outcome.code).to.equal(1);
      expect(outcome.stderr).to.match(/batch.json is invalid[\s\S]*imageFile/);
      expect(await readdir(badOutput)).to.deep.equal([]);
    });

    it("a corrupt model: exit 1 with the integrity error, no results", async function () {
      const models = await scratchDir("argus-models-");
      const badOutput = await scratchDir("argus-output-");
      await copyFile(join(SHARED_MODELS_DIR, "imagenet-synset.txt"), join(models, "imagenet-synset.txt"));
      const weights = await readFile(join(SHARED_MODELS_DIR, "mobilenetv2-12-int8.onnx"));
      await writeFile(join(models, "mobilenetv2-12-int8.onnx"), weights.subarray(0, weights.length - 1)); // truncated by one byte
      const outcome = await run(ENTRY, ["--input", input, "--output", badOutput, "--models-dir", models]);
      expect(outcome.code).to.equal(1);
      expect(outcome.stderr).to.contain("ModelIntegrityError").and.contain("refusing to load");
      expect(await readdir(badOutput)).to.deep.equal([]);
    });

    it("a missing batch.json: exit 1 naming the file", async function () {
      const empty = await scratchDir("argus-input-");
      const outcome = await run(ENTRY, ["--input", empty, "--output", output, "--models-dir", SHARED_MODELS_DIR]);
      expect(outcome.code).to.equal(1);
      expect(outcome.stderr).to.contain(join(empty, "batch.json"));
    });
  });

  describe("npm run predict", function () {
    it("prints a JSON array with one result per file, in the order given", async function () {
      const files = [sharedImage("ortx_pineapple.png"), sharedImage("wml_cat.jpg"), "/nonexistent/photo.jpg"];
      const outcome = await run(PREDICT, ["--model", MOBILENET, "--models-dir", SHARED_MODELS_DIR, ...files]);
      expect(outcome.code, outcome.stderr).to.equal(0);
      const results = JSON.parse(outcome.stdout);
      expect(results.map((result: { requestId: string }) => result.requestId)).to.deep.equal(["0", "1", "2"]);
      expect(expectClassification(results[0]).top5[0]!.classIndex).to.equal(953);
      expect(expectClassification(results[1]).top5[0]!.classIndex).to.equal(285);
      expectError(results[2], "FILE_NOT_FOUND");
      // Each file is named by the CID of its bytes.
      expect(results[1].imageCid).to.equal(await rawCidOfBytes(await readFile(files[1]!)));
    });

    it("resolves relative paths against the folder npm was started in (INIT_CWD)", async function () {
      const outcome = await run(PREDICT, ["--model", MOBILENET, "--models-dir", "models", "images/wml_cat.jpg"], {
        INIT_CWD: join(SHARED_MODELS_DIR, ".."),
      });
      expect(outcome.code, outcome.stderr).to.equal(0);
      expect(expectClassification(JSON.parse(outcome.stdout)[0]).top5[0]!.classIndex).to.equal(285);
    });

    it("applies the service's byte cap, which --max-bytes raises for a look at a bigger photo", async function () {
      const dir = await scratchDir("argus-photos-");
      const big = join(dir, "big.png");
      await sharp(noiseBytes(1100 * 1100 * 3), { raw: { width: 1100, height: 1100, channels: 3 } })
        .png()
        .toFile(big);
      const capped = await run(PREDICT, ["--model", MOBILENET, "--models-dir", SHARED_MODELS_DIR, big]);
      expect(capped.code, capped.stderr).to.equal(0);
      expectError(JSON.parse(capped.stdout)[0], "TOO_LARGE_BYTES");
      expect(capped.stderr).to.contain("--max-bytes");
      const raised = await run(PREDICT, ["--model", MOBILENET, "--models-dir", SHARED_MODELS_DIR, "--max-bytes", "8000000", big]);
      expectClassification(JSON.parse(raised.stdout)[0]);
    });

    it("usage errors exit 2 with the usage line; an unknown model exits 1 naming the known ones", async function () {
      const missingModel = await run(PREDICT, [sharedImage("wml_cat.jpg")]);
      expect(missingModel.code).to.equal(2);
      expect(missingModel.stderr).to.contain("--model is required").and.contain("usage: npm run predict");
      const unknown = await run(PREDICT, ["--model", "resnet50", "--models-dir", SHARED_MODELS_DIR, sharedImage("wml_cat.jpg")]);
      expect(unknown.code).to.equal(1);
      expect(unknown.stderr).to.contain('no manifest for model "resnet50"').and.contain(MOBILENET);
    });
  });

  describe("npm run models:manifest", function () {
    it("writes a valid skeleton with the file's sha256 and the graph's tensors, and never overwrites silently", async function () {
      const out = await scratchDir("argus-manifests-");
      const onnx = join(SHARED_MODELS_DIR, "squeezenet1.1-fp16.onnx");
      const outcome = await run(SKELETON, [onnx, "--id", "my-squeezenet", "--out", out]);
      expect(outcome.code, outcome.stderr).to.equal(0);
      expect(outcome.stdout.trim()).to.equal(join(out, "my-squeezenet.json"));
      expect(outcome.stderr).to.contain("Check before use").and.contain("colorOrder");
      const manifest = parseManifest(JSON.parse(await readFile(join(out, "my-squeezenet.json"), "utf8")));
      expect(manifest).to.deep.include({ id: "my-squeezenet", task: "classification" });
      expect(manifest.weights).to.deep.equal({
        file: "squeezenet1.1-fp16.onnx",
        sha256: "21f25e3d9254af93e6218a359469fac714a017b3f9035c0f5c4acbf9a3ff7233",
      });
      expect(manifest.input).to.deep.equal({ name: "data_0", dtype: "float16", layout: "NCHW", width: 224, height: 224 });
      expect(manifest.output).to.deep.equal({ name: "softmaxout_1", kind: "logits" });
      expect(manifest.labels.file).to.equal("imagenet-synset.txt"); // 1000 classes: the ImageNet labels

      const again = await run(SKELETON, [onnx, "--id", "my-squeezenet", "--out", out]);
      expect(again.code).to.equal(2);
      expect(again.stderr).to.contain("--force");
    });

    it("computes the labels' digest and checks their count against the output", async function () {
      const out = await scratchDir("argus-manifests-");
      const onnx = join(SHARED_MODELS_DIR, "fastestdet-coco80.onnx");
      const labels = join(SHARED_MODELS_DIR, "coco80-labels.json");
      const outcome = await run(SKELETON, [onnx, "--task", "detection", "--labels", labels, "--out", out]);
      expect(outcome.code, outcome.stderr).to.equal(0);
      const manifest = parseManifest(JSON.parse(await readFile(join(out, "fastestdet-coco80.json"), "utf8")));
      expect(manifest.labels).to.deep.equal({
        file: "coco80-labels.json",
        format: "json-array",
        sha256: "76ce1473f01bd271bab54429737358a97160629cf970c5ec8384c2777dd0bae9",
      });
      const wrong = await run(SKELETON, [onnx, "--task", "classification", "--labels", labels, "--stdout"]);
      expect(wrong.code).to.equal(2);
      expect(wrong.stderr).to.contain("names 80 classes");
    });
  });

  describe("npm run models:fetch", function () {
    let mirror: ModelsMirror;

    before(async function () {
      mirror = await startModelsMirror();
    });

    after(async function () {
      await mirror?.close();
    });

    it("fills a folder with verified files, keeps good ones and replaces a corrupt one", async function () {
      const models = await scratchDir("argus-models-");
      await mkdir(models, { recursive: true });
      const first = await run(FETCH, ["--models-dir", models, MOBILENET, "squeezenet1.1-fp16"], { ARGUS_MODELS_MIRROR: mirror.url });
      expect(first.code, first.stderr).to.equal(0);
      expect((await readdir(models)).sort()).to.deep.equal(["imagenet-synset.txt", "mobilenetv2-12-int8.onnx", "squeezenet1.1-fp16.onnx"]);

      await writeFile(
        join(models, "squeezenet1.1-fp16.onnx"),
        await sharp({ create: { width: 2, height: 2, channels: 3, background: "#000" } })
          .png()
          .toBuffer(),
      );
      const second = await run(FETCH, ["--models-dir", models, MOBILENET, "squeezenet1.1-fp16"], { ARGUS_MODELS_MIRROR: mirror.url });
      expect(second.code, second.stderr).to.equal(0);
      expect(second.stderr)
        .to.match(/ok\s+mobilenetv2-12-int8.onnx/)
        .and.match(/replaced\s+squeezenet1.1-fp16.onnx/);
      const predicted = await run(PREDICT, ["--model", "squeezenet1.1-fp16", "--models-dir", models, sharedImage("wml_cat.jpg")]);
      expect(predicted.code, predicted.stderr).to.equal(0);
    });

    it("fills the self-test's photo folder too, from the photos' pinned sources (here the mirror)", async function () {
      const models = await scratchDir("argus-models-");
      const photos = await scratchDir("argus-photos-");
      const fetched = await run(FETCH, ["--models-dir", models, "--reference-photos-dir", photos, MOBILENET], {
        ARGUS_MODELS_MIRROR: mirror.url,
      });
      expect(fetched.code, fetched.stderr).to.equal(0);
      expect(fetched.stderr).to.include(`7 reference photos in ${photos}`);
      const names = (await referenceSetEntries()).map((photo) => photo.file).sort();
      expect((await readdir(photos)).sort()).to.deep.equal(names);
      // The engine then runs the self-test on them: the model loads and predicts.
      const predicted = await run(PREDICT, ["--model", MOBILENET, "--models-dir", models, sharedImage("wml_cat.jpg")], {
        ARGUS_REFERENCE_PHOTOS_DIR: photos,
      });
      expect(predicted.code, predicted.stderr).to.equal(0);
    });

    it("downloads from each manifest's own URL and saves a file only when its sha256 matches", async function () {
      // A zoo-style manifest whose URLs point at the local server instead of github.com.
      const manifests = await scratchDir("argus-manifests-");
      const manifest = JSON.parse(await readFile(join(REPO_ROOT, "provider-image/manifests", `${MOBILENET}.json`), "utf8"));
      manifest.id = "zoo-style";
      manifest.weights.url = `${mirror.url}/mobilenetv2-12-int8.onnx`;
      manifest.labels.url = `${mirror.url}/imagenet-synset.txt`;
      await writeFile(join(manifests, "zoo-style.json"), JSON.stringify(manifest));
      const models = await scratchDir("argus-models-");
      mirror.requests.length = 0;
      const good = await run(FETCH, ["--models-dir", models, "zoo-style"], { ARGUS_MANIFESTS_DIR: manifests });
      expect(good.code, good.stderr).to.equal(0);
      expect(good.stderr).to.match(/downloaded\s+mobilenetv2-12-int8.onnx/);
      expect(mirror.requests.sort()).to.deep.equal(["/imagenet-synset.txt", "/mobilenetv2-12-int8.onnx"]);

      mirror.tampered = Buffer.from("an HTML error page, say");
      try {
        const other = await scratchDir("argus-models-");
        const bad = await run(FETCH, ["--models-dir", other, "zoo-style"], { ARGUS_MANIFESTS_DIR: manifests });
        expect(bad.code).to.equal(1);
        expect(bad.stderr).to.contain("ModelIntegrityError").and.contain(manifest.weights.sha256).and.contain("not saved");
        expect(await readdir(other)).to.deep.equal([]);
      } finally {
        mirror.tampered = undefined;
      }
    });

    it("fetches a catalogue model named on purpose; offline, it says which URL it needs and what to do", async function () {
      const models = await scratchDir("argus-models-");
      mirror.tampered = Buffer.from("not resnet");
      try {
        const wrong = await run(FETCH, ["--models-dir", models, "resnet50-v1-12"], { ARGUS_MODELS_MIRROR: mirror.url });
        expect(wrong.code).to.equal(1);
        expect(wrong.stderr).to.contain("3f03fdef724b22947eed826f1eef1dc5c34151bb4c37d634f1db89dfa2dd1526").and.contain("not saved");
      } finally {
        mirror.tampered = undefined;
      }
      const offline = await run(FETCH, ["--models-dir", models, "resnet50-v1-12"], { ARGUS_MODELS_MIRROR: "http://127.0.0.1:9" });
      expect(offline.code).to.equal(1);
      expect(offline.stderr)
        .to.contain("model resnet50-v1-12 needs resnet50-v1-12.onnx from http://127.0.0.1:9/resnet50-v1-12.onnx")
        .and.contain("Offline")
        .and.contain(models);
      expect(await readdir(models)).to.deep.equal([]);
      // The served models are not the catalogue: without ids, nothing from it is fetched.
      const unknown = await run(FETCH, ["--models-dir", models, "no-such-model"]);
      expect(unknown.code).to.equal(1);
      expect(unknown.stderr).to.contain("resnet50-v1-12"); // …but the error lists the known ids, the catalogue's too
    });
  });
});
