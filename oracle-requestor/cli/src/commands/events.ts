/**
 * `argus events [--from-block N] [--to-block N] [--model id|name] [--requester addr]
 * [--request id] [--follow] [--json]`: the escrow's request lifecycle events —
 * PredictionRequested, PredictionFulfilled, PredictionRejected, PredictionExpired,
 * CallbackFailed — oldest first; JSON lines with --json.
 */
import type { Address } from "viem";
import { type EscrowEvent, listModels, queryEvents, SETTLEMENT_EVENTS } from "@argus/escrow/escrow-reads";
import { noPositionals, parseAddress, parseBlock, parseCommand, parseRequestId, UsageError } from "../args.ts";
import { type Command, EXIT } from "../command.ts";
import { type CliContext, openContext } from "../context.ts";
import { type Currency, currencyOf, resolveModel } from "../escrow-reads.ts";
import { Output } from "../output.ts";
import { describeEvent } from "../present.ts";

const USAGE = `usage: argus events [--from-block <n>] [--to-block <n>] [--model <id|name>] [--requester <address>] [--request <id>] [--follow] [--json] [--deployment <file>]

Lists the escrow's request events, oldest first: PredictionRequested, then how each
request ended — PredictionFulfilled (result digest and its CID, top class and score),
PredictionRejected (reason), PredictionExpired (refunded) — and CallbackFailed.

  --from-block <n>      first block (default: the escrow's deployment block)
  --to-block <n>        last block (default: the latest)
  --model <id|name>     only requests for this model, and their settlements
  --requester <address> only requests by this account, and their settlements
  --request <id>        only this request's events
  --follow              keep printing new events until Ctrl-C
  --json                one JSON object per line (bigints as decimal strings)`;

export const eventsCommand: Command = {
  usage: USAGE,
  async run(argv, io, settings) {
    const { values, positionals } = parseCommand(argv, {
      "from-block": { type: "string" },
      "to-block": { type: "string" },
      model: { type: "string" },
      requester: { type: "string" },
      request: { type: "string" },
      follow: { type: "boolean", default: false },
    });
    noPositionals(positionals);
    const fromArg = parseBlock(values["from-block"], "--from-block");
    const toArg = parseBlock(values["to-block"], "--to-block");
    if (fromArg !== undefined && toArg !== undefined && toArg < fromArg) throw new UsageError("--to-block is before --from-block");
    if (values.follow && toArg !== undefined) throw new UsageError("--follow and --to-block exclude each other");
    const requester = values.requester === undefined ? undefined : parseAddress(values.requester, "--requester");
    const requestId = values.request === undefined ? undefined : parseRequestId(values.request);

    const out = new Output(io, values.json);
    const ctx = await openContext(values, settings);
    const modelId = values.model === undefined ? undefined : (await resolveModel(ctx, values.model)).id;
    const filter: Filter = { requester, modelId, requestId };
    const models = new Map<number, { name: string; currency: Currency }>();
    const print = (event: EscrowEvent) => (out.json ? out.data(event) : out.text(describeEvent(event, models)));
    if (!out.json)
      for (const model of await listModels(ctx))
        models.set(model.id, { name: model.name, currency: await currencyOf(ctx, model.feeToken) });

    let from = fromArg ?? ctx.deployBlock;
    const matched = new Set<bigint>();
    const readUpTo = async (to: bigint) => {
      if (to < from) return;
      for (const event of await eventsIn(ctx, from, to, filter, matched)) print(event);
      from = to + 1n;
    };
    await readUpTo(toArg ?? (await ctx.client.getBlockNumber({ cacheTime: 0 })));
    if (!values.follow) return EXIT.ok;

    out.note("following new events (Ctrl-C to stop)…");
    const stop = new AbortController();
    process.once("SIGINT", () => stop.abort());
    while (!stop.signal.aborted) {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      if (!stop.signal.aborted) await readUpTo(await ctx.client.getBlockNumber({ cacheTime: 0 }));
    }
    return EXIT.ok;
  },
};

interface Filter {
  requester: Address | undefined;
  modelId: number | undefined;
  requestId: bigint | undefined;
}

/**
 * Events in [from, to] that pass the filter. Settlement events carry only the request
 * id, so with a model or requester filter they are matched to the requests seen so far
 * (`matched` grows as requests are found, for --follow).
 */
async function eventsIn(ctx: CliContext, from: bigint, to: bigint, filter: Filter, matched: Set<bigint>): Promise<EscrowEvent[]> {
  if (filter.requestId !== undefined) return queryEvents(ctx, { fromBlock: from, toBlock: to, requestId: filter.requestId });
  if (filter.requester === undefined && filter.modelId === undefined) return queryEvents(ctx, { fromBlock: from, toBlock: to });
  const requested = await queryEvents(ctx, {
    fromBlock: from,
    toBlock: to,
    events: ["PredictionRequested"],
    ...(filter.requester === undefined ? {} : { requester: filter.requester }),
    ...(filter.modelId === undefined ? {} : { modelId: filter.modelId }),
  });
  for (const event of requested) matched.add(event.requestId);
  const settled =
    matched.size === 0 ? [] : await queryEvents(ctx, { fromBlock: from, toBlock: to, events: SETTLEMENT_EVENTS, requestId: [...matched] });
  return [...requested, ...settled].sort((a, b) => a.blockNumber - b.blockNumber || a.logIndex - b.logIndex);
}
