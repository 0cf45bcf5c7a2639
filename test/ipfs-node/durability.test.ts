/**
 * The node as a separate process (`npm run ipfs`'s entry point): the ready line,
 * restarts, SIGKILL in the middle of uploads, the data-directory lock, and what a
 * corrupt block on disk does.
 */
import { spawn } from "node:child_process";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { expect } from "chai";
import { create } from "kubo-rpc-client";
import type { KuboRPCClient } from "kubo-rpc-client";
import { REPO_ROOT } from "../support/shared.ts";
import { checkStoredBlocks, collect, makeTempDir, removeDir, spawnNode, startTestNode, stopProcess, testBytes } from "./support/ipfs.ts";
import type { NodeProcess, ReadyLine } from "./support/ipfs.ts";

const portFlags = ["--api-port", "0", "--gateway-port", "0"];

async function pinnedCids(client: KuboRPCClient): Promise<string[]> {
  const cids = [];
  for await (const pin of client.pin.ls({ type: "recursive" })) cids.push(pin.cid.toString());
  return cids.sort();
}

describe("IPFS embedded node: process lifecycle and durability", function () {
  const running: NodeProcess[] = [];
  let dataDir: string;

  beforeEach(async function () {
    dataDir = await makeTempDir("process");
  });

  afterEach(async function () {
    for (const node of running.splice(0)) await stopProcess(node, "SIGKILL");
    await removeDir(dataDir);
  });

  async function start(args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<NodeProcess> {
    const node = await spawnNode(["--data-dir", dataDir, ...portFlags, ...args], env);
    running.push(node);
    return node;
  }

  it("`npm run ipfs` prints a ready line, serves add/cat/pin to another process, and reads its settings from the environment", async function () {
    const child = spawn("npm", ["run", "--silent", "ipfs"], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        ARGUS_IPFS_DATA_DIR: dataDir,
        ARGUS_IPFS_API_PORT: "0",
        ARGUS_IPFS_GATEWAY_PORT: "0",
        ARGUS_IPFS_MAX_UPLOAD_BYTES: "1000",
      },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true, // its own process group, so the whole npm -> node tree can be signalled
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      const ready = await new Promise<ReadyLine>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("no ready line from npm run ipfs")), 60_000);
        createInterface({ input: child.stdout! }).on("line", (line) => {
          if (!line.startsWith("{")) return;
          clearTimeout(timer);
          resolve(JSON.parse(line) as ReadyLine);
        });
      });
      expect(ready.event).to.equal("ready");
      expect(ready.dataDir).to.equal(dataDir);
      const client = create({ url: ready.api });
      const { cid } = await client.add(new TextEncoder().encode("through npm run ipfs"));
      expect(new TextDecoder().decode(await collect(client.cat(cid)))).to.equal("through npm run ipfs");
      expect(await pinnedCids(client)).to.deep.equal([cid.toString()]);
      await client.pin.rm(cid);
      expect(await pinnedCids(client)).to.deep.equal([]);
      await client.pin.add(cid);
      expect(await pinnedCids(client)).to.deep.equal([cid.toString()]);
      try {
        await client.add(new Uint8Array(1001));
        expect.fail("ARGUS_IPFS_MAX_UPLOAD_BYTES=1000 must apply");
      } catch (error) {
        expect((error as Error).message).to.match(/limit of 1000 bytes/);
      }
    } finally {
      process.kill(-child.pid!, "SIGTERM");
      await exited;
    }
  });

  it("keeps blocks, pins and its identity across a clean restart", async function () {
    const first = await start();
    expect(first.ready.peerId).to.match(/^12D3KooW/);
    let client = create({ url: first.ready.api });
    const image = testBytes(700_000, 61);
    const imageV0 = (await client.add(image)).cid;
    const imageV1 = (await client.add(image, { cidVersion: 1 })).cid;
    const result = await client.block.put(new TextEncoder().encode('{"label":"cat"}'), { format: "raw", pin: true });
    const unpinned = (await client.add(testBytes(1_000, 62), { pin: false })).cid;
    const pinsBefore = await pinnedCids(client);
    expect(pinsBefore).to.include.members([imageV0.toString(), imageV1.toString(), result.toString()]);

    expect(await stopProcess(first, "SIGTERM")).to.equal(0);
    const second = await start();
    expect(second.ready.peerId).to.equal(first.ready.peerId);
    client = create({ url: second.ready.api });
    expect(await pinnedCids(client)).to.deep.equal(pinsBefore);
    for (const cid of [imageV0, imageV1]) {
      expect(Buffer.from(await collect(client.cat(cid))).equals(Buffer.from(image))).to.equal(true);
    }
    expect(new TextDecoder().decode(await client.block.get(result))).to.equal('{"label":"cat"}');
    expect((await collect(client.cat(unpinned))).length).to.equal(1_000); // stored, just not pinned
  });

  it("leaves no corrupt block behind when killed with SIGKILL in the middle of uploads", async function () {
    const kept = testBytes(1_000_000, 71);
    const slowUploadBytes = 32 * 1024 * 1024;
    let keptCid: string | undefined;
    const completed = new Map<string, Uint8Array>();
    let interruptedWrites = 0;

    for (let round = 0; round < 3; round++) {
      const node = await start(["--max-upload-bytes", String(slowUploadBytes)]);
      const client = create({ url: node.ready.api });
      if (keptCid === undefined) keptCid = (await client.add(kept)).cid.toString();

      // A slow large upload that is still streaming when the process dies...
      const slow = client
        .add(
          (async function* () {
            for (let sent = 0; sent < slowUploadBytes; sent += 65_536) {
              yield testBytes(65_536, round * 1_000 + sent / 65_536);
              await new Promise((resolve) => setTimeout(resolve, 2));
            }
          })(),
        )
        .then(
          () => "finished",
          () => "interrupted",
        );
      // ...while small uploads keep committing (and fsyncing) blocks to disk.
      let killed = false;
      const busy = (async () => {
        for (let index = 0; !killed; index++) {
          const bytes = testBytes(300_000, round * 10_000 + index);
          try {
            const { cid } = await client.add(bytes, { cidVersion: index % 2 === 0 ? 0 : 1 });
            completed.set(cid.toString(), bytes);
          } catch {
            return;
          }
        }
      })();
      await new Promise((resolve) => setTimeout(resolve, 600 + round * 150));
      killed = true;
      expect(await stopProcess(node, "SIGKILL")).to.equal("SIGKILL");
      expect(await slow).to.equal("interrupted");
      await busy;
      interruptedWrites += (await readdir(join(dataDir, "blocks", ".incoming"))).length;

      // Whatever the kill interrupted, every block file on disk is whole.
      const check = await checkStoredBlocks(dataDir);
      expect(check.corrupt, `round ${round}`).to.deep.equal([]);
    }
    console.log(`      ${completed.size} uploads completed, ${interruptedWrites} block writes interrupted by SIGKILL`);
    expect(completed.size).to.be.greaterThan(0);

    // The restarted node takes over the dead process's lock, sweeps the leftovers,
    // and still has everything that was acknowledged.
    const node = await start();
    const client = create({ url: node.ready.api });
    const check = await checkStoredBlocks(dataDir);
    expect(check.strays).to.deep.equal([]);
    expect(check.corrupt).to.deep.equal([]);
    expect(Buffer.from(await collect(client.cat(keptCid!))).equals(Buffer.from(kept))).to.equal(true);
    const pins = new Set(await pinnedCids(client));
    for (const [cid, bytes] of completed) {
      expect(pins.has(cid), cid).to.equal(true);
      expect(Buffer.from(await collect(client.cat(cid))).equals(Buffer.from(bytes)), cid).to.equal(true);
    }
    expect(await stopProcess(node, "SIGTERM")).to.equal(0);
  });

  it("refuses a second node on the same data directory while the first runs", async function () {
    const first = await start();
    try {
      await spawnNode(["--data-dir", dataDir, ...portFlags]);
      expect.fail("a second node must not start");
    } catch (error) {
      expect((error as Error).message).to.match(new RegExp(`in use by process ${first.child.pid}`));
    }
  });

  it("exits with a usage message on a bad flag", async function () {
    try {
      await spawnNode(["--api-port", "99999"]);
      expect.fail("must not start");
    } catch (error) {
      expect((error as Error).message).to.match(/apiPort \(--api-port\): .*accepted: an integer from 0 to 65535/);
      expect((error as Error).message).to.match(/Usage: npm run ipfs/);
    }
  });
});

describe("IPFS embedded node: a corrupt block on disk", function () {
  it("is detected on read, set aside, and repaired by adding the content again", async function () {
    const dataDir = await makeTempDir("corrupt");
    try {
      const content = testBytes(10_000, 81);
      let node = await startTestNode({ dataDir });
      let client = create({ url: node.apiUrl });
      const { cid } = await client.add(content, { cidVersion: 1 });
      await node.stop();

      // Flip one byte of the stored block, as a failing disk would.
      const shardDirs = (await readdir(join(dataDir, "blocks"))).filter((name) => !name.startsWith("."));
      const blockFile = join(dataDir, "blocks", shardDirs[0]!, (await readdir(join(dataDir, "blocks", shardDirs[0]!)))[0]!);
      const bytes = await readFile(blockFile);
      bytes[100]! ^= 0xff;
      await writeFile(blockFile, bytes);

      node = await startTestNode({ dataDir, readTimeoutMs: 500 });
      client = create({ url: node.apiUrl });
      try {
        await collect(client.cat(cid));
        expect.fail("a corrupt block must not be served");
      } catch (error) {
        expect((error as Error).message).to.match(/does not match its hash/);
      }
      expect(await readdir(join(dataDir, "blocks", ".corrupt"))).to.have.length(1);
      const gateway = await fetch(`${node.gatewayUrl}/ipfs/${cid}`);
      expect(gateway.status).to.equal(504); // the block is gone now, as if never stored

      expect((await client.add(content, { cidVersion: 1 })).cid.toString()).to.equal(cid.toString());
      expect(Buffer.from(await collect(client.cat(cid))).equals(Buffer.from(content))).to.equal(true);
      await node.stop();
    } finally {
      await removeDir(dataDir);
    }
  });
});
