/**
 * The multipart body of `add` and `block/put`, as Kubo clients send it: one part per
 * file or directory (`Content-Type: application/x-directory`), the path in the
 * URI-encoded `filename`. Parsing is @fastify/busboy's; this module adapts it to what
 * the handlers need: parts pulled one at a time, their bytes streamed, counted against
 * the upload cap, and Kubo-style errors.
 *
 * Why @fastify/busboy and not `busboy`: like Kubo, every `form-data` part is an entry,
 * whatever its content type and whether or not it has a (possibly empty) filename. A
 * browser's kubo-rpc-client sends `add(blob)` as `filename=""` with the blob's own type
 * (e.g. `image/jpeg`); `busboy` turns such a part into a text field, buffered whole and
 * decoded as UTF-8 (so an image's bytes are corrupted). @fastify/busboy, the maintained
 * fork, lets `isPartAFile` say "every part is a file".
 */
import type { IncomingMessage } from "node:http";
import type { Readable } from "node:stream";
import { Busboy } from "@fastify/busboy";
import type { BusboyInstance } from "@fastify/busboy";
import { badRequest, payloadTooLarge, RpcError } from "./errors.ts";

export interface UploadPart {
  kind: "file" | "directory";
  /** Path from the part's filename ("" when the client sent none). */
  path: string;
  /** The file's bytes (empty for a directory); must be consumed before the next part is read. */
  content: AsyncIterable<Uint8Array>;
}

/**
 * Room for the multipart envelope (boundaries, part headers, preamble) on top of the
 * file bytes: the whole body may not exceed the cap by more than this, so bytes that
 * are no file's (a preamble, skipped parts) cannot stream in without end either.
 */
const ENVELOPE_ALLOWANCE_BYTES = 64 * 1024;
const DIRECTORY_CONTENT_TYPE = "application/x-directory";

interface ArrivedPart {
  kind: UploadPart["kind"];
  path: string;
  stream: Readable;
}

export class MultipartUpload {
  readonly #request: IncomingMessage;
  readonly #maxBytes: number;
  /** File bytes of all parts so far: what the cap limits. */
  #fileBytes = 0;
  /** Every byte of the body, envelope included. */
  #bodyBytes = 0;
  #parser: BusboyInstance | undefined;
  /** Parts the parser has announced and `parts()` has not handed out yet. */
  readonly #arrived: ArrivedPart[] = [];
  /** The part being read; an error (cap, disconnect) is delivered through it. */
  #current: Readable | undefined;
  #finished = false;
  #failure: Error | undefined;
  #wake: (() => void) | undefined;

  constructor(request: IncomingMessage, maxBytes: number) {
    this.#request = request;
    this.#maxBytes = maxBytes;
  }

  /**
   * Refuses at once what announces itself as too large (browsers send Content-Length);
   * streamed bodies (chunked, as from Node) are counted as they arrive.
   */
  checkDeclaredLength(): void {
    const declared = Number(this.#request.headers["content-length"]);
    if (Number.isFinite(declared) && declared > this.#maxBytes + ENVELOPE_ALLOWANCE_BYTES) {
      throw payloadTooLarge(this.#maxBytes);
    }
  }

  /** The parts in the order they arrive. */
  async *parts(onProgress?: (path: string, bytes: number) => void): AsyncGenerator<UploadPart> {
    this.#start();
    for (;;) {
      // A part the caller left unread is skipped, or the parser would wait for it forever.
      if (this.#current !== undefined && !this.#current.readableEnded) this.#current.resume();
      const part = await this.#nextArrival();
      if (part === undefined) return;
      this.#current = part.stream;
      if (part.kind === "directory") {
        part.stream.resume();
        yield { kind: "directory", path: part.path, content: emptyContent() };
      } else {
        yield { kind: "file", path: part.path, content: this.#countedContent(part.stream, part.path, onProgress) };
      }
    }
  }

  /**
   * Stops parsing and reads the rest of the body into nothing, so the client, still
   * sending, gets to read the error response instead of a reset connection. A client
   * that keeps sending far past the cap is cut off.
   */
  discardRest(): void {
    if (this.#parser !== undefined) this.#request.unpipe(this.#parser);
    const cutOffAfter = Math.max(16 * 1024 * 1024, 4 * this.#maxBytes);
    let discarded = 0;
    this.#request.on("data", (chunk: Buffer) => {
      discarded += chunk.length;
      if (discarded > cutOffAfter) this.#request.destroy();
    });
    this.#request.resume();
  }

  #start(): void {
    if (this.#parser !== undefined) return;
    const parser = createParser(this.#request);
    this.#parser = parser;
    parser.on("file", (_field, stream, filename, _encoding, mimeType) => {
      // A stream error nobody listens for would crash the process; failures reach the reader through #fail.
      stream.on("error", () => {});
      const kind = mimeType === DIRECTORY_CONTENT_TYPE ? "directory" : "file";
      this.#arrived.push({ kind, path: decodePath(filename), stream });
      this.#notify();
    });
    parser.on("finish", () => {
      this.#finished = true;
      this.#notify();
    });
    parser.on("error", (error) => this.#fail(malformed(error)));

    const request = this.#request;
    request.on("data", (chunk: Buffer) => {
      this.#bodyBytes += chunk.length;
      if (this.#bodyBytes > this.#maxBytes + ENVELOPE_ALLOWANCE_BYTES) this.#fail(payloadTooLarge(this.#maxBytes));
    });
    request.on("error", (error) => this.#fail(error));
    request.once("close", () => {
      if (!request.complete) this.#fail(new Error("the client closed the connection before the upload was complete"));
    });
    request.pipe(parser);
  }

  async #nextArrival(): Promise<ArrivedPart | undefined> {
    for (;;) {
      if (this.#failure !== undefined) throw this.#failure;
      const part = this.#arrived.shift();
      if (part !== undefined) return part;
      if (this.#finished) return undefined;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }

  async *#countedContent(stream: Readable, path: string, onProgress?: (path: string, bytes: number) => void): AsyncGenerator<Uint8Array> {
    let fileBytes = 0;
    try {
      // Not destroyed on an early return: parts() then skips what is left of it.
      for await (const chunk of stream.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
        this.#fileBytes += chunk.length;
        fileBytes += chunk.length;
        if (this.#fileBytes > this.#maxBytes) this.#fail(payloadTooLarge(this.#maxBytes));
        if (this.#failure !== undefined) throw this.#failure;
        onProgress?.(path, fileBytes);
        yield chunk;
      }
    } catch (error) {
      throw this.#failure ?? malformed(error);
    }
    if (this.#failure !== undefined) throw this.#failure;
  }

  /** The first failure wins: parsing stops and the reader of the current part gets it. */
  #fail(error: Error): void {
    if (this.#failure !== undefined) return;
    this.#failure = error;
    if (this.#parser !== undefined) this.#request.unpipe(this.#parser);
    if (this.#current !== undefined && !this.#current.readableEnded) this.#current.destroy(error);
    this.#notify();
  }

  #notify(): void {
    this.#wake?.();
    this.#wake = undefined;
  }
}

function createParser(request: IncomingMessage): BusboyInstance {
  const contentType = request.headers["content-type"] ?? "";
  const notMultipart = badRequest(`expected a multipart/form-data body with a boundary, not "${contentType}"`);
  // Kubo reads the body with Go's Request.MultipartReader, which takes multipart/mixed too.
  if (!/^multipart\/(form-data|mixed)\s*(;|$)/i.test(contentType)) throw notMultipart;
  try {
    return Busboy({
      headers: { ...request.headers, "content-type": contentType.replace(/^multipart\/mixed/i, "multipart/form-data") },
      isPartAFile: () => true,
      // The filename is the file's path inside the upload, not a name to reduce to its last segment.
      preservePath: true,
    });
  } catch {
    throw notMultipart; // no boundary
  }
}

function malformed(error: unknown): RpcError {
  if (error instanceof RpcError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return badRequest(`malformed multipart body: ${detail.charAt(0).toLowerCase()}${detail.slice(1)}`);
}

/** kubo-rpc-client URI-encodes paths; a name that is not valid URI encoding is taken as it is. */
function decodePath(filename: string | undefined): string {
  if (filename === undefined || filename === "") return "";
  try {
    return decodeURIComponent(filename);
  } catch {
    return filename;
  }
}

async function* emptyContent(): AsyncGenerator<Uint8Array> {}
