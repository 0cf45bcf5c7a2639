/** `pin/add`, `pin/rm`, `pin/ls` with Kubo's request and response shapes. */
import type { CID } from "multiformats/cid";
import type { PinEntry, PinTypeFilter } from "../pin-service.ts";
import type { RpcCall } from "./context.ts";
import { badRequest } from "./errors.ts";
import { parseContentPath } from "./params.ts";
import { NdjsonStream, sendJson } from "./respond.ts";

const PIN_TYPES = new Set<PinTypeFilter>(["all", "recursive", "direct", "indirect"]);

/** The CIDs named by the `arg`s; a path below a root is resolved to the CID it names. */
async function resolveArgs(call: RpcCall, required: boolean): Promise<CID[]> {
  const args = call.params.args();
  if (required && args.length === 0) throw badRequest('argument "ipfs-path" is required');
  const cids: CID[] = [];
  for (const arg of args) {
    const { cid, path } = parseContentPath(arg);
    cids.push(path === "" ? cid : (await call.context.fs.stat(cid, { path, signal: call.signal })).cid);
  }
  return cids;
}

export async function handlePinAdd(call: RpcCall): Promise<void> {
  const cids = await resolveArgs(call, true);
  const recursive = call.params.bool("recursive", true);
  const name = call.params.string("name");
  for (const cid of cids) {
    await call.context.pins.pin(cid, { recursive, name, signal: call.signal });
  }
  sendJson(call.response, { Pins: cids.map(String) });
}

export async function handlePinRm(call: RpcCall): Promise<void> {
  const cids = await resolveArgs(call, true);
  const recursive = call.params.bool("recursive", true);
  for (const cid of cids) {
    await call.context.pins.unpin(cid, { recursive, signal: call.signal });
  }
  sendJson(call.response, { Pins: cids.map(String) });
}

export async function handlePinLs(call: RpcCall): Promise<void> {
  const { params, context, signal } = call;
  const type = (params.string("type") ?? "all") as PinTypeFilter;
  if (!PIN_TYPES.has(type)) throw badRequest(`invalid type '${type}', must be one of {direct, indirect, recursive, all}`);
  const withNames = params.bool("names", false) || params.string("name") !== undefined;
  const nameFilter = params.string("name");
  const cids = await resolveArgs(call, false);
  const entries: AsyncIterable<PinEntry> | PinEntry[] =
    cids.length > 0 ? await context.pins.lookup(cids, type, signal) : context.pins.list(type, signal);

  const describe = (entry: PinEntry) => ({
    Type: entry.type,
    ...(withNames ? { Name: entry.name ?? "" } : {}),
  });
  const matches = (entry: PinEntry) => nameFilter === undefined || entry.name === nameFilter;

  if (params.bool("stream", false)) {
    const output = new NdjsonStream(call.response);
    try {
      for await (const entry of entries) {
        if (matches(entry)) output.write({ Cid: entry.cid.toString(), ...describe(entry) });
      }
      output.end();
    } catch (error) {
      output.fail(error);
    }
    return;
  }
  const keys: Record<string, ReturnType<typeof describe>> = {};
  for await (const entry of entries) {
    if (matches(entry)) keys[entry.cid.toString()] = describe(entry);
  }
  sendJson(call.response, { Keys: keys });
}
