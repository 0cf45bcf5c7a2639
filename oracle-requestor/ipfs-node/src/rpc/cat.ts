/** `cat`: a UnixFS file's bytes, optionally from `offset` for `length` bytes. */
import { openStream, pipeOpenedStream } from "../http-stream.ts";
import type { RpcCall } from "./context.ts";
import { parseContentPath } from "./params.ts";

export async function handleCat(call: RpcCall): Promise<void> {
  const { params, response, context, signal } = call;
  const { cid, path } = parseContentPath(params.requiredArg("ipfs-path"));
  const offset = params.integer("offset");
  const length = params.integer("length");
  const stream = await openStream(
    context.fs.cat(cid, {
      signal,
      ...(path === "" ? {} : { path }),
      ...(offset === undefined ? {} : { offset }),
      ...(length === undefined ? {} : { length }),
    }),
  );
  response.writeHead(200, {
    "Content-Type": "text/plain",
    "X-Stream-Output": "1",
    Trailer: "X-Stream-Error",
  });
  await pipeOpenedStream(response, stream);
}
