/**
 * `argus result <requestId> [--wait] [--timeout T] [--json]`: where any request stands,
 * and its result verified against the on-chain digest once it is answered.
 */
import { parseCommand, parseRequestId, parseSeconds, UsageError } from "../args.ts";
import { type Command, EXIT } from "../command.ts";
import { openContext } from "../context.ts";
import { currencyOf } from "../escrow-reads.ts";
import { Output } from "../output.ts";
import { printStatus, statusJson } from "../present.ts";
import { loadRequest, requestStatus } from "../request-status.ts";
import { exitCodeOf, waitWithProgress } from "./request.ts";

const USAGE = `usage: argus result <requestId> [--wait] [--timeout <duration>] [--json] [--deployment <file>]

Shows a request's status — pending, overdue, fulfilled, rejected (with the reason) or
expired — with the oracle's own view when its status server answers. A fulfilled
request's result is fetched from IPFS by the CID its on-chain digest names and checked
by hashing before it is shown.

  --wait                wait until the request is settled (exit 3 if rejected or expired)
  --timeout <duration>  give up waiting after this long (default 10m)
  --json                print one JSON object instead of text

Exit codes: 0 status shown (and verified, if fulfilled), 1 not found or not verifiable,
2 bad arguments, 3 rejected or expired while waiting.`;

export const resultCommand: Command = {
  usage: USAGE,
  async run(argv, io, settings) {
    const { values, positionals } = parseCommand(argv, { wait: { type: "boolean", default: false }, timeout: { type: "string" } });
    if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`);
    const requestId = parseRequestId(positionals[0]);
    const timeoutMs = parseSeconds(values.timeout, "--timeout", 600) * 1000;
    const out = new Output(io, values.json);
    const ctx = await openContext(values, settings);
    const loaded = await loadRequest(ctx, requestId);
    const status = values.wait ? await waitWithProgress(ctx, out, loaded, timeoutMs) : await requestStatus(ctx, loaded);
    if (status === undefined) return EXIT.interrupted;
    if (out.json) out.data(statusJson(status));
    else printStatus(out, status, await currencyOf(ctx, loaded.model.feeToken));
    if (status.phase === "fulfilled" && status.verified === false) return EXIT.failure;
    return values.wait ? exitCodeOf(status) : EXIT.ok;
  },
};
