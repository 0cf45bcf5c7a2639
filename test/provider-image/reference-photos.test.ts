/**
 * The self-test's photos are not in the repository: they are read from a folder the
 * user names (ARGUS_REFERENCE_PHOTOS_DIR) or from a download cache filled from each
 * photo's pinned source (here a local mirror standing in for raw.githubusercontent.com),
 * and trusted only by their sha256, wherever they come from.
 */
import { copyFile, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { loadManifest } from "@argus/provider-image/catalog";
import { checkModel } from "@argus/provider-image/check-model";
import { engineOptions, loadProviderConfig } from "@argus/provider-image/config";
import {
  photoPin,
  type ReferencePhotosDir,
  ReferencePhotoError,
  referenceSetEntries,
  resolveReferencePhotosDir,
} from "@argus/provider-image/reference-set";
import { requireSharedData, SHARED_IMAGES_DIR, SHARED_MODELS_DIR } from "../support/shared.ts";
import { MOBILENET, type ModelsMirror, startModelsMirror } from "./support/engine.ts";

describe("provider-image: where the self-test's reference photos come from", function () {
  const scratch: string[] = [];
  let mirror: ModelsMirror;

  before(async function () {
    requireSharedData(this);
    mirror = await startModelsMirror();
  });

  after(async function () {
    await mirror?.close();
    await Promise.all(scratch.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  beforeEach(function () {
    mirror.requests.length = 0;
    mirror.tampered = undefined;
  });

  async function scratchDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), "argus-photos-"));
    scratch.push(dir);
    return dir;
  }

  const selfTestWith = async (dir: ReferencePhotosDir) =>
    checkModel(await loadManifest(MOBILENET), {
      modelsDir: { path: SHARED_MODELS_DIR, origin: "env" },
      referencePhotosDir: dir,
      download: { mirror: mirror.url },
    });

  it("the folder is ARGUS_REFERENCE_PHOTOS_DIR, else a per-user cache; each photo's source is its repository at the pinned commit", async function () {
    const config = loadProviderConfig({ HOME: "/home/someone" });
    expect(engineOptions(config).referencePhotosDir).to.deep.equal({
      path: "/home/someone/.cache/argus/reference-photos",
      origin: "cache",
    });
    const configured = loadProviderConfig({ ARGUS_REFERENCE_PHOTOS_DIR: "/photos", XDG_CACHE_HOME: "/xdg" });
    expect(engineOptions(configured).referencePhotosDir).to.deep.equal({ path: "/photos", origin: "configured" });
    expect(resolveReferencePhotosDir(undefined, "/xdg/argus/reference-photos").origin).to.equal("cache");
    const entries = await referenceSetEntries();
    const eagle = entries.find((photo) => photo.file === "wonnx_bald_eagle.jpeg")!;
    expect(photoPin(eagle).url).to.equal(
      `https://raw.githubusercontent.com/webonnx/wonnx/${eagle.source.commit}/data/images/bald_eagle.jpeg`,
    );
  });

  it("an empty cache is filled from the photos' sources, verified, and not fetched again", async function () {
    const cache = await scratchDir();
    const report = await selfTestWith({ path: cache, origin: "cache" });
    expect(report.passed).to.equal(true);
    const names = (await referenceSetEntries()).map((photo) => photo.file).sort();
    expect((await readdir(cache)).sort()).to.deep.equal(names);
    expect([...mirror.requests].sort()).to.deep.equal(names.map((name) => `/${name}`));

    mirror.requests.length = 0;
    await selfTestWith({ path: cache, origin: "cache" });
    expect(mirror.requests).to.deep.equal([]);
  });

  it("a download with the wrong bytes is refused and never saved", async function () {
    const cache = await scratchDir();
    mirror.tampered = Buffer.from("not a photo");
    const error = await selfTestWith({ path: cache, origin: "cache" }).then(
      () => expect.fail("the self-test ran on photos that do not match their pins"),
      (caught: Error) => caught,
    );
    expect(error).to.be.instanceOf(ReferencePhotoError);
    expect(error.message).to.contain("sha256").and.contain("not saved");
    expect(await readdir(cache)).to.deep.equal([]);
  });

  it("a folder the user named is never downloaded into: a missing photo is named with its source", async function () {
    const dir = await scratchDir();
    const error = await selfTestWith({ path: dir, origin: "configured" }).then(
      () => expect.fail("the self-test ran without its photos"),
      (caught: Error) => caught,
    );
    expect(error).to.be.instanceOf(ReferencePhotoError);
    expect(error.message)
      .to.contain("glow_cat_285.png")
      .and.contain(dir)
      .and.contain("ARGUS_REFERENCE_PHOTOS_DIR")
      .and.contain("https://raw.githubusercontent.com/pytorch/glow/");
    expect(mirror.requests).to.deep.equal([]);
  });

  it("a photo with other bytes under its name stops the self-test and names the file", async function () {
    const dir = await scratchDir();
    for (const name of await readdir(SHARED_IMAGES_DIR)) await copyFile(join(SHARED_IMAGES_DIR, name), join(dir, name));
    await writeFile(join(dir, "wml_cat.jpg"), Buffer.from("a different photo"));
    const error = await selfTestWith({ path: dir, origin: "configured" }).then(
      () => expect.fail("the self-test ran on a damaged photo"),
      (caught: Error) => caught,
    );
    expect(error).to.be.instanceOf(ReferencePhotoError);
    expect(error.message).to.contain(join(dir, "wml_cat.jpg")).and.contain("sha256");
  });
});
