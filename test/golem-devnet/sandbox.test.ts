/**
 * Acceptance: a command run by the devnet's exe-unit inside the provider image is as
 * confined as in a Golem VM, or more. It cannot read the checkout or any host path,
 * cannot reach the network (not even a server on the host's loopback) or resolve names,
 * cannot write outside /golem/input, /golem/output and /tmp, finds /tmp capped at
 * 128 MiB, sees only the image's environment, holds no capabilities, and is killed when
 * it uses more memory than the offer's. Like a VM, the sandbox lives as long as the
 * activity: what a command leaves running or writes to /tmp is there for the next one.
 */
import { randomUUID } from "node:crypto";
import { readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { SANDBOX_TMP_BYTES } from "@argus/golem-devnet/create-exe-unit";
import { REPO_ROOT } from "../support/shared.ts";
import {
  deployAndStart,
  exeUnitFor,
  GIB,
  type ImageFixture,
  requireProviderImage,
  runCommand,
  SHARED_WORK_ROOT,
  shell,
  startImageFixture,
} from "./support/provider-image-fixture.ts";
import { isAlive } from "../stack/support/npm-start.ts";

const MIB = 2 ** 20;

async function findHostPid(needle: string): Promise<number | undefined> {
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "");
    if (cmdline.split("\0").join(" ").includes(needle)) return Number(entry);
  }
  return undefined;
}

const NODE = "/usr/local/bin/node";

describe("golem-devnet: the sandbox a run command gets", function () {
  this.timeout(10 * 60_000);
  let fixture: ImageFixture;
  let exe: ReturnType<typeof exeUnitFor>;

  before(async function () {
    await requireProviderImage(this);
    fixture = await startImageFixture();
    exe = exeUnitFor(fixture, { memoryBytes: GIB });
    await deployAndStart(exe);
  });

  after(async function () {
    await exe?.destroy();
    await fixture?.close();
  });

  async function ok(script: string): Promise<string> {
    const outcome = await shell(exe, script);
    expect(outcome.result, `${script}\n${outcome.message}\n${outcome.stderr}`).to.equal("Ok");
    return outcome.stdout ?? "";
  }

  it("cannot see the checkout, the devnet's work folder, or any other host path", async function () {
    const marker = join(tmpdir(), `argus-sandbox-marker-${randomUUID()}`);
    await writeFile(marker, "host secret");
    try {
      const paths = [join(REPO_ROOT, "package.json"), REPO_ROOT, SHARED_WORK_ROOT, marker, "/work"];
      const script = paths
        .map((path) => `if cat '${path}' >/dev/null 2>&1 || [ -e '${path}' ]; then echo "visible ${path}"; fi`)
        .join("; ");
      expect(await ok(`${script}; echo checked`)).to.equal("checked\n");
      // /proc holds only the sandbox's own processes, and PID 1's command line names no host path.
      const proc = await ok("ls /proc | grep -c '^[0-9]'; tr '\\0' ' ' < /proc/1/cmdline");
      const [count, cmdline] = proc.split("\n");
      expect(Number(count)).to.be.lessThan(10);
      for (const hostPath of [REPO_ROOT, SHARED_WORK_ROOT, tmpdir()]) expect(cmdline).to.not.include(hostPath);
    } finally {
      await rm(marker, { force: true });
    }
  });

  it("cannot open a connection to a server on the host's loopback, nor resolve a name", async function () {
    let connections = 0;
    const server: Server = createServer((socket) => {
      connections += 1;
      socket.end("hello from the host\n");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const probe = `
        const net = require("node:net"), dns = require("node:dns"), os = require("node:os");
        const tcp = new Promise((resolve) => {
          const socket = net.connect(${port}, "127.0.0.1", () => resolve("connected"));
          socket.on("error", (error) => resolve(error.code));
          socket.setTimeout(3000, () => resolve("timeout"));
        });
        const name = new Promise((resolve) => dns.lookup("registry.golem.network", (error) => resolve(error ? error.code : "resolved")));
        Promise.all([tcp, name]).then(([tcp, dns]) => console.log(JSON.stringify({ tcp, dns, interfaces: Object.keys(os.networkInterfaces()) })));`;
      const outcome = await runCommand(exe, NODE, ["-e", probe]);
      expect(outcome.result, outcome.stderr).to.equal("Ok");
      const result = JSON.parse(outcome.stdout!);
      expect(result.tcp).to.be.oneOf(["ECONNREFUSED", "ENETUNREACH", "EHOSTUNREACH"]);
      expect(result.dns).to.not.equal("resolved");
      expect(result.interfaces).to.deep.equal(["lo"]);
      expect(connections).to.equal(0);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it("cannot write outside /golem/input, /golem/output and /tmp", async function () {
    const denied = [
      "/",
      "/app",
      "/app/models",
      "/etc",
      "/usr/local/bin",
      "/root",
      "/var/tmp",
      "/dev",
      "/dev/shm",
      "/golem",
      "/proc/sys/kernel",
    ];
    const allowed = ["/golem/input", "/golem/output", "/tmp"];
    const probe = (dir: string) =>
      `if (echo probe > '${dir}/probe-file') 2>/dev/null; then echo "writable ${dir}"; else echo "read-only ${dir}"; fi`;
    const lines = (await ok([...denied, ...allowed].map(probe).join("; "))).trim().split("\n");
    expect(lines).to.deep.equal([...denied.map((dir) => `read-only ${dir}`), ...allowed.map((dir) => `writable ${dir}`)]);
    // Nor can it remount, or use privileges it does not hold.
    expect(await ok("mount -o remount,rw / 2>/dev/null && echo remounted; grep CapEff /proc/self/status")).to.equal(
      "CapEff:\t0000000000000000\n",
    );
  });

  it("finds /tmp capped at 128 MiB", async function () {
    const out = await ok(
      "df -B1 --output=size /tmp | tail -1; head -c 200000000 /dev/zero > /tmp/fill 2>/dev/null; echo status=$?; stat -c %s /tmp/fill; rm /tmp/fill",
    );
    const [size, status, written] = out.trim().split("\n");
    expect(Number(size)).to.equal(SANDBOX_TMP_BYTES);
    expect(status).to.not.equal("status=0");
    expect(Number(written)).to.be.at.most(SANDBOX_TMP_BYTES);
  });

  it("sees exactly the image's Env and WorkingDir", async function () {
    const { config } = JSON.parse(await readFile(join(REPO_ROOT, "provider-image/dist/image.json"), "utf8")) as {
      config: { Env: string[]; WorkingDir: string };
    };
    const outcome = await runCommand(exe, NODE, ["-e", "console.log(JSON.stringify({ env: process.env, cwd: process.cwd() }))"]);
    const { env, cwd } = JSON.parse(outcome.stdout!);
    const imageEnv = Object.fromEntries(config.Env.map((pair) => [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)]));
    // Nothing else: no PWD either (the VM's init sets none; a shell would add its own).
    expect(env).to.deep.equal(imageEnv);
    expect(cwd).to.equal(config.WorkingDir);
  });

  it("keeps what a command leaves running and its /tmp for the next command, bills its CPU, and ends it with the activity", async function () {
    const vm = exeUnitFor(fixture, { memoryBytes: GIB });
    await deployAndStart(vm);
    let pidOnHost: number | undefined;
    try {
      // A background process that burns 1 CPU-second (CPU time, not wall time: the host may be busy), then waits.
      const burn = "const start = process.cpuUsage(); while (process.cpuUsage(start).user < 1e6); setInterval(() => {}, 1000)";
      const started = await shell(vm, `echo kept > /tmp/note; setsid ${NODE} -e '${burn}' </dev/null >/dev/null 2>&1 & echo started`);
      expect(started.result, started.message).to.equal("Ok");
      for (let waited = 0; waited < 20_000 && vm.usage().cpuSec < 1; waited += 100)
        await new Promise((resolve) => setTimeout(resolve, 100));
      const later = await shell(
        vm,
        "cat /tmp/note; for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline; echo; done | grep -c '[-]e const start'",
      );
      expect(later.stdout).to.equal("kept\n1\n");
      expect(vm.usage().cpuSec, "the background process's CPU is the VM's").to.be.at.least(0.8);
      pidOnHost = await findHostPid("-e const start");
      expect(pidOnHost, "the background process, seen from the host").to.be.a("number");
    } finally {
      await vm.destroy();
    }
    expect(isAlive(pidOnHost!), "left running after the activity").to.equal(false);
    // A new activity is a new VM: nothing of the last one's /tmp.
    const fresh = exeUnitFor(fixture, { memoryBytes: GIB });
    await deployAndStart(fresh);
    try {
      expect((await shell(fresh, "ls /tmp | wc -l")).stdout).to.equal("0\n");
    } finally {
      await fresh.destroy();
    }
  });

  it("kills a process that uses more memory than the offer's, and not one that stays under it", async function () {
    const small = exeUnitFor(fixture, { memoryBytes: 512 * MIB });
    await deployAndStart(small);
    try {
      // Buffers are filled so their pages are resident, as a real workload's are.
      const allocate = (mib: number) =>
        `const kept = []; for (let i = 0; i < ${mib / 8}; i++) { kept.push(Buffer.alloc(8 << 20, 1)); if (i % 16 === 15) console.log((i + 1) * 8); } console.log("survived");`;
      const under = await runCommand(small, NODE, ["-e", allocate(256)]);
      expect(under.result, under.message).to.equal("Ok");
      expect(under.stdout).to.match(/survived\n$/);
      const over = await runCommand(small, NODE, ["-e", allocate(4096)]);
      expect(over.result).to.equal("Error");
      expect(over.message).to.match(/^ExeScript command exited with code 9 \(killed: the VM ran out of memory, \d+ MiB used of 512 MiB\)$/);
      expect(over.stdout).to.not.include("survived");
      const reached = Math.max(...(over.stdout ?? "0").trim().split("\n").map(Number));
      expect(reached, "MiB allocated before the kill").to.be.within(256, 1024);
    } finally {
      await small.destroy();
    }
  });
});
