/**
 * Which browser pages may call the RPC API.
 *
 * A multipart POST is a "simple" request that browsers send without a preflight, so
 * CORS headers alone would let any web page add and pin content on the user's node.
 * Like Kubo, the API therefore refuses (403) every request whose Origin is not on the
 * list, preflight or not. Requests without an Origin (Node, curl) are not from a
 * browser page and pass.
 */
import type { IncomingMessage, ServerResponse } from "node:http";

/** Response headers a browser client may read (kubo-rpc-client looks at these). */
const EXPOSED_HEADERS = "X-Stream-Output, X-Chunked-Output, X-Content-Length, X-Stream-Error";

export class OriginPolicy {
  readonly #origins: Set<string>;
  readonly #anyOrigin: boolean;

  constructor(origins: string[]) {
    this.#anyOrigin = origins.includes("*");
    this.#origins = new Set(origins);
  }

  allows(origin: string | undefined): boolean {
    return origin === undefined || this.#anyOrigin || this.#origins.has(origin);
  }

  /** Adds the CORS headers for an allowed browser request. */
  applyTo(request: IncomingMessage, response: ServerResponse): void {
    const origin = request.headers.origin;
    if (origin === undefined) return;
    response.setHeader("Access-Control-Allow-Origin", origin);
    response.setHeader("Vary", "Origin");
    response.setHeader("Access-Control-Expose-Headers", EXPOSED_HEADERS);
  }

  /** Answers a preflight (OPTIONS) request for an allowed origin. */
  answerPreflight(request: IncomingMessage, response: ServerResponse): void {
    this.applyTo(request, response);
    response.setHeader("Access-Control-Allow-Methods", "POST");
    const requested = request.headers["access-control-request-headers"];
    if (requested !== undefined) response.setHeader("Access-Control-Allow-Headers", requested);
    response.setHeader("Access-Control-Max-Age", "600");
    response.writeHead(204);
    response.end();
  }
}
