/**
 * A local stand-in for registry.golem.network, answering what golem-js 3.6 asks
 * (`resolveTaskPackageUrl`: `GET <GOLEM_REGISTRY_URL>/v1/image/info?count=true&hash=…`
 * or `&tag=…`, reading `sha3` and `http` — or `https` with `useHttps`) and serving the
 * image files at `/download/<id>`, the registry's download path.
 *
 * Images are registered from a .gvmi file and the hash its build printed; registration
 * re-hashes the file (sha3-224 of the whole file, gvmkit-build's image hash) and refuses
 * a mismatch, so a demand can only name what is really served.
 *
 * The real registry's download id is the sha256 of gvmkit-build's chunk descriptor; here
 * it is the image's sha3-224. Only the fields golem-js and yapapi read (`sha3`, `http`,
 * `https`) are claimed to match; `https` names the same path over TLS, which the devnet
 * does not serve. Mount `handle` on any HTTP server; the registry URL is that server's
 * origin plus `basePath`.
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { sha3_224OfFile } from "@argus/provider-image/build-image";

export const DEFAULT_REGISTRY_BASE_PATH = "/registry";
const HASH = /^[0-9a-f]{56}$/;
const TAG = /^[a-z0-9][a-z0-9._/-]*:[A-Za-z0-9._-]+$/;

export interface RegisteredImage {
  sha3: string;
  file: string;
  size: number;
  tags: string[];
  /** How many lookups asked `count=true` (the real registry counts pulls that way). */
  lookups: number;
}

export interface ImageRegistry {
  readonly basePath: string;
  /** Registers `file` under `sha3` (checked against the file) and optional `name:version` tags. */
  register(file: string, sha3: string, tags?: readonly string[]): Promise<RegisteredImage>;
  images(): readonly RegisteredImage[];
  /** The value for GOLEM_REGISTRY_URL, given the origin (`http://127.0.0.1:7465`) the handler is mounted on. */
  registryUrl(origin: string): string;
  /** Answers a request under `basePath`; returns false (and does nothing) for any other path. */
  handle(request: IncomingMessage, response: ServerResponse): boolean;
}

export class RegistryError extends Error {
  override name = "RegistryError";
}

export function createImageRegistry(options: { basePath?: string } = {}): ImageRegistry {
  const basePath = (options.basePath ?? DEFAULT_REGISTRY_BASE_PATH).replace(/\/$/, "");
  const byHash = new Map<string, RegisteredImage>();
  const byTag = new Map<string, RegisteredImage>();

  function info(image: RegisteredImage, origin: string, secureOrigin: string) {
    const path = `${basePath}/download/${image.sha3}`;
    return { sha3: image.sha3, http: `${origin}${path}`, https: `${secureOrigin}${path}`, size: image.size, tags: image.tags };
  }

  function reply(response: ServerResponse, status: number, body: unknown, type = "application/json") {
    const text = type === "application/json" ? JSON.stringify(body) : String(body);
    response.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(text) });
    response.end(text);
  }

  function lookup(url: URL, request: IncomingMessage, response: ServerResponse) {
    const hash = url.searchParams.get("hash");
    const tag = url.searchParams.get("tag");
    if ((hash === null) === (tag === null)) return reply(response, 400, "give exactly one of hash= and tag=", "text/plain");
    const image = hash !== null ? byHash.get(hash.toLowerCase()) : byTag.get(tag!);
    if (image === undefined) return reply(response, 404, `image not found: ${hash !== null ? `hash ${hash}` : `tag ${tag}`}`, "text/plain");
    if (url.searchParams.get("count") === "true") image.lookups += 1;
    const host = request.headers.host ?? "127.0.0.1";
    reply(response, 200, info(image, `http://${host}`, `https://${host}`));
  }

  function download(id: string, request: IncomingMessage, response: ServerResponse) {
    const image = byHash.get(id);
    if (image === undefined) return reply(response, 404, `no image ${id}`, "text/plain");
    response.writeHead(200, { "content-type": "application/octet-stream", "content-length": image.size });
    if (request.method === "HEAD") return response.end();
    const stream = createReadStream(image.file);
    stream.on("error", (error) => response.destroy(error));
    stream.pipe(response);
  }

  return {
    basePath,
    async register(file, sha3, tags = []) {
      if (!HASH.test(sha3)) throw new RegistryError(`${sha3} is not a sha3-224 (56 lower-case hex digits)`);
      const bad = tags.filter((tag) => !TAG.test(tag));
      if (bad.length > 0) throw new RegistryError(`tags must look like name:version, got ${bad.join(", ")}`);
      const [actual, { size }] = await Promise.all([sha3_224OfFile(file), stat(file)]);
      if (actual !== sha3) throw new RegistryError(`${file} has sha3-224 ${actual}, not ${sha3}`);
      const image: RegisteredImage = { sha3, file, size, tags: [...tags], lookups: byHash.get(sha3)?.lookups ?? 0 };
      byHash.set(sha3, image);
      for (const tag of tags) byTag.set(tag, image);
      return image;
    },
    images: () => [...byHash.values()],
    registryUrl: (origin) => `${origin.replace(/\/$/, "")}${basePath}`,
    handle(request, response) {
      const url = new URL(request.url ?? "/", "http://registry");
      if (url.pathname !== basePath && !url.pathname.startsWith(`${basePath}/`)) return false;
      const path = url.pathname.slice(basePath.length);
      if (request.method !== "GET" && request.method !== "HEAD") {
        reply(response, 405, "method not allowed", "text/plain");
        return true;
      }
      if (path === "/v1/image/info") lookup(url, request, response);
      else if (path.startsWith("/download/")) download(path.slice("/download/".length), request, response);
      else reply(response, 404, "not found", "text/plain");
      return true;
    },
  };
}
