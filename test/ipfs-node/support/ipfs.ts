/**
 * Helpers for the IPFS suites: temporary data directories, the embedded node in
 * process or as a child process (`npm run ipfs`'s entry point, on this Node), and
 * deterministic test bytes.
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { base32upper } from "multiformats/bases/base32";
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import * as Digest from "multiformats/hashes/digest";
import { sha256 } from "multiformats/hashes/sha2";
import type { EmbeddedIpfsOptions } from "@argus/ipfs-node/config";
import { startEmbeddedIpfs } from "@argus/ipfs-node/embedded";
import type { EmbeddedIpfs } from "@argus/ipfs-node/embedded";
import { REPO_ROOT } from "../../support/shared.ts";

export const MAIN_SCRIPT = join(REPO_ROOT, "oracle-requestor/ipfs-node/src/main.ts");

export async function makeTempDir(label: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `argus-ipfs-${label}-`));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** An embedded node on ephemeral ports in a fresh data directory; `stop()` also deletes the directory. */
export async function startTestNode(overrides: Partial<EmbeddedIpfsOptions> = {}): Promise<EmbeddedIpfs & { dataDir: string }> {
  const dataDir = overrides.dataDir ?? (await makeTempDir("node"));
  const node = await startEmbeddedIpfs({ apiPort: 0, gatewayPort: 0, corsOrigins: [], ...overrides, dataDir });
  return {
    ...node,
    dataDir,
    stop: async () => {
      await node.stop();
      if (overrides.dataDir === undefined) await removeDir(dataDir);
    },
  };
}

export interface ReadyLine {
  event: "ready";
  api: string;
  gateway: string;
  peerId: string;
  dataDir: string;
}

export interface NodeProcess {
  child: ChildProcess;
  ready: ReadyLine;
  stderr: () => string;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exited: Promise<number | string>;
}

/** Runs main.ts in a child process and waits for its ready line. */
export async function spawnNode(args: string[], env: NodeJS.ProcessEnv = {}): Promise<NodeProcess> {
  const child = spawn(process.execPath, [MAIN_SCRIPT, ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | string>((resolve) => {
    child.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown"));
  });
  const lines = createInterface({ input: child.stdout! });
  const ready = await new Promise<ReadyLine>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line within 60 s; stderr:\n${stderr}`)), 60_000);
    lines.on("line", (line) => {
      try {
        const parsed = JSON.parse(line) as ReadyLine;
        if (parsed.event === "ready") {
          clearTimeout(timer);
          resolve(parsed);
        }
      } catch {
        // not the ready line
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the node exited (${code}) before it was ready; stderr:\n${stderr}`));
    });
  });
  return { child, ready, stderr: () => stderr, exited };
}

export async function stopProcess(node: NodeProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<number | string> {
  if (node.child.exitCode === null && node.child.signalCode === null) node.child.kill(signal);
  return node.exited;
}

/** Deterministic pseudo-random bytes (xorshift32), so failures reproduce. */
export function testBytes(length: number, seed = 1): Uint8Array {
  const bytes = new Uint8Array(length);
  let state = seed >>> 0 || 1;
  for (let index = 0; index < length; index++) {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    bytes[index] = state & 0xff;
  }
  return bytes;
}

export async function collect(source: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of source) chunks.push(chunk);
  return Buffer.concat(chunks);
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

export interface StoredBlockCheck {
  /** Block files whose bytes hash to the multihash in their name. */
  verified: number;
  /** Block files whose bytes do not: corruption. */
  corrupt: string[];
  /** Anything else left in the blockstore (temporary files of interrupted writes). */
  strays: string[];
}

/** Hashes every block file under `<dataDir>/blocks` and compares it with its name. */
export async function checkStoredBlocks(dataDir: string): Promise<StoredBlockCheck> {
  const root = join(dataDir, "blocks");
  const result: StoredBlockCheck = { verified: 0, corrupt: [], strays: [] };
  for (const entry of await readdir(root, { withFileTypes: true })) {
    const entryPath = join(root, entry.name);
    if (!entry.isDirectory()) {
      result.strays.push(entryPath);
      continue;
    }
    for (const name of await readdir(entryPath)) {
      const filePath = join(entryPath, name);
      if (entry.name.startsWith(".") || !name.endsWith(".data")) {
        result.strays.push(filePath);
        continue;
      }
      const multihash = Digest.decode(base32upper.decode(name.slice(0, -".data".length)));
      const actual = createHash("sha256")
        .update(await readFile(filePath))
        .digest();
      if (multihash.code === 0x12 && Buffer.compare(actual, multihash.digest) === 0) result.verified++;
      else result.corrupt.push(filePath);
    }
  }
  return result;
}

/** CIDv1(raw, sha256(bytes)): what a single-block file added with raw leaves, or a result block, is named. */
export async function rawLeafCid(bytes: Uint8Array): Promise<string> {
  return CID.createV1(raw.code, await sha256.digest(bytes)).toString();
}
