/**
 * The multipart body of `add` and `block/put`, as kubo-rpc-client sends it: one part
 * per file (`Content-Type: application/octet-stream`) or directory
 * (`application/x-directory`), the path in the URI-encoded `filename`.
 *
 * Parts are handed out one at a time and their bytes are streamed, never buffered
 * here; every byte is counted against the upload cap, and the first byte over it
 * fails the read with UploadTooLargeError, before the caller can store anything.
 */
import type { IncomingMessage } from "node:http";
import type { Readable } from "node:stream";
import busboy from "busboy";
import { badRequest, payloadTooLarge } from "./errors.ts";
import type { RpcError } from "./errors.ts";

export interface UploadPart {
  kind: "file" | "directory";
  /** Path from the part's filename ("" when the client sent none). */
  path: string;
  /** The file's bytes (empty for a directory); must be consumed before the next part is read. */
  content: AsyncIterable<Uint8Array>;
}

/** Room for the multipart envelope (boundaries, part headers) on top of the file bytes. */
const ENVELOPE_ALLOWANCE_BYTES = 64 * 1024;

export class MultipartUpload {
  readonly #request: IncomingMessage;
  readonly #maxBytes: number;
  #received = 0;
  #parser: busboy.Busboy | undefined;
  #failure: Error | undefined;
  /** The part being read, so a client that goes away mid-part ends its read. */
  #currentStream: Readable | undefined;

  constructor(request: IncomingMessage, maxBytes: number) {
    this.#request = request;
    this.#maxBytes = maxBytes;
  }

  /** File bytes read so far. */
  get receivedBytes(): number {
    return this.#received;
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
    const queue: Array<{ stream: Readable; info: busboy.FileInfo }> = [];
    let finished = false;
    let wake: (() => void) | undefined;
    const notify = () => {
      wake?.();
      wake = undefined;
    };

    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: this.#request.headers, preservePath: true });
    } catch (error) {
      throw badRequest(`expected a multipart/form-data body: ${(error as Error).message}`);
    }
    this.#parser = parser;
    parser.on("file", (_field, stream, info) => {
      queue.push({ stream, info });
      notify();
    });
    parser.on("close", () => {
      finished = true;
      notify();
    });
    parser.on("error", (error: Error) => {
      this.#failure ??= badRequest(`malformed multipart body: ${error.message}`);
      notify();
    });
    this.#request.on("error", (error) => {
      this.#failure ??= error;
      notify();
    });
    this.#request.once("close", () => {
      if (this.#request.complete) return;
      const error = new Error("the client closed the connection before the upload was complete");
      this.#failure ??= error;
      this.#currentStream?.destroy(error);
      notify();
    });
    this.#request.pipe(parser);

    while (true) {
      if (this.#failure !== undefined) throw this.#failure;
      const next = queue.shift();
      if (next !== undefined) {
        const path = decodePath(next.info.filename);
        if (next.info.mimeType === "application/x-directory") {
          next.stream.resume();
          yield { kind: "directory", path, content: emptyContent() };
        } else {
          this.#currentStream = next.stream;
          yield { kind: "file", path, content: this.#countedContent(next.stream, path, onProgress) };
        }
        continue;
      }
      if (finished) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  }

  async *#countedContent(
    stream: Readable,
    path: string,
    onProgress?: (path: string, bytes: number) => void,
  ): AsyncGenerator<Uint8Array> {
    let fileBytes = 0;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      this.#received += chunk.length;
      fileBytes += chunk.length;
      if (this.#received > this.#maxBytes) {
        const error: RpcError = payloadTooLarge(this.#maxBytes);
        this.#failure = error;
        stream.destroy();
        throw error;
      }
      onProgress?.(path, fileBytes);
      yield chunk;
    }
    if (this.#failure !== undefined) throw this.#failure;
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
}

function decodePath(filename: string | undefined): string {
  if (filename === undefined || filename === "") return "";
  try {
    return decodeURIComponent(filename);
  } catch {
    return filename;
  }
}

async function* emptyContent(): AsyncGenerator<Uint8Array> {}
