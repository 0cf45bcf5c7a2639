/**
 * HTTP helpers shared by the RPC API and the gateway.
 *
 * Streaming file content into a response (RPC `cat`, the gateway):
 *
 * The first chunk is read before any header is written, so the common failures (CID
 * not available, path missing, not a file) still get a proper status code. A failure
 * after that (a block below the root missing) cannot change the status any more: the
 * connection is destroyed instead of ended, so the client sees an error, never a
 * short body that looks complete.
 */
import type { ServerResponse } from "node:http";

export interface OpenedStream {
  first: Uint8Array | undefined;
  rest: AsyncIterator<Uint8Array>;
}

export async function openStream(source: AsyncIterable<Uint8Array>): Promise<OpenedStream> {
  const rest = source[Symbol.asyncIterator]();
  const first = await rest.next();
  return { first: first.done === true ? undefined : first.value, rest };
}

/** Writes the opened stream to `response` (headers already written), honouring backpressure. */
export async function pipeOpenedStream(response: ServerResponse, stream: OpenedStream): Promise<void> {
  try {
    if (stream.first !== undefined) await writeChunk(response, stream.first);
    while (true) {
      const next = await stream.rest.next();
      if (next.done === true) break;
      await writeChunk(response, next.value);
    }
    response.end();
  } catch (error) {
    response.destroy(error as Error);
    await stream.rest.return?.();
  }
}

async function writeChunk(response: ServerResponse, chunk: Uint8Array): Promise<void> {
  if (response.destroyed) throw new Error("the client closed the connection");
  if (response.write(chunk)) return;
  // Wait for the client to catch up, or to go away; both listeners are removed either way.
  await new Promise<void>((resolve) => {
    const settle = () => {
      response.off("drain", settle);
      response.off("close", settle);
      resolve();
    };
    response.on("drain", settle);
    response.on("close", settle);
  });
}

/**
 * Aborts when the client goes away before the response is complete, and after
 * `timeoutMs` when given, so abandoned requests stop reading blocks.
 */
export function requestSignal(response: ServerResponse, timeoutMs?: number): AbortSignal {
  const gone = new AbortController();
  response.once("close", () => {
    if (!response.writableFinished) gone.abort(new Error("the client closed the connection"));
  });
  if (timeoutMs === undefined) return gone.signal;
  return AbortSignal.any([gone.signal, AbortSignal.timeout(timeoutMs)]);
}
