/**
 * An image the engine refuses, with the reason code that ends up in its request's
 * error entry. Thrown by the reading and decoding steps; caught per image, so it never
 * reaches the rest of the batch.
 */
import type { ErrorCode } from "@argus/protocol/result";

export class ImageRejection extends Error {
  override name = "ImageRejection";
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
