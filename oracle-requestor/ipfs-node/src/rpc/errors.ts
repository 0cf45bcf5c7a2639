/**
 * Kubo's error contract: a failed command answers with JSON
 * `{"Message": "...", "Code": 0|1, "Type": "error"}`, Code 1 (HTTP 400) for a bad
 * request and Code 0 (HTTP 500) for everything else. kubo-rpc-client throws an error
 * carrying Message, and turns "context deadline exceeded" into its TimeoutError, so
 * timeouts use exactly Kubo's wording.
 */
import { BlockUnavailableError } from "../block-arrivals.ts";

export const KUBO_TIMEOUT_MESSAGE = "context deadline exceeded";

export const ErrorCode = { normal: 0, client: 1 } as const;

export class RpcError extends Error {
  override name = "RpcError";
  readonly status: number;
  readonly code: number;

  constructor(message: string, status = 500, code: number = ErrorCode.normal) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** A request the caller must fix (bad argument, unknown option). */
export function badRequest(message: string): RpcError {
  return new RpcError(message, 400, ErrorCode.client);
}

/** An upload larger than the node accepts. */
export function payloadTooLarge(limit: number): RpcError {
  return new RpcError(`upload exceeds this node's limit of ${limit} bytes (--max-upload-bytes); nothing was stored`, 413);
}

/** A read that did not find its content before its deadline. */
export function deadlineExceeded(detail?: string): RpcError {
  return new RpcError(detail === undefined ? KUBO_TIMEOUT_MESSAGE : `${detail}: ${KUBO_TIMEOUT_MESSAGE}`);
}

export function errorBody(error: RpcError): string {
  return JSON.stringify({ Message: error.message, Code: error.code, Type: "error" });
}

/** Whether `error` means the deadline of the operation passed. */
export function isDeadlineError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error instanceof BlockUnavailableError) return true;
  if (error.name === "TimeoutError" || error.name === "AbortError") return true;
  // Helia wraps the broker's failure in LoadBlockFailedError with the original in `errors`.
  const nested = (error as { errors?: unknown[] }).errors;
  return Array.isArray(nested) && nested.some(isDeadlineError);
}

/** Maps anything thrown by a handler to the error the client receives. */
export function toRpcError(error: unknown): RpcError {
  if (error instanceof RpcError) return error;
  if (isDeadlineError(error)) return deadlineExceeded((error as Error).message.replace(/\.$/, ""));
  if (error instanceof Error) {
    switch (error.name) {
      case "InvalidCidError":
      case "InvalidParametersError":
        return badRequest(error.message);
      case "NotAFileError":
        return new RpcError("this dag node is a directory");
      case "NotUnixFSError":
        return new RpcError(`not a UnixFS node: ${error.message}`);
      case "DoesNotExistError":
      case "NoContentError":
        return new RpcError(`no link named ${error.message}`);
      default:
        return new RpcError(error.message || String(error));
    }
  }
  return new RpcError(String(error));
}
