/**
 * Model files are trusted only by digest: a corrupted or substituted file refuses to
 * load with a clear error, a manifest that disagrees with its graph is caught at load,
 * and the download cache is filled from the manifests' URLs (here a local HTTP server
 * standing in for raw.githubusercontent.com) only with bytes that match.
 */
import { createHash } from "node:crypto";
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import {
  BUILTIN_MANIFESTS_DIR,
  CATALOG_MANIFESTS_DIR,
  listManifests,
  loadManifest,
  UnknownModelError,
} from "@argus/provider-image/catalog";
import { createEngine } from "@argus/provider-image/engine";
import { ModelMismatchError } from "@argus/provider-image/loaded-model";
import { ModelFilesMissingError, ModelIntegrityError } from "@argus/provider-image/model-files";
import { defaultModelsCacheDir, resolveModelsDir } from "@argus/provider-image/models-dir";
import { loadProviderConfig, modelsDirOf } from "@argus/provider-image/config";
import { SHARED_IMAGES_DIR, SHARED_MODELS_DIR, requireSharedData } from "../support/shared.ts";

/** online-sources.tsv: the ONNX Model Zoo files, path → sha256 of the real (LFS) file, at the pinned commit. */
async function zooSources(): Promise<{ commit: string; sha256ByPath: Map<string, string> }> {
  const text = await readFile(join(SHARED_MODELS_DIR, "online-sources.tsv"), "utf8");
  const commit = /onnx\/models at commit ([0-9a-f]{40})/.exec(text)?.[1];
  if (commit === undefined) throw new Error("online-sources.tsv names no commit");
  const rows = text.split("\n").filter((line) => line !== "" && !line.startsWith("#") && !line.startsWith("path\t"));
  return { commit, sha256ByPath: new Map(rows.map((line) => [line.split("\t")[0]!, line.split("\t")[2]!])) };
}
import {
  expectClassification,
  MOBILENET,
  type ModelsMirror,
  predict,
  readSharedImage,
  SQUEEZENET,
  startModelsMirror,
} from "./support/engine.ts";

async function expectRejection(promise: Promise<unknown>, type: new (...args: never[]) => Error, ...fragments: string[]): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(type);
    for (const fragment of fragments) expect((error as Error).message).to.contain(fragment);
    return error as Error;
  }
  return expect.fail(`expected a ${type.name}`);
}

/** A models folder with copies of the shared files, to damage at will. */
async function modelsCopy(...files: string[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "argus-models-"));
  for (const file of files) await copyFile(join(SHARED_MODELS_DIR, file), join(dir, file));
  return dir;
}

describe("provider-image: model files", function () {
  const scratch: string[] = [];

  before(function () {
    requireSharedData(this);
  });

  after(async function () {
    await Promise.all(scratch.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  describe("integrity", function () {
    it("a corrupted weights file refuses to load, naming the file and both digests", async function () {
      const dir = await modelsCopy("mobilenetv2-12-int8.onnx", "imagenet-synset.txt");
      scratch.push(dir);
      const weights = join(dir, "mobilenetv2-12-int8.onnx");
      const bytes = await readFile(weights);
      const middle = bytes.length >> 1;
      bytes[middle] = bytes[middle]! ^ 0xff; // one flipped byte
      await writeFile(weights, bytes);
      const manifest = await loadManifest(MOBILENET);
      const error = await expectRejection(
        createEngine({ referencePhotosDir: SHARED_IMAGES_DIR, modelsDir: dir }).load(MOBILENET),
        ModelIntegrityError,
        weights,
        manifest.weights.sha256,
      );
      expect(error.message).to.match(/refusing to load/);
      // Running a batch fails the same way: no prediction comes from unverified weights.
      await expectRejection(
        predict(createEngine({ referencePhotosDir: SHARED_IMAGES_DIR, modelsDir: dir }), MOBILENET, [await readSharedImage("wml_cat.jpg")]),
        ModelIntegrityError,
      );
    });

    it("a corrupted labels file refuses to load as well", async function () {
      const dir = await modelsCopy("mobilenetv2-12-int8.onnx", "imagenet-synset.txt");
      scratch.push(dir);
      const labels = join(dir, "imagenet-synset.txt");
      await writeFile(labels, (await readFile(labels, "utf8")).replace("tabby, tabby cat", "tabby, tabby dog"));
      await expectRejection(
        createEngine({ referencePhotosDir: SHARED_IMAGES_DIR, modelsDir: dir }).load(MOBILENET),
        ModelIntegrityError,
        labels,
      );
    });

    it("a model file missing from a folder the user chose is an error that says where and what to run", async function () {
      const dir = await modelsCopy("imagenet-synset.txt");
      scratch.push(dir);
      await expectRejection(
        createEngine({ referencePhotosDir: SHARED_IMAGES_DIR, modelsDir: dir }).load(MOBILENET),
        ModelFilesMissingError,
        "mobilenetv2-12-int8.onnx",
        dir,
        "models:fetch",
      );
    });

    it("once the file is fixed, the same process loads it (a failed load is not cached)", async function () {
      const dir = await modelsCopy("imagenet-synset.txt");
      scratch.push(dir);
      const engine = createEngine({ referencePhotosDir: SHARED_IMAGES_DIR, modelsDir: dir });
      await expectRejection(engine.load(MOBILENET), ModelFilesMissingError);
      await copyFile(join(SHARED_MODELS_DIR, "mobilenetv2-12-int8.onnx"), join(dir, "mobilenetv2-12-int8.onnx"));
      expect((await engine.load(MOBILENET)).manifest.id).to.equal(MOBILENET);
    });
  });

  describe("manifests", function () {
    // biome-ignore lint/suspicious/noExplicitAny: each test edits whichever manifest field it breaks
    async function engineWithManifest(edit: (manifest: Record<string, any>) => void) {
      const dir = await mkdtemp(join(tmpdir(), "argus-manifests-"));
      scratch.push(dir);
      const manifest = JSON.parse(await readFile(join(BUILTIN_MANIFESTS_DIR, `${SQUEEZENET}.json`), "utf8"));
      manifest.id = "squeezenet-variant";
      edit(manifest);
      await writeFile(join(dir, "squeezenet-variant.json"), JSON.stringify(manifest));
      return createEngine({
        referencePhotosDir: SHARED_IMAGES_DIR,
        modelsDir: SHARED_MODELS_DIR,
        manifestsDirs: [BUILTIN_MANIFESTS_DIR, dir],
      });
    }

    it("a model is added by writing a manifest: a second manifest for the same weights works with no code change", async function () {
      const engine = await engineWithManifest((manifest) => (manifest.name = "SqueezeNet, second entry"));
      const [result] = await predict(engine, "squeezenet-variant", [await readSharedImage("wml_cat.jpg")]);
      expect(expectClassification(result).modelId).to.equal("squeezenet-variant");
    });

    it("a manifest whose input name, type or size disagrees with the graph is refused at load", async function () {
      const wrongName = await engineWithManifest((manifest) => (manifest.input.name = "data"));
      await expectRejection(wrongName.load("squeezenet-variant"), ModelMismatchError, 'no input tensor "data"', "data_0");
      const wrongType = await engineWithManifest((manifest) => (manifest.input.dtype = "float32"));
      await expectRejection(wrongType.load("squeezenet-variant"), ModelMismatchError, "float16 in the graph");
      const wrongSize = await engineWithManifest((manifest) => {
        manifest.input.width = 299;
        manifest.input.height = 299;
        manifest.preprocess.resize.shortSide = 320;
      });
      await expectRejection(wrongSize.load("squeezenet-variant"), ModelMismatchError, "[1, 3, 224, 224]");
    });

    it("labels that do not match the output's class count are refused", async function () {
      const engine = await engineWithManifest((manifest) => {
        manifest.labels = {
          file: "coco80-labels.json",
          format: "json-array",
          sha256: "76ce1473f01bd271bab54429737358a97160629cf970c5ec8384c2777dd0bae9",
        };
      });
      await expectRejection(engine.load("squeezenet-variant"), ModelMismatchError, "1000 classes", "names 80");
    });

    it("an engine that has loaded a model sees its manifest edited, shadowed or removed afterwards", async function () {
      const dir = await mkdtemp(join(tmpdir(), "argus-manifests-"));
      const other = await mkdtemp(join(tmpdir(), "argus-manifests-"));
      scratch.push(dir, other);
      const manifest = JSON.parse(await readFile(join(BUILTIN_MANIFESTS_DIR, `${SQUEEZENET}.json`), "utf8"));
      const path = join(dir, "squeezenet-variant.json");
      const write = (name: string, edit: (json: typeof manifest) => void = () => {}) => {
        const json = structuredClone({ ...manifest, id: "squeezenet-variant", name });
        edit(json);
        return writeFile(path, JSON.stringify(json));
      };
      await write("Variant AAAA");
      const engine = createEngine({ referencePhotosDir: SHARED_IMAGES_DIR, modelsDir: SHARED_MODELS_DIR, manifestsDirs: [dir, other] });
      const first = await engine.load("squeezenet-variant");
      expect(first.manifest.name).to.equal("Variant AAAA");
      expect(await engine.load("squeezenet-variant"), "an unchanged manifest reuses the loaded model").to.equal(first);

      await write("Variant BBBB"); // the same size: the edit shows in the file's times, not its length
      const [result] = await predict(engine, "squeezenet-variant", [await readSharedImage("wml_cat.jpg")]);
      expect(expectClassification(result).manifestCid).to.not.equal(first.manifestCid);
      expect((await engine.load("squeezenet-variant")).manifest.name).to.equal("Variant BBBB");

      await write("Variant CCCC", (json) => (json.input.name = "data"));
      await expectRejection(engine.load("squeezenet-variant"), ModelMismatchError, 'no input tensor "data"');

      await write("Variant DDDD");
      await writeFile(join(other, "squeezenet-variant.json"), JSON.stringify({ ...manifest, id: "squeezenet-variant", name: "impostor" }));
      await expectRejection(engine.load("squeezenet-variant"), UnknownModelError, "defined differently");

      await rm(join(other, "squeezenet-variant.json"));
      await rm(path);
      await expectRejection(engine.run("squeezenet-variant", []), UnknownModelError, 'no manifest for model "squeezenet-variant"');
    });

    it("an unknown model id lists the known ones", async function () {
      await expectRejection(
        createEngine({ referencePhotosDir: SHARED_IMAGES_DIR, modelsDir: SHARED_MODELS_DIR }).load("resnet50"),
        UnknownModelError,
        "resnet50",
        MOBILENET,
      );
    });

    it("two different manifests for one id are an error, not a silent choice", async function () {
      const dir = await mkdtemp(join(tmpdir(), "argus-manifests-"));
      scratch.push(dir);
      const manifest = JSON.parse(await readFile(join(BUILTIN_MANIFESTS_DIR, `${MOBILENET}.json`), "utf8"));
      manifest.name = "impostor";
      await writeFile(join(dir, `${MOBILENET}.json`), JSON.stringify(manifest));
      await expectRejection(loadManifest(MOBILENET, [BUILTIN_MANIFESTS_DIR, dir]), UnknownModelError, "defined differently");
    });
  });

  describe("the catalogue of downloadable models (not served)", function () {
    it("pins every file of online-sources.tsv it lists by its zoo URL at the fixed commit and the real file's sha256", async function () {
      const { commit, sha256ByPath } = await zooSources();
      const catalog = await listManifests([CATALOG_MANIFESTS_DIR]);
      const served = await listManifests([BUILTIN_MANIFESTS_DIR]);
      const imagenetLabels = served.find((manifest) => manifest.id === MOBILENET)!.labels;
      for (const manifest of catalog) {
        const prefix = `https://github.com/onnx/models/raw/${commit}/`;
        expect(manifest.weights.url, manifest.id).to.satisfy((url: string) => url.startsWith(prefix));
        const path = manifest.weights.url!.slice(prefix.length);
        expect(manifest.weights.sha256, manifest.id).to.equal(sha256ByPath.get(path));
        expect(manifest.weights.file).to.equal(`${manifest.id}.onnx`);
        expect(manifest.labels).to.deep.equal(imagenetLabels);
        expect(manifest.unverified !== undefined, `${manifest.id} is unverified exactly when it is a Computer_Vision export`).to.equal(
          path.startsWith("Computer_Vision/"),
        );
        expect(served.map((model) => model.id)).to.not.include(manifest.id);
      }
      const ids = catalog.map((manifest) => manifest.id);
      for (const family of [
        "resnet50-v1-12",
        "resnet50-v1-12-int8",
        "resnet50-v2-7",
        "resnet101-v1-7",
        "resnet152-v2-7",
        "densenet121-12",
        "densenet121-12-int8",
        "googlenet-12",
        "googlenet-12-int8",
        "inception-v1-12-int8",
        "efficientnet-lite4-11",
        "efficientnet-lite4-11-int8",
        "shufflenet-v2-12",
        "shufflenet-v2-12-int8",
        "vgg16-12",
        "vgg16-12-int8",
        "vgg19-7",
        "inception-v3-timm",
        "xception-timm",
        "inception-resnet-v2-timm",
        "nasnet-large-timm",
        "densenet169-torch-hub",
        "densenet201-timm",
      ]) {
        expect(ids).to.include(family);
      }
    });

    it("spells out the zoo's preprocessing: NHWC and (x − 127) / 128 for EfficientNet-Lite4, whole-image BGR Caffe means for GoogLeNet", async function () {
      const efficientnet = await loadManifest("efficientnet-lite4-11", [CATALOG_MANIFESTS_DIR]);
      expect(efficientnet.input.layout).to.equal("NHWC");
      expect(efficientnet.preprocess).to.deep.include({ scale: 1, mean: [127, 127, 127], std: [128, 128, 128] });
      const googlenet = await loadManifest("googlenet-12", [CATALOG_MANIFESTS_DIR]);
      expect(googlenet.preprocess).to.deep.include({ resize: { policy: "resize" }, colorOrder: "BGR", scale: 1 });
      expect(googlenet.output.kind).to.equal("probabilities");
      const nasnet = await loadManifest("nasnet-large-timm", [CATALOG_MANIFESTS_DIR]);
      expect([nasnet.input.width, nasnet.input.height]).to.deep.equal([331, 331]);
    });
  });

  describe("models folder and download cache", function () {
    let mirror: ModelsMirror;
    let baseUrl: string;

    before(async function () {
      mirror = await startModelsMirror();
      baseUrl = mirror.url;
    });

    after(async function () {
      await mirror?.close();
    });

    beforeEach(function () {
      mirror.requests.length = 0;
      mirror.tampered = undefined;
    });

    it("the folder is --models-dir, else ARGUS_MODELS_DIR, else the per-user cache", function () {
      const cache = defaultModelsCacheDir({ HOME: "/home/someone" });
      expect(resolveModelsDir("/from/flag", "/from/env", cache)).to.deep.equal({ path: "/from/flag", origin: "flag" });
      expect(resolveModelsDir(undefined, "/from/env", cache)).to.deep.equal({ path: "/from/env", origin: "env" });
      expect(resolveModelsDir(undefined, undefined, cache)).to.deep.equal({ path: "/home/someone/.cache/argus/models", origin: "cache" });
      const config = loadProviderConfig({ ARGUS_MODELS_DIR: "/from/env", HOME: "/home/someone" });
      expect(modelsDirOf(config)).to.deep.equal({ path: "/from/env", origin: "env" });
      expect(defaultModelsCacheDir({ XDG_CACHE_HOME: "/xdg", HOME: "/home/someone" })).to.equal("/xdg/argus/models");
    });

    it("an empty cache is filled on demand from the pinned URLs, verified, and then used", async function () {
      const cache = await mkdtemp(join(tmpdir(), "argus-cache-"));
      scratch.push(cache);
      const engine = createEngine({
        referencePhotosDir: SHARED_IMAGES_DIR,
        modelsDir: { path: cache, origin: "cache" },
        download: { mirror: baseUrl },
      });
      const [result] = await predict(engine, MOBILENET, [await readSharedImage("wml_cat.jpg")]);
      expect(expectClassification(result).top5[0]!.classIndex).to.equal(285);
      expect([...mirror.requests].sort()).to.deep.equal(["/imagenet-synset.txt", "/mobilenetv2-12-int8.onnx"]);
      expect((await readdir(cache)).sort()).to.deep.equal(["imagenet-synset.txt", "mobilenetv2-12-int8.onnx"]);
      // Present files are not fetched again.
      mirror.requests.length = 0;
      await createEngine({
        referencePhotosDir: SHARED_IMAGES_DIR,
        modelsDir: { path: cache, origin: "cache" },
        download: { mirror: baseUrl },
      }).load(MOBILENET);
      expect(mirror.requests).to.deep.equal([]);
    });

    it("bytes that do not match the pinned sha256 are refused and never saved", async function () {
      const cache = await mkdtemp(join(tmpdir(), "argus-cache-"));
      scratch.push(cache);
      mirror.tampered = Buffer.from("definitely not an onnx file");
      const engine = createEngine({
        referencePhotosDir: SHARED_IMAGES_DIR,
        modelsDir: { path: cache, origin: "cache" },
        download: { mirror: baseUrl },
      });
      await expectRejection(engine.load(MOBILENET), ModelIntegrityError, "mobilenetv2-12-int8.onnx", "not saved");
      expect(await readdir(cache)).to.deep.equal([]); // no partial file left behind either
    });

    it("offline with an empty cache, the error says to set ARGUS_MODELS_DIR", async function () {
      const cache = await mkdtemp(join(tmpdir(), "argus-cache-"));
      scratch.push(cache);
      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
      const deadUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
      await new Promise((resolve) => closed.close(resolve)); // nothing listens there any more
      const engine = createEngine({
        referencePhotosDir: SHARED_IMAGES_DIR,
        modelsDir: { path: cache, origin: "cache" },
        download: { mirror: deadUrl },
      });
      const error = await expectRejection(
        engine.load(MOBILENET),
        ModelFilesMissingError,
        "ARGUS_MODELS_DIR",
        cache,
        "downloading it failed",
      );
      expect(error.message).to.contain("--models-dir");
    });

    it("a download answered 404 is reported with its URL", async function () {
      const cache = await mkdtemp(join(tmpdir(), "argus-cache-"));
      scratch.push(cache);
      const engine = createEngine({
        referencePhotosDir: SHARED_IMAGES_DIR,
        modelsDir: { path: cache, origin: "cache" },
        download: { mirror: `${baseUrl}/missing` },
      });
      await expectRejection(engine.load(MOBILENET), ModelFilesMissingError, "404", `${baseUrl}/missing/`);
    });

    it("every built-in manifest pins the shared files' digests and an https URL at a fixed commit", async function () {
      for (const id of [MOBILENET, SQUEEZENET, "fastestdet-coco80"]) {
        const manifest = await loadManifest(id);
        for (const pinned of [manifest.weights, manifest.labels]) {
          expect(pinned.url).to.match(/^https:\/\/raw\.githubusercontent\.com\/[^/]+\/[^/]+\/[0-9a-f]{40}\//);
          const digest = createHash("sha256")
            .update(await readFile(join(SHARED_MODELS_DIR, pinned.file)))
            .digest("hex");
          expect(digest, pinned.file).to.equal(pinned.sha256);
        }
      }
    });
  });
});
