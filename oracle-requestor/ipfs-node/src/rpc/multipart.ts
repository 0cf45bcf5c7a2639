/**
 * The multipart body of `add` and `block/put`, as Kubo clients send it: one part per
 * file or directory (`Content-Type: application/x-directory`), the path in the
 * URI-encoded `filename`.
 *
 * Like Kubo, every `form-data` part is an entry, whatever its content type and
 * whether or not it has a (possibly empty) filename: a browser's kubo-rpc-client sends
 * `add(blob)` as `filename=""` with the blob's own type (e.g. `image/jpeg`), which a
 * generic form parser would take for a text field. So the body is parsed here, pull by
 * pull from the request (RFC 7578 / RFC 2046).
 *
 * Parts are handed out one at a time and their bytes are streamed, never buffered
 * here; every byte is counted against the upload cap, and the first byte over it
 * fails the read with UploadTooLargeError, before the caller can store anything.
 */
import type { IncomingMessage } from "node:http";
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
/** Most bytes of one part's header block, and of the preamble before the first boundary. */
const MAX_HEADER_BYTES = 16 * 1024;
const MAX_PREAMBLE_BYTES = 64 * 1024;
const CRLF = Buffer.from("\r\n");
const HEADER_END = Buffer.from("\r\n\r\n");

export class MultipartUpload {
  readonly #request: IncomingMessage;
  readonly #maxBytes: number;
  #received = 0;
  #failure: Error | undefined;
  #wake: (() => void) | undefined;
  readonly #notify = () => {
    this.#wake?.();
    this.#wake = undefined;
  };
  #listening = false;

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
    const reader = new PartReader(boundaryOf(this.#request.headers["content-type"]), () => this.#nextChunk());
    this.#listen();
    for (;;) {
      const headers = await reader.nextPart();
      if (headers === undefined) return;
      const disposition = parseHeaderValue(headers.get("content-disposition") ?? "");
      if (disposition.value !== "form-data") continue; // not an entry (e.g. no Content-Disposition): skipped
      const filename = disposition.params.get("filename*") ?? disposition.params.get("filename");
      const path = decodePath(filename);
      if (parseHeaderValue(headers.get("content-type") ?? "").value === "application/x-directory") {
        yield { kind: "directory", path, content: emptyContent() };
      } else {
        yield { kind: "file", path, content: this.#countedContent(reader.body(), path, onProgress) };
      }
    }
  }

  async *#countedContent(
    body: AsyncIterable<Uint8Array>,
    path: string,
    onProgress?: (path: string, bytes: number) => void,
  ): AsyncGenerator<Uint8Array> {
    let fileBytes = 0;
    for await (const chunk of body) {
      this.#received += chunk.length;
      fileBytes += chunk.length;
      if (this.#received > this.#maxBytes) {
        const error: RpcError = payloadTooLarge(this.#maxBytes);
        this.#failure = error;
        throw error;
      }
      onProgress?.(path, fileBytes);
      yield chunk;
    }
  }

  /** Follows the request: its data, its end, and a client that goes away mid-upload. */
  #listen(): void {
    if (this.#listening) return;
    this.#listening = true;
    const request = this.#request;
    request.on("readable", this.#notify);
    request.on("end", this.#notify);
    request.on("error", (error) => {
      this.#failure ??= error;
      this.#notify();
    });
    request.once("close", () => {
      if (!request.complete) this.#failure ??= new Error("the client closed the connection before the upload was complete");
      this.#notify();
    });
  }

  /** The next chunk of the body, or undefined at its end. */
  async #nextChunk(): Promise<Buffer | undefined> {
    for (;;) {
      if (this.#failure !== undefined) throw this.#failure;
      const chunk = this.#request.read() as Buffer | null;
      if (chunk !== null) return chunk;
      if (this.#request.readableEnded) return undefined;
      if (this.#request.destroyed) throw new Error("the upload stream was closed");
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }

  /**
   * Stops parsing and reads the rest of the body into nothing, so the client, still
   * sending, gets to read the error response instead of a reset connection. A client
   * that keeps sending far past the cap is cut off.
   */
  discardRest(): void {
    this.#request.off("readable", this.#notify); // a `readable` listener would keep the stream paused
    const cutOffAfter = Math.max(16 * 1024 * 1024, 4 * this.#maxBytes);
    let discarded = 0;
    this.#request.on("data", (chunk: Buffer) => {
      discarded += chunk.length;
      if (discarded > cutOffAfter) this.#request.destroy();
    });
    this.#request.resume();
  }
}

/**
 * The parts of one multipart body: `nextPart()` reads up to and including the next
 * part's header block, `body()` streams that part's bytes up to its delimiter. A body
 * left unread is skipped by the next `nextPart()`.
 */
class PartReader {
  /** CRLF "--" boundary: ends every part; the body is read as if it began with CRLF. */
  readonly #delimiter: Buffer;
  readonly #pull: () => Promise<Buffer | undefined>;
  #buffer: Buffer = CRLF;
  #state: "preamble" | "delimiter" | "headers" | "body" | "done" = "preamble";

  constructor(boundary: string, pull: () => Promise<Buffer | undefined>) {
    this.#delimiter = Buffer.from(`\r\n--${boundary}`, "latin1");
    this.#pull = pull;
  }

  async nextPart(): Promise<Map<string, string> | undefined> {
    if (this.#state === "body") for await (const _skipped of this.body());
    if (this.#state === "preamble") await this.#skipPreamble();
    if (this.#state === "delimiter") await this.#afterDelimiter();
    if (this.#state === "done") return undefined;
    return this.#headers();
  }

  async *body(): AsyncGenerator<Buffer> {
    while (this.#state === "body") {
      const at = this.#buffer.indexOf(this.#delimiter);
      if (at >= 0) {
        const last = this.#buffer.subarray(0, at);
        this.#buffer = this.#buffer.subarray(at + this.#delimiter.length);
        this.#state = "delimiter";
        if (last.length > 0) yield last;
        return;
      }
      // Everything but a tail that could be the start of the delimiter is the part's.
      const safe = this.#buffer.length - (this.#delimiter.length - 1);
      if (safe > 0) {
        const chunk = this.#buffer.subarray(0, safe);
        this.#buffer = this.#buffer.subarray(safe);
        yield chunk;
      }
      if (!(await this.#more())) throw malformed("it ends inside a part");
    }
  }

  async #skipPreamble(): Promise<void> {
    let skipped = 0;
    for (;;) {
      const at = this.#buffer.indexOf(this.#delimiter);
      if (at >= 0) {
        this.#buffer = this.#buffer.subarray(at + this.#delimiter.length);
        this.#state = "delimiter";
        return;
      }
      const keep = Math.min(this.#buffer.length, this.#delimiter.length - 1);
      skipped += this.#buffer.length - keep;
      this.#buffer = this.#buffer.subarray(this.#buffer.length - keep);
      if (skipped > MAX_PREAMBLE_BYTES) throw malformed("no boundary where the body should begin");
      if (!(await this.#more())) throw malformed("it has no parts");
    }
  }

  /** After a delimiter: "--" closes the body; otherwise optional whitespace and CRLF open a part. */
  async #afterDelimiter(): Promise<void> {
    for (;;) {
      if (this.#buffer.length >= 2 && this.#buffer[0] === 0x2d && this.#buffer[1] === 0x2d) {
        this.#state = "done";
        while (await this.#more()) this.#buffer = Buffer.alloc(0); // the epilogue is ignored
        return;
      }
      let at = 0;
      while (at < this.#buffer.length && (this.#buffer[at] === 0x20 || this.#buffer[at] === 0x09)) at++;
      if (this.#buffer.length >= at + 2) {
        if (this.#buffer[at] !== 0x0d || this.#buffer[at + 1] !== 0x0a) throw malformed("a boundary line has trailing characters");
        this.#buffer = this.#buffer.subarray(at + 2);
        this.#state = "headers";
        return;
      }
      if (at > 1024) throw malformed("a boundary line is too long");
      if (!(await this.#more())) throw malformed("it ends without its closing boundary");
    }
  }

  async #headers(): Promise<Map<string, string>> {
    for (;;) {
      // A part without headers starts with the blank line itself.
      const end = this.#buffer.subarray(0, 2).equals(CRLF) ? -2 : this.#buffer.indexOf(HEADER_END);
      if (end !== -1) {
        const block = end === -2 ? "" : this.#buffer.toString("utf8", 0, end);
        this.#buffer = this.#buffer.subarray(end === -2 ? 2 : end + HEADER_END.length);
        this.#state = "body";
        return parseHeaderBlock(block);
      }
      if (this.#buffer.length > MAX_HEADER_BYTES) throw malformed(`a part's headers are longer than ${MAX_HEADER_BYTES} bytes`);
      if (!(await this.#more())) throw malformed("it ends inside a part's headers");
    }
  }

  async #more(): Promise<boolean> {
    const chunk = await this.#pull();
    if (chunk === undefined) return false;
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    return true;
  }
}

function malformed(detail: string): RpcError {
  return badRequest(`malformed multipart body: ${detail}`);
}

function boundaryOf(contentType: string | undefined): string {
  const { value, params } = parseHeaderValue(contentType ?? "");
  const boundary = params.get("boundary");
  if (!/^multipart\/(form-data|mixed)$/.test(value) || boundary === undefined || boundary.length === 0 || boundary.length > 200) {
    throw badRequest(`expected a multipart/form-data body with a boundary, not "${contentType ?? ""}"`);
  }
  return boundary;
}

/** Header lines (continuation lines folded in) by lower-case name; the first of a repeated name wins. */
function parseHeaderBlock(block: string): Map<string, string> {
  const headers = new Map<string, string>();
  const lines: string[] = [];
  for (const line of block.split("\r\n")) {
    if ((line.startsWith(" ") || line.startsWith("\t")) && lines.length > 0) lines[lines.length - 1] += ` ${line.trim()}`;
    else lines.push(line);
  }
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon <= 0) throw malformed(`a part header line is not "Name: value": ${JSON.stringify(line.slice(0, 80))}`);
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!headers.has(name)) headers.set(name, line.slice(colon + 1).trim());
  }
  return headers;
}

/**
 * `value; key=token; key="quoted \" string"` (Content-Type, Content-Disposition): the
 * lower-cased value and the parameters by lower-cased key; `key*=charset'lang'%xx`
 * (RFC 5987) is decoded.
 */
function parseHeaderValue(header: string): { value: string; params: Map<string, string> } {
  const params = new Map<string, string>();
  const semicolon = header.indexOf(";");
  const value = (semicolon === -1 ? header : header.slice(0, semicolon)).trim().toLowerCase();
  const pattern = /\s*;\s*([^\s=;]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s;]*))/y;
  pattern.lastIndex = semicolon === -1 ? header.length : semicolon;
  for (let match = pattern.exec(header); match !== null; match = pattern.exec(header)) {
    const key = match[1]!.toLowerCase();
    let param = match[2] === undefined ? match[3]! : match[2].replace(/\\(.)/g, "$1");
    if (key.endsWith("*")) param = decodeExtendedValue(param);
    if (!params.has(key)) params.set(key, param);
  }
  return { value, params };
}

function decodeExtendedValue(value: string): string {
  const match = /^([^']*)'[^']*'(.*)$/.exec(value);
  if (match === null) return value;
  const bytes = Buffer.from(match[2]!.replace(/%([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))), "latin1");
  return bytes.toString(/^utf-?8$/i.test(match[1]!) ? "utf8" : "latin1");
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
