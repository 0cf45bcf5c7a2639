/**
 * The image's inputs key (image-inputs.ts), on a miniature checkout: it names exactly
 * what goes into the image, so that an image built from the same key is reused and any
 * change to its contents or to the build itself makes a new one.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { expect } from "chai";
import { imageBuildSettings, imageInputsKey } from "@argus/provider-image/image-inputs";

describe("provider image: the inputs key", function () {
  let root: string;
  const put = async (path: string, text: string) => {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
  };

  before(async function () {
    root = await mkdtemp(join(tmpdir(), "argus-inputs-"));
    await put("provider-image/package.json", JSON.stringify({ name: "@argus/provider-image", dependencies: { sharp: "^0.35.0" } }));
    await put("provider-image/src/engine/engine.ts", "export const engine = 1;\n");
    await put("provider-image/src/image-build/stage-app.ts", "export const stage = 1;\n");
    await put("provider-image/manifests/m.json", '{"id":"m"}\n');
    await put("provider-image/reference-set/photos.json", '{"photos":[]}\n');
    await put("provider-image/image.lock", "libc6 2.36-9 amd64\n");
    await put("provider-image/protocol/package.json", JSON.stringify({ name: "@argus/protocol" }));
    await put("provider-image/protocol/src/result.ts", "export const result = 1;\n");
    await put("node_modules/sharp/package.json", JSON.stringify({ name: "sharp", version: "0.35.5" }));
    await put("node_modules/node/bin/node", "a node binary");
    await put("README.md", "not in the image\n");
  });

  after(async function () {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("changes with the image's sources, manifests, reference photos, dependencies, Node, the Debian lock and the build's code, and with nothing else", async function () {
    const key = () => imageInputsKey({ repoRoot: root });
    const first = await key();
    expect(first).to.match(/^[0-9a-f]{64}$/);
    expect(await key(), "stable").to.equal(first);
    await put("README.md", "edited\n");
    await put("provider-image/dist/image.json", "{}");
    expect(await key(), "files outside the image").to.equal(first);

    const seen = new Set([first]);
    for (const [path, text] of [
      ["provider-image/src/engine/engine.ts", "export const engine = 2;\n"],
      ["provider-image/protocol/src/result.ts", "export const result = 2;\n"],
      ["provider-image/manifests/m.json", '{"id":"m","weights":"other"}\n'],
      ["provider-image/reference-set/photos.json", '{"photos":["a.jpg"]}\n'],
      ["node_modules/sharp/package.json", JSON.stringify({ name: "sharp", version: "0.35.6" })],
      ["node_modules/node/bin/node", "another node binary"],
      ["provider-image/image.lock", "libc6 2.36-9+deb12u1 amd64\n"],
      ["provider-image/src/image-build/stage-app.ts", "export const stage = 2;\n"],
    ]) {
      await put(path!, text!);
      const next = await key();
      expect(seen.has(next), path).to.equal(false);
      seen.add(next);
    }
    expect(await imageInputsKey({ repoRoot: root, sourceDateEpoch: 1 })).not.to.equal(await key());
    expect(await imageInputsKey({ repoRoot: root, debianMirror: "http://snapshot.debian.org/x" })).not.to.equal(await key());
  });

  it("reads the build's settings from the environment the way the build does", function () {
    expect(imageBuildSettings({})).to.deep.equal({ debianMirror: undefined, sourceDateEpoch: 0 });
    expect(imageBuildSettings({ ARGUS_DEBIAN_MIRROR: "http://m", SOURCE_DATE_EPOCH: "1700000000" })).to.deep.equal({
      debianMirror: "http://m",
      sourceDateEpoch: 1_700_000_000,
    });
  });
});
