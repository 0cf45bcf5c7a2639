/**
 * The Docker-free Golem VM image (`npm run build:provider-image`): built into a temp
 * folder, parsed by the same reader as golem-js's alpine.gvmi fixture, unpacked, and its
 * entry command run inside it under bubblewrap — read-only root, no network, only the
 * trailer's environment and working directory — as ya-runtime-vm would run it.
 *
 * The fixture (golemfactory/golem-js tests/fixtures/alpine.gvmi, 3,576,181 bytes) is not
 * in this repository; point ARGUS_GVMI_FIXTURE at a copy to check it here. Read by hand
 * it is: lzo squashfs of 3,574,860 bytes padded to 3,575,808 (873 × 4096), CRC-32
 * 0xabc3bd60 stored little-endian at 3,575,808, a 361-byte config JSON, then "00000361".
 */
import { execFile } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { BUILD_TOOLS, type BuiltImage, buildImage, missingTools } from "@argus/provider-image/build-image";
import { readImageRecord, verifyImageRecord } from "@argus/provider-image/build-output";
import { rawCidOfBytes } from "@argus/provider-image/file-cid";
import { type GvmiLayout, gvmiTrailer, paddingFor, readGvmi } from "@argus/provider-image/gvmi-format";
import { type BatchDescription, parseResultsFile } from "@argus/protocol/batch";
import { REPO_ROOT, requireSharedData, SHARED_MODELS_DIR, SHARED_REFERENCE_PHOTOS, sharedImage } from "../support/shared.ts";

const run = promisify(execFile);
const TOOLS = { ...BUILD_TOOLS, unsquashfs: "squashfs-tools", bwrap: "bubblewrap" };
const MOBILENET_SHA256 = "cc028fe6cae7bc11a4ff53cfc9b79c920e8be65ce33a904ec3e2a8f66d77f95f";

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.map((entry) => `/${relative(dir, join(entry.parentPath, entry.name))}`);
}

describe("provider image: the GVMI built without Docker", function () {
  this.timeout(15 * 60_000);
  let work: string;
  let built: BuiltImage;
  let layout: GvmiLayout;
  let rootDir: string;

  before(async function () {
    requireSharedData(this);
    const missing = await missingTools(TOOLS);
    if (missing.length > 0) {
      console.warn(`SKIPPED: the GVMI build test needs ${missing.join(", ")}: apt-get install -y mmdebstrap squashfs-tools bubblewrap`);
      this.skip();
    }
    if (process.getuid?.() !== 0) {
      console.warn("SKIPPED: the GVMI build test needs root (mmdebstrap --mode=root)");
      this.skip();
    }
    work = await mkdtemp(join(tmpdir(), "argus-gvmi-test-"));
    built = await buildImage({
      repoRoot: REPO_ROOT,
      modelsDir: SHARED_MODELS_DIR,
      referencePhotos: SHARED_REFERENCE_PHOTOS,
      outputDir: join(work, "dist"),
      log: () => {},
    });
    layout = await readGvmi(built.file);
    rootDir = join(work, "root");
    await run("unsquashfs", ["-no-progress", "-d", rootDir, built.file], { maxBuffer: 64 << 20 });
  });

  after(async function () {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("is laid out as ya-runtime-vm reads it, and image.json gives its sha3-224 and size", async function () {
    expect(layout.compression).to.equal("lzo");
    expect(layout.squashfsSize % 4096).to.equal(0);
    expect(layout.squashfsSize - layout.squashfsBytesUsed).to.be.lessThan(4096);
    expect(layout.fileSize).to.equal(layout.squashfsSize + 4 + Buffer.byteLength(layout.configJson) + 8);
    expect(layout.config).to.deep.include({
      WorkingDir: "/app",
      Entrypoint: ["/usr/local/bin/node", "/app/provider-image/src/bin/entry.ts"],
    });
    expect(layout.config.Volumes).to.deep.equal({ "/golem/input": {}, "/golem/output": {} });
    const summary = JSON.parse(await readFile(join(work, "dist/image.json"), "utf8"));
    expect(summary).to.include({ hash: built.hash, sizeBytes: layout.fileSize });
    expect(built.hash).to.match(/^[0-9a-f]{56}$/);
    expect(built.sizeBytes).to.be.at.most(180e6);
  });

  it("image.json is the build record registering reads; a second build from the same inputs keeps the image", async function () {
    const record = await readImageRecord(join(work, "dist"));
    expect(record).to.deep.include({ hash: built.hash, sizeBytes: built.sizeBytes, inputsKey: built.inputsKey, imagePath: built.file });
    await verifyImageRecord(record);
    const started = performance.now();
    const again = await buildImage({
      repoRoot: REPO_ROOT,
      modelsDir: SHARED_MODELS_DIR,
      referencePhotos: SHARED_REFERENCE_PHOTOS,
      outputDir: join(work, "dist"),
      reuse: true,
      log: () => {},
    });
    expect(again).to.deep.include({ reused: true, hash: built.hash, file: built.file, inputsKey: built.inputsKey });
    expect(performance.now() - started).to.be.lessThan(30_000); // no mmdebstrap, no mksquashfs
  });

  it("the reader parses a small image made the same way, and rejects a corrupted trailer", async function () {
    const tiny = join(work, "tiny");
    await mkdir(join(tiny, "etc"), { recursive: true });
    await writeFile(join(tiny, "etc/hello"), "hello\n");
    const file = join(work, "tiny.gvmi");
    await run("mksquashfs", [tiny, file, "-comp", "lzo", "-noappend", "-all-root", "-no-progress"]);
    const config = { Env: ["PATH=/bin"], WorkingDir: "/golem/work", Cmd: ["/bin/sh"] };
    const size = (await readFile(file)).length;
    await writeFile(file, Buffer.concat([paddingFor(size), gvmiTrailer(config)]), { flag: "a" });
    const parsed = await readGvmi(file);
    expect(parsed.config).to.deep.equal(config);
    expect(parsed.squashfsSize % 4096).to.equal(0);
    const bytes = await readFile(file);
    bytes.writeUInt8(bytes.readUInt8(parsed.crcOffset + 6) ^ 1, parsed.crcOffset + 6); // a flipped bit inside the JSON
    await writeFile(file, bytes);
    await readGvmi(file).then(
      () => expect.fail("a corrupted config was accepted"),
      (error: Error) => expect(error.message).to.match(/CRC-32/),
    );
  });

  it("reads golem-js's alpine.gvmi fixture the same way (ARGUS_GVMI_FIXTURE)", async function () {
    const fixture = process.env.ARGUS_GVMI_FIXTURE;
    if (!fixture) {
      console.warn("SKIPPED: set ARGUS_GVMI_FIXTURE to a copy of golem-js tests/fixtures/alpine.gvmi");
      this.skip();
    }
    const copy = join(work, "alpine.gvmi"); // read a temp copy: the fixture never enters the repository
    await copyFile(fixture, copy);
    const alpine = await readGvmi(copy);
    expect(alpine).to.deep.include({
      fileSize: 3_576_181,
      squashfsSize: 3_575_808,
      squashfsBytesUsed: 3_574_860,
      crc: 0xabc3bd60,
      compression: "lzo",
    });
    expect(Buffer.byteLength(alpine.configJson)).to.equal(361);
    expect(alpine.config).to.deep.include({ WorkingDir: "/golem/work", Cmd: ["/bin/sh"] });
  });

  it("holds Node 24 and the engine, but no npm, corepack or yarn, no test files and no source maps", async function () {
    const files = await filesUnder(rootDir);
    expect(files).to.include.members([
      "/usr/local/bin/node",
      "/app/provider-image/src/bin/entry.ts",
      "/app/models/mobilenetv2-12-int8.onnx",
    ]);
    expect(files.filter((path) => /(^|\/)(npm|npx|corepack|yarn|yarnpkg)$/.test(path))).to.deep.equal([]);
    expect(files.filter((path) => /\.map$/.test(path))).to.deep.equal([]);
    const tests = files.filter((path) => /\/(test|tests|__tests__)\/|\.(test|spec)\.[cm]?[jt]sx?$/.test(path));
    expect(tests).to.deep.equal([]);
    expect(files.filter((path) => path.startsWith("/app/provider-image/src/image-build"))).to.deep.equal([]);
  });

  it("runs its entry command on 2 photos: read-only root, no network, the trailer's env and working dir only", async function () {
    const input = join(work, "input");
    const output = join(work, "output");
    await mkdir(input);
    await mkdir(output);
    await copyFile(sharedImage("wml_cat.jpg"), join(input, "cat.jpg"));
    await copyFile(sharedImage("ortx_pineapple.png"), join(input, "pineapple.png"));
    const batch: BatchDescription = {
      batchVersion: 1,
      modelId: "mobilenetv2-12-int8",
      requests: [
        { requestId: "1", imageCid: await rawCidOfBytes(await readFile(join(input, "cat.jpg"))), imageFile: "cat.jpg" },
        { requestId: "2", imageCid: await rawCidOfBytes(await readFile(join(input, "pineapple.png"))), imageFile: "pineapple.png" },
      ],
    };
    await writeFile(join(input, "batch.json"), JSON.stringify(batch));
    const env = (layout.config.Env ?? []).flatMap((pair) => {
      const at = pair.indexOf("=");
      return ["--setenv", pair.slice(0, at), pair.slice(at + 1)];
    });
    const sandbox = ["--unshare-net", "--unshare-pid", "--die-with-parent", "--ro-bind", rootDir, "/", "--proc", "/proc", "--dev", "/dev"];
    const mounts = ["--tmpfs", "/tmp", "--bind", input, "/golem/input", "--bind", output, "/golem/output"];
    const command = [
      ...sandbox,
      ...mounts,
      "--clearenv",
      ...env,
      "--chdir",
      layout.config.WorkingDir ?? "/",
      "--",
      ...(layout.config.Entrypoint ?? []),
    ];
    const { stdout } = await run("bwrap", command, { timeout: 5 * 60_000 });
    expect(JSON.parse(stdout)).to.include({ results: 2, errors: 0 });
    const results = parseResultsFile(JSON.parse(await readFile(join(output, "results.json"), "utf8")), batch, {
      weightsSha256: MOBILENET_SHA256,
    });
    const top = results.map((result) => ("top5" in result ? result.top5[0]?.classIndex : JSON.stringify(result)));
    expect(top).to.deep.equal([285, 953]); // Egyptian cat, pineapple: as on the host (commands.test.ts)
    expect(results.every((result) => "runtime" in result && result.runtime.node.startsWith("24."))).to.equal(true);
  });
});
