/**
 * The real provider image (`npm run build:provider-image` → provider-image/dist) served by
 * the devnet's image registry on 127.0.0.1, and exe-units deployed from it. Suites that
 * need it build the image when it is missing (yagna-harness.ts `ensureProviderImage`)
 * and skip, saying why, when that cannot work or bwrap/unsquashfs are missing.
 *
 * Unpacked images are cached per hash under one folder in the system temp dir, as a
 * provider's cache survives its activities: the first suite pays for the unpack.
 */
import { readdir, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createExeUnit, type DevnetExeUnit } from "@argus/golem-devnet/create-exe-unit";
import type { ExeScriptCommand, ExeUnitFaults, GsbCaller } from "@argus/golem-devnet/exe-unit";
import { createImageRegistry, type ImageRegistry } from "@argus/golem-devnet/image-registry";
import { REPO_ROOT } from "../../support/shared.ts";
import { ensureProviderImage } from "./yagna-harness.ts";

export const IMAGE_FILE = join(REPO_ROOT, "provider-image/dist/argus-provider.gvmi");
const IMAGE_SUMMARY = join(REPO_ROOT, "provider-image/dist/image.json");
/** Where the suites' exe-units keep images and volumes: outside the checkout, shared by the suites. */
export const SHARED_WORK_ROOT = join(tmpdir(), "argus-golem-devnet-test-work");
export const GIB = 2 ** 30;

export interface ImageFixture {
  registry: ImageRegistry;
  hash: string;
  /** The demand's task package as golem-js would resolve it from the registry. */
  taskPackage: string;
  /** The registry's origin, also serving extra files registered with `serve`. */
  origin: string;
  serve(path: string, body: Uint8Array): string;
  close(): Promise<void>;
}

/** The image is built (once) when missing; the suite skips, saying why, when it cannot be. */
export function requireProviderImage(context: Mocha.Context): Promise<void> {
  return ensureProviderImage(context); // a call, not an alias: yagna-harness.ts imports this module too
}

export async function startImageFixture(): Promise<ImageFixture> {
  const { hash } = JSON.parse(await readFile(IMAGE_SUMMARY, "utf8")) as { hash: string };
  // Keep the cache to the image being tested: each earlier build left ~350 MB unpacked.
  for (const entry of await readdir(join(SHARED_WORK_ROOT, "images")).catch(() => [])) {
    if (entry !== hash) await rm(join(SHARED_WORK_ROOT, "images", entry), { recursive: true, force: true });
  }
  const registry = createImageRegistry();
  await registry.register(IMAGE_FILE, hash, ["argus/provider:test"]);
  const extra = new Map<string, Uint8Array>();
  const server: Server = createServer((request, response) => {
    if (registry.handle(request, response)) return;
    const body = extra.get(request.url ?? "");
    response.writeHead(body ? 200 : 404, body ? { "content-length": body.length } : {});
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const info = (await (await fetch(`${registry.registryUrl(origin)}/v1/image/info?count=true&hash=${hash}`)).json()) as { http: string };
  return {
    registry,
    hash,
    taskPackage: `hash:sha3:${hash}:${info.http}`,
    origin,
    serve(path, body) {
      extra.set(path, body);
      return `${origin}${path}`;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const noGsb: GsbCaller = {
  call: () => Promise.reject(new Error("this exe-unit has no GSB")),
  dropConnection: () => {},
};

export function exeUnitFor(
  fixture: ImageFixture,
  options: { memoryBytes?: number; faults?: () => ExeUnitFaults; gsb?: GsbCaller; workRoot?: string; taskPackage?: string } = {},
): DevnetExeUnit {
  return createExeUnit({
    providerId: "0x2222222222222222222222222222222222222222",
    taskPackage: options.taskPackage ?? fixture.taskPackage,
    memoryBytes: options.memoryBytes ?? 2 * GIB,
    threads: 2,
    workRoot: options.workRoot ?? SHARED_WORK_ROOT,
    gsb: options.gsb ?? noGsb,
    faults: options.faults ?? (() => ({})),
  });
}

const never = new AbortController().signal;

export function execute(exe: DevnetExeUnit, command: ExeScriptCommand, signal: AbortSignal = never) {
  return exe.execute(command, signal);
}

/** Deploys and starts `exe`, failing the test with the exe-unit's message if either fails. */
export async function deployAndStart(exe: DevnetExeUnit): Promise<void> {
  for (const command of [{ deploy: {} }, { start: {} }] as ExeScriptCommand[]) {
    const outcome = await execute(exe, command);
    if (outcome.result !== "Ok") throw new Error(`${Object.keys(command)[0]} failed: ${outcome.message}`);
  }
}

const CAPTURE = { stdout: { atEnd: { format: "string" } }, stderr: { atEnd: { format: "string" } } };

/** Runs `/bin/sh -c script` in the activity, capturing both streams as golem-js does by default. */
export function shell(exe: DevnetExeUnit, script: string) {
  return execute(exe, { run: { entry_point: "/bin/sh", args: ["-c", script], capture: CAPTURE } });
}

export function runCommand(exe: DevnetExeUnit, entryPoint: string, args: string[], capture: unknown = CAPTURE) {
  return execute(exe, { run: { entry_point: entryPoint, args, capture } });
}
