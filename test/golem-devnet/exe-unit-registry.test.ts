/**
 * The devnet's image registry as golem-js 3.6 uses it: its real WorkloadDemandDirector,
 * pointed at the registry with GOLEM_REGISTRY_URL, resolves an image hash or tag into
 * the demand's task package, and the exe-unit downloads what that package names.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WorkloadDemandDirector } from "@golem-sdk/golem-js";
import { expect } from "chai";
import { createImageRegistry, type ImageRegistry } from "@argus/golem-devnet/image-registry";

/** What golem-js's demand builder records; the director only adds properties and constraints. */
function recordingBuilder() {
  const properties = new Map<string, unknown>();
  return {
    properties,
    addProperty(key: string, value: unknown) {
      properties.set(key, value);
      return this;
    },
    addConstraint() {
      return this;
    },
  };
}

describe("golem-devnet: the image registry golem-js resolves images with", function () {
  let work: string;
  let file: string;
  let bytes: Buffer;
  let hash: string;
  let registry: ImageRegistry;
  let server: Server;
  let origin: string;
  const previousUrl = process.env.GOLEM_REGISTRY_URL;

  before(async function () {
    work = await mkdtemp(join(tmpdir(), "argus-registry-test-"));
    file = join(work, "image.gvmi");
    bytes = randomBytes(300_000);
    await writeFile(file, bytes);
    hash = createHash("sha3-224").update(bytes).digest("hex");
    registry = createImageRegistry();
    server = createServer((request, response) => {
      if (!registry.handle(request, response)) {
        response.writeHead(404);
        response.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    process.env.GOLEM_REGISTRY_URL = registry.registryUrl(origin);
  });

  after(async function () {
    if (previousUrl === undefined) delete process.env.GOLEM_REGISTRY_URL;
    else process.env.GOLEM_REGISTRY_URL = previousUrl;
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    if (work) await rm(work, { recursive: true, force: true });
  });

  async function taskPackage(workload: { imageHash?: string; imageTag?: string; useHttps?: boolean }): Promise<unknown> {
    const config = {
      packageFormat: "gvmkit-squash",
      runtime: { name: "vm" },
      capabilities: [],
      minMemGib: 0.5,
      minStorageGib: 2,
      minCpuThreads: 1,
      minCpuCores: 1,
      useHttps: false,
      expirationSec: 600,
      ...workload,
    };
    const builder = recordingBuilder();
    await new WorkloadDemandDirector(config as never).apply(builder as never);
    return builder.properties.get("golem.srv.comp.task_package");
  }

  it("refuses to register a file under a hash it does not have", async function () {
    const wrong = hash.replace(/^./, hash[0] === "0" ? "1" : "0");
    await registry.register(file, wrong).then(
      () => expect.fail("a wrong hash was registered"),
      (error: Error) => expect(error.message).to.equal(`${file} has sha3-224 ${hash}, not ${wrong}`),
    );
    expect(registry.images()).to.deep.equal([]);
  });

  it("golem-js resolves a hash and a tag into a task package that downloads the image", async function () {
    await registry.register(file, hash, ["argus/provider:1.0.0"]);
    const download = `${origin}/registry/download/${hash}`;
    expect(await taskPackage({ imageHash: hash })).to.equal(`hash:sha3:${hash}:${download}`);
    expect(await taskPackage({ imageTag: "argus/provider:1.0.0" })).to.equal(`hash:sha3:${hash}:${download}`);
    expect(await taskPackage({ imageHash: hash, useHttps: true })).to.equal(`hash:sha3:${hash}:${download.replace("http:", "https:")}`);
    expect(registry.images()[0]?.lookups).to.equal(3); // golem-js asks with count=true

    const response = await fetch(download);
    expect(response.headers.get("content-length")).to.equal(String(bytes.length));
    expect(Buffer.from(await response.arrayBuffer())).to.deep.equal(bytes);
    const head = await fetch(download, { method: "HEAD" });
    expect(head.status).to.equal(200);
    expect(head.headers.get("content-length")).to.equal(String(bytes.length));
  });

  it("answers 404 for an unknown image, which golem-js reports", async function () {
    const unknown = "ab".repeat(28);
    await taskPackage({ imageHash: unknown }).then(
      () => expect.fail("an unknown image resolved"),
      (error: Error) => expect(error.message).to.equal(`Unable to get image image not found: hash ${unknown}`),
    );
    expect((await fetch(`${origin}/registry/download/${unknown}`)).status).to.equal(404);
    expect((await fetch(`${origin}/registry/v1/image/info?count=true`)).status).to.equal(400);
    expect((await fetch(`${origin}/elsewhere`)).status).to.equal(404); // not the registry's path: left to the server
  });
});
