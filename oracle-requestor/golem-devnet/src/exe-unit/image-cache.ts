/**
 * The provider's image cache: downloads a task package over HTTP, checks its sha3,
 * reads the GVMI trailer and unpacks the squashfs once per hash into
 * `<workRoot>/images/<hash>/rootfs`, which every activity of that image then mounts
 * read-only. A real provider keeps the downloaded .gvmi and boots it as a VM disk; with
 * no VM here the unpacked tree is the cache, and an image already unpacked deploys
 * "from cache" as yagna's does (transfer.rs `deploy_no_sgx`).
 *
 * Concurrent deploys of one hash share one download and one unpack; a half-finished
 * unpack (a crash) never counts: the tree is built in a staging folder and renamed.
 */
import { execFile } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { promisify } from "node:util";
import { missingTools } from "@argus/provider-image/build-image";
import { type GvmiContainerConfig, readGvmi } from "@argus/provider-image/gvmi-format";
import { type TaskPackage, TransferError } from "./task-package.ts";

const run = promisify(execFile);

/** The host tools the exe-unit needs, with the Debian package that installs each. */
export const SANDBOX_TOOLS: Readonly<Record<string, string>> = { bwrap: "bubblewrap", unsquashfs: "squashfs-tools", nsenter: "util-linux" };

/** The volumes every Argus image must declare: the batch goes in one, results come out of the other. */
export const REQUIRED_VOLUMES = ["/golem/input", "/golem/output"] as const;

export interface CachedImage {
  hash: string;
  /** The unpacked root filesystem, mounted read-only by every run. */
  rootfs: string;
  config: GvmiContainerConfig;
  /** Where it came from this time: a download (with its timings) or the cache. */
  source: { kind: "cache" } | { kind: "download"; bytes: number; downloadMs: number; unpackMs: number };
}

/** Deploy failed for a reason of the image itself (not the transfer): the runtime's words. */
export class ImageError extends Error {
  override name = "ImageError";
}

const inFlight = new Map<string, Promise<CachedImage>>();

/**
 * The deployed image for `taskPackage`, downloading and unpacking it unless cached.
 * `signal` abandons this caller's wait only: others may be waiting for the same unpack.
 */
export function deployImage(workRoot: string, taskPackage: TaskPackage, signal?: AbortSignal): Promise<CachedImage> {
  const dir = join(workRoot, "images", taskPackage.hash);
  let pending = inFlight.get(dir);
  if (pending === undefined) {
    pending = fetchAndUnpack(dir, taskPackage).finally(() => inFlight.delete(dir));
    inFlight.set(dir, pending);
  }
  if (signal === undefined) return pending;
  signal.throwIfAborted();
  return new Promise<CachedImage>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    pending.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

let toolsFound = false;

/** Throws naming the Debian packages to install when bwrap, unsquashfs or nsenter is missing. */
export async function requireSandboxTools(): Promise<void> {
  if (toolsFound) return;
  const missing = await missingTools(SANDBOX_TOOLS);
  if (missing.length > 0) {
    throw new ImageError(`the devnet's exe-unit needs ${missing.join(", ")}: apt-get install -y ${Object.values(SANDBOX_TOOLS).join(" ")}`);
  }
  toolsFound = true;
}

async function fetchAndUnpack(dir: string, taskPackage: TaskPackage): Promise<CachedImage> {
  const configPath = join(dir, "container-config.json");
  const cached = await readFile(configPath, "utf8").catch(() => undefined);
  if (cached !== undefined) {
    return { hash: taskPackage.hash, rootfs: join(dir, "rootfs"), config: JSON.parse(cached), source: { kind: "cache" } };
  }
  const imagesDir = join(dir, "..");
  await mkdir(imagesDir, { recursive: true });
  const staging = join(imagesDir, `.staging-${taskPackage.hash}-${randomUUID()}`);
  const file = `${staging}.gvmi`;
  try {
    const started = performance.now();
    const bytes = await download(taskPackage, file);
    const downloaded = performance.now();
    const config = await readTrailer(file);
    await mkdir(staging);
    await run("unsquashfs", ["-no-progress", "-no-xattrs", "-d", join(staging, "rootfs"), file], { maxBuffer: 16 << 20 }).catch(
      (error: Error & { stderr?: string }) => {
        throw new ImageError(`unpacking the image failed: ${error.stderr?.trim() || error.message}`);
      },
    );
    await writeFile(join(staging, "container-config.json"), JSON.stringify(config));
    await rename(staging, dir).catch(async (error: NodeJS.ErrnoException) => {
      // Another devnet process sharing this work root unpacked it first: theirs is as good.
      if (!(await isImageCached(join(dir, "../.."), taskPackage.hash))) throw error;
    });
    const downloadMs = downloaded - started;
    return {
      hash: taskPackage.hash,
      rootfs: join(dir, "rootfs"),
      config,
      source: { kind: "download", bytes, downloadMs, unpackMs: performance.now() - downloaded },
    };
  } finally {
    await rm(file, { force: true });
    await rm(staging, { recursive: true, force: true });
  }
}

/** Streams the package to `file`, hashing on the way; a wrong hash deletes it, as yagna does. */
async function download(taskPackage: TaskPackage, file: string): Promise<number> {
  let response: Response;
  try {
    response = await fetch(taskPackage.url);
  } catch (error) {
    throw new TransferError(`HTTP error: connection error: ${(error as Error).cause ?? (error as Error).message}`);
  }
  if (!response.ok || response.body === null) {
    const kind = response.status >= 500 ? "server error" : "client error";
    throw new TransferError(`HTTP error: ${kind}: ${response.status} ${response.statusText} (${taskPackage.url})`);
  }
  const hash = createHash(taskPackage.algorithm);
  let bytes = 0;
  const body = Readable.fromWeb(response.body as import("node:stream/web").ReadableStream<Uint8Array>);
  body.on("data", (chunk: Buffer) => {
    hash.update(chunk);
    bytes += chunk.length;
  });
  await pipeline(body, createWriteStream(file));
  const actual = hash.digest("hex");
  if (actual !== taskPackage.hash) {
    throw new TransferError(
      `Incorrect hash provided or downloaded image is corrupted: calculated hash ${actual} differs from the expected one ${taskPackage.hash}`,
    );
  }
  return bytes;
}

/** The container config ya-runtime-vm reads (deploy.rs), with the volumes Argus relies on. */
async function readTrailer(file: string): Promise<GvmiContainerConfig> {
  let config: GvmiContainerConfig;
  try {
    config = (await readGvmi(file)).config;
  } catch (error) {
    throw new ImageError(`the image is not a GVMI file: ${(error as Error).message}`);
  }
  const volumes = Object.keys(config.Volumes ?? {});
  const missing = REQUIRED_VOLUMES.filter((volume) => !volumes.includes(volume));
  if (missing.length > 0)
    throw new ImageError(`the image declares no volume ${missing.join(", ")} (its Volumes: ${volumes.join(", ") || "none"})`);
  if (
    config.Env !== undefined &&
    !(Array.isArray(config.Env) && config.Env.every((pair) => typeof pair === "string" && pair.includes("=")))
  ) {
    throw new ImageError("the image's Env is not a list of NAME=value strings");
  }
  return config;
}

/** Whether an unpacked image is cached for `hash` (for tests and the devnet's summary). */
export async function isImageCached(workRoot: string, hash: string): Promise<boolean> {
  return stat(join(workRoot, "images", hash, "container-config.json")).then(
    () => true,
    () => false,
  );
}
