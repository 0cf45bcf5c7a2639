/**
 * Reading one upload — a multipart/form-data body with an `image` file and an optional
 * `model` field — without ever holding more than the image cap: a declared
 * Content-Length over the cap is refused before a byte is read, and the stream is cut
 * off as soon as the file passes the cap (a chunked body declares nothing). The cap is
 * the protocol's (MAX_IMAGE_BYTES, or ARGUS_MAX_IMAGE_BYTES as everywhere else).
 */
import { Readable } from "node:stream";
import { Busboy } from "@fastify/busboy";
import { formatBytes, imageTooLargeMessage } from "@argus/protocol/limits";

/** An upload the gateway refuses, with its HTTP status and the reason it gives. */
export class UploadError extends Error {
  readonly status: 400 | 413 | 415;
  readonly code = "bad_upload";

  constructor(status: 400 | 413 | 415, message: string) {
    super(message);
    this.status = status;
  }
}

export interface Upload {
  image: Uint8Array;
  /** The `model` form field (id or name), when sent. */
  model?: string;
}

/** Room for the multipart boundaries and the `model` field around the image. */
const ENVELOPE_BYTES = 16 * 1024;

export async function readUpload(request: Request, maxImageBytes: number): Promise<Upload> {
  const contentType = request.headers.get("content-type") ?? "";
  if (!/^multipart\/form-data\s*;/i.test(contentType))
    throw new UploadError(415, `expected a multipart/form-data body with an "image" file, not "${contentType || "no content type"}"`);
  const declared = Number(request.headers.get("content-length") ?? Number.NaN);
  if (Number.isFinite(declared) && declared > maxImageBytes + ENVELOPE_BYTES)
    throw new UploadError(413, imageTooLargeMessage(declared, maxImageBytes, "the upload"));
  if (!request.body) throw new UploadError(400, 'the body is empty: send the image as the "image" form field');

  const body = Readable.fromWeb(request.body as never);
  return new Promise<Upload>((resolve, reject) => {
    let parser: ReturnType<typeof Busboy>;
    try {
      parser = Busboy({
        headers: { "content-type": contentType },
        limits: { files: 1, fileSize: maxImageBytes, fields: 4, fieldSize: 256, parts: 5 },
      });
    } catch {
      reject(new UploadError(400, "the multipart body has no boundary"));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let model: string | undefined;
    let sawImage = false;
    let failed = false;
    const fail = (error: UploadError) => {
      if (failed) return;
      failed = true;
      body.unpipe(parser);
      body.destroy(); // stop reading: nothing more of this body is wanted
      reject(error);
    };
    parser.on("field", (name, value) => {
      if (name === "model") model = value.trim();
    });
    parser.on("file", (name, stream) => {
      if (name !== "image") {
        stream.resume();
        return;
      }
      sawImage = true;
      stream.on("data", (chunk: Buffer) => {
        size += chunk.byteLength;
        chunks.push(chunk);
      });
      stream.on("limit", () =>
        fail(
          new UploadError(
            413,
            `the image is larger than ${formatBytes(maxImageBytes)}: images can be at most ${maxImageBytes.toLocaleString("en")} bytes`,
          ),
        ),
      );
    });
    parser.on("partsLimit", () => fail(new UploadError(400, "too many form fields: send an image and a model")));
    parser.on("error", (error: Error) => fail(new UploadError(400, `malformed multipart body: ${error.message}`)));
    body.on("error", (error) => fail(new UploadError(400, `the upload was cut off: ${error.message}`)));
    parser.on("finish", () => {
      if (failed) return;
      if (!sawImage || size === 0) return fail(new UploadError(400, 'no image: send it as the "image" form field'));
      resolve({ image: new Uint8Array(Buffer.concat(chunks, size)), ...(model ? { model } : {}) });
    });
    body.pipe(parser);
  });
}
