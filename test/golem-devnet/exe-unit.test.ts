/**
 * The devnet's exe-unit on the real provider image: deployed from the image registry
 * with its sha3 checked, the engine's entry command run on two labelled photos the way
 * an Argus chunk runs on Golem (inputs and results moving through golem-js's
 * WebSocketStorageProvider), the exe-unit's state machine and messages, its output
 * capture, and every fault the control API can switch on.
 */
import { readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nullLogger, WebSocketStorageProvider, YagnaApi } from "@golem-sdk/golem-js";
import { expect } from "chai";
import { isImageCached, OUTPUT_LIMIT_BYTES } from "@argus/golem-devnet/create-exe-unit";
import type { ExeUnitFaults } from "@argus/golem-devnet/exe-unit";
import { type BatchDescription, parseResultsFile } from "@argus/protocol/batch";
import { rawCidOfBytes } from "@argus/provider-image/file-cid";
import { requireSharedData, sharedImage } from "../support/shared.ts";
import { type GsbTestServer, startGsbTestServer } from "./support/gsb-test-server.ts";
import {
  deployAndStart,
  execute,
  exeUnitFor,
  type ImageFixture,
  requireProviderImage,
  runCommand,
  SHARED_WORK_ROOT,
  shell,
  startImageFixture,
} from "./support/provider-image-fixture.ts";

const ENTRY = ["/usr/local/bin/node", "/app/provider-image/src/bin/entry.ts"];
const MOBILENET_SHA256 = "cc028fe6cae7bc11a4ff53cfc9b79c920e8be65ce33a904ec3e2a8f66d77f95f";

describe("golem-devnet: the exe-unit on the real provider image", function () {
  this.timeout(10 * 60_000);
  let fixture: ImageFixture;
  let gsb: GsbTestServer;
  let storage: WebSocketStorageProvider;
  let batch: BatchDescription;
  let photos: Map<string, Uint8Array>;

  before(async function () {
    requireSharedData(this);
    await requireProviderImage(this);
    fixture = await startImageFixture();
    gsb = await startGsbTestServer();
    storage = new WebSocketStorageProvider(new YagnaApi({ apiKey: gsb.appKey, basePath: gsb.basePath, logger: nullLogger() }), {
      logger: nullLogger(),
    });
    await storage.init();
    photos = new Map([
      ["cat.jpg", new Uint8Array(await readFile(sharedImage("wml_cat.jpg")))],
      ["pineapple.png", new Uint8Array(await readFile(sharedImage("ortx_pineapple.png")))],
    ]);
    batch = {
      batchVersion: 1,
      modelId: "mobilenetv2-12-int8",
      requests: await Promise.all(
        [...photos].map(async ([imageFile, bytes], index) => ({
          requestId: String(index + 1),
          imageCid: await rawCidOfBytes(bytes),
          imageFile,
        })),
      ),
    };
  });

  after(async function () {
    await storage?.close();
    await gsb?.close();
    await fixture?.close();
  });

  /** Uploads the batch and photos as Argus's exe-script does (uploadData → gftp → /golem/input). */
  async function uploadBatch(exe: ReturnType<typeof exeUnitFor>): Promise<void> {
    const files = new Map<string, Uint8Array>([["batch.json", new TextEncoder().encode(JSON.stringify(batch))], ...photos]);
    for (const [name, bytes] of files) {
      const url = await storage.publishData(bytes);
      const outcome = await execute(exe, { transfer: { from: url, to: `container:/golem/input/${name}` } });
      expect(outcome, `uploading ${name}`).to.deep.include({ result: "Ok" });
      await storage.release([url]);
    }
  }

  /** Downloads /golem/output/results.json as Argus's exe-script does (downloadFile). */
  async function downloadResults(exe: ReturnType<typeof exeUnitFor>): Promise<unknown> {
    const to = join(tmpdir(), `argus-exe-unit-results-${process.pid}-${Date.now()}.json`);
    const url = await storage.receiveFile(to);
    const outcome = await execute(exe, { transfer: { from: "container:/golem/output/results.json", to: url } });
    expect(outcome, "downloading results.json").to.deep.include({ result: "Ok" });
    await storage.release([url]);
    const json = JSON.parse(await readFile(to, "utf8"));
    await rm(to, { force: true });
    return json;
  }

  function topClasses(json: unknown): (number | string)[] {
    return parseResultsFile(json, batch, { weightsSha256: MOBILENET_SHA256 }).map((result) =>
      "top5" in result ? (result.top5[0]?.classIndex ?? "none") : JSON.stringify(result),
    );
  }

  async function deployedWithGsb(faults: () => ExeUnitFaults = () => ({})) {
    const exe = exeUnitFor(fixture, { gsb: gsb.hub, faults });
    await deployAndStart(exe);
    return exe;
  }

  it("refuses commands out of order with the exe-unit's messages, and deploys the image's volumes", async function () {
    const exe = exeUnitFor(fixture);
    expect(exe.state).to.equal("Initialized");
    expect(await shell(exe, "true")).to.deep.equal({
      result: "Error",
      message: "Local service error: State error: Activity is initialized - deploy() command is expected now",
    });
    const deployed = await execute(exe, { deploy: {} });
    expect(deployed.result, deployed.message).to.equal("Ok");
    const { vols, startMode } = JSON.parse(deployed.stdout!);
    expect(startMode).to.equal("blocking");
    expect(vols.map((volume: { path: string }) => volume.path).sort()).to.deep.equal(["/golem/input", "/golem/output"]);
    expect(vols.every((volume: { name: string }) => /^vol-[0-9a-f-]{36}$/.test(volume.name))).to.equal(true);
    expect(exe.state).to.equal("Deployed");
    expect((await shell(exe, "true")).message).to.match(/deploy\(\)|start\(\) command is expected now/);
    expect(await execute(exe, { start: {} })).to.deep.equal({ result: "Ok" });
    expect(exe.state).to.equal("Ready");
    expect((await execute(exe, { deploy: {} })).message).to.equal(
      "Local service error: State error: Cannot send command after a successful start()",
    );
    const failing = await shell(exe, "echo out; echo err >&2; exit 3");
    expect(failing).to.deep.equal({ result: "Error", message: "ExeScript command exited with code 3", stdout: "out\n", stderr: "err\n" });
    await exe.destroy();
    expect(exe.state).to.equal("Terminated");
    expect(await isImageCached(SHARED_WORK_ROOT, fixture.hash)).to.equal(true);
  });

  it("runs the engine's entry command on 2 photos sent with golem-js and returns correct labels", async function () {
    const exe = await deployedWithGsb();
    await uploadBatch(exe);
    const outcome = await runCommand(exe, ENTRY[0]!, ENTRY.slice(1));
    expect(outcome.result, `${outcome.message}\n${outcome.stderr}`).to.equal("Ok");
    expect(JSON.parse(outcome.stdout!)).to.include({ results: 2, errors: 0 });
    expect(topClasses(await downloadResults(exe))).to.deep.equal([285, 953]); // Egyptian cat, pineapple
    expect(exe.usage().cpuSec).to.be.greaterThan(0.1);
    await exe.destroy();
  });

  it("keeps the first 4 KiB of each stream, then applies the requested capture", async function () {
    const exe = exeUnitFor(fixture);
    await deployAndStart(exe);
    const script = "i=0; while [ $i -lt 2000 ]; do echo line-$i; echo err-$i >&2; i=$((i+1)); done";
    const all = await shell(exe, script);
    expect(all.result).to.equal("Ok");
    expect(all.stdout).to.have.length(OUTPUT_LIMIT_BYTES);
    expect(all.stdout!.startsWith("line-0\nline-1\n")).to.equal(true);
    expect(all.stderr).to.have.length(OUTPUT_LIMIT_BYTES);
    const tail = await runCommand(exe, "/bin/sh", ["-c", script], { stdout: { atEnd: { tail: 20 } } });
    expect(tail.stdout).to.equal(all.stdout!.slice(-20));
    expect(tail.stderr).to.equal(undefined); // not captured
    const head = await runCommand(exe, "/bin/sh", ["-c", "printf abcdef"], { stdout: { atEnd: { head: 3 } }, stderr: { atEnd: {} } });
    expect(head).to.deep.equal({ result: "Ok", stdout: "abc", stderr: undefined });
    await exe.destroy();
  });

  it("refuses an image whose sha3 differs from the task package's, and caches nothing for it", async function () {
    const wrong = "0".repeat(56);
    const workRoot = join(tmpdir(), `argus-exe-unit-mismatch-${process.pid}`);
    const exe = exeUnitFor(fixture, { workRoot, taskPackage: fixture.taskPackage.replace(fixture.hash, wrong) });
    try {
      const outcome = await execute(exe, { deploy: {} });
      expect(outcome.result).to.equal("Error");
      expect(outcome.message).to.equal(
        `Local service error: Transfer error: Incorrect hash provided or downloaded image is corrupted: calculated hash ${fixture.hash} differs from the expected one ${wrong}`,
      );
      expect(exe.state).to.equal("Initialized");
      expect(await isImageCached(workRoot, wrong)).to.equal(false);
      expect(await readdir(join(workRoot, "images"))).to.deep.equal([]); // the download was deleted
    } finally {
      await exe.destroy();
      await rm(workRoot, { recursive: true, force: true });
    }
  });

  it("shares one download and unpack between concurrent deploys of a hash, then deploys from cache", async function () {
    const workRoot = join(tmpdir(), `argus-exe-unit-concurrent-${process.pid}`);
    await rm(workRoot, { recursive: true, force: true });
    const units = [0, 1, 2, 3].map(() => exeUnitFor(fixture, { workRoot }));
    try {
      const outcomes = await Promise.all(units.slice(0, 3).map((exe) => execute(exe, { deploy: {} })));
      expect(outcomes.map((outcome) => outcome.result)).to.deep.equal(["Ok", "Ok", "Ok"]);
      const sources = units.map((exe) => exe.deployedImage());
      expect(sources[0]?.kind).to.equal("download");
      expect(sources[1]).to.equal(sources[0]);
      expect(sources[2]).to.equal(sources[0]);
      expect((await execute(units[3]!, { deploy: {} })).result).to.equal("Ok");
      expect(units[3]!.deployedImage()).to.deep.equal({ kind: "cache" });
    } finally {
      for (const exe of units) await exe.destroy();
      await rm(workRoot, { recursive: true, force: true });
    }
  });

  describe("faults", function () {
    it("slowFactor stretches a run's wall time", async function () {
      const exe = exeUnitFor(fixture, { faults: () => ({ slowFactor: 4 }) });
      await deployAndStart(exe);
      const started = performance.now();
      expect((await shell(exe, "sleep 0.5")).result).to.equal("Ok");
      expect(performance.now() - started).to.be.at.least(2000);
      await exe.destroy();
    });

    it("crashAfterMs kills the command mid-run and the activity is gone", async function () {
      const exe = exeUnitFor(fixture, { faults: () => ({ crashAfterMs: 300 }) });
      await deployAndStart(exe);
      const started = performance.now();
      const outcome = await shell(exe, "echo started; sleep 30; echo finished");
      expect(performance.now() - started).to.be.lessThan(15_000);
      expect(outcome.result).to.equal("Error");
      expect(outcome.message).to.match(/^ExeScript command exited with code 9 \(devnet fault: the provider crashed after 300 ms\)$/);
      expect(outcome.stdout).to.equal("started\n");
      expect(exe.state).to.equal("Terminated");
      expect((await shell(exe, "true")).message).to.match(/not allowed when activity is in the Terminated state/);
      await exe.destroy();
    });

    it("invalidResults leaves a results file the oracle must reject; lie one it accepts with wrong classes", async function () {
      let faults: ExeUnitFaults = { invalidResults: true };
      const exe = await deployedWithGsb(() => faults);
      await uploadBatch(exe);
      expect((await runCommand(exe, ENTRY[0]!, ENTRY.slice(1))).result).to.equal("Ok");
      const invalid = await downloadResults(exe);
      expect(() => parseResultsFile(invalid, batch)).to.throw(/results\.json is invalid/);

      faults = { lie: true };
      expect((await runCommand(exe, ENTRY[0]!, ENTRY.slice(1))).result).to.equal("Ok");
      const lies = topClasses(await downloadResults(exe)); // passes every check the oracle makes
      expect(lies).to.have.length(2);
      expect(lies[0]).to.not.equal(285);
      expect(lies[1]).to.not.equal(953);
      await exe.destroy();
    });

    it("dropTransferAfterBytes fails the transfer as a dropped WebSocket would", async function () {
      const exe = await deployedWithGsb(() => ({ dropTransferAfterBytes: 50_000 }));
      const url = await storage.publishData(photos.get("cat.jpg")!.slice());
      const outcome = await execute(exe, { transfer: { from: url, to: "container:/golem/input/cat.jpg" } });
      expect(outcome.result).to.equal("Error");
      expect(outcome.message).to.match(/^Local service error: Transfer error: GSB error: Closed: .*dropped/);
      const outside = await execute(exe, { transfer: { from: url, to: "container:/app/cat.jpg" } });
      expect(outside.message).to.equal("Local service error: Transfer error: IO error: path not found in container: /app/cat.jpg");
      await storage.release([url]);
      await exe.destroy();
    });
  });
});
