/**
 * `argus reclaim <requestId> [--json]`: refunds a request the oracle did not answer
 * before its deadline (anyone may send it; the fee goes to the requester's escrow
 * balance, paid out by `argus withdraw`).
 */
import { parseEventLogs } from "viem";
import { predictionEscrowAbi } from "@argus/escrow/abi";
import { SkipReason } from "@argus/escrow/request-terms";
import { parseCommand, parseRequestId, UsageError } from "../args.ts";
import { type Command, EXIT } from "../command.ts";
import { openContext } from "../context.ts";
import { formatAmount, formatDuration } from "@argus/escrow/format";
import { currencyOf } from "../escrow-reads.ts";
import { Output } from "../output.ts";
import { loadRequest, requestStatus } from "../request-status.ts";

const USAGE = `usage: argus reclaim <requestId> [--json] [--deployment <file>]

Refunds a request that was not answered before its deadline: the fee is credited to
the requester's balance in the escrow (\`argus withdraw\` pays it out). Anyone may send
it. Refused with a reason when the request is settled or its deadline has not passed.`;

const SKIP_NAMES = Object.fromEntries(Object.entries(SkipReason).map(([name, code]) => [code, name])) as Record<number, string>;

export const reclaimCommand: Command = {
  usage: USAGE,
  async run(argv, io, settings) {
    const { values, positionals } = parseCommand(argv, {});
    if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`);
    const requestId = parseRequestId(positionals[0]);
    const out = new Output(io, values.json);
    const ctx = await openContext(values, settings);
    const wallet = await ctx.wallet();
    const loaded = await loadRequest(ctx, requestId);
    const status = await requestStatus(ctx, loaded, false);
    if (status.phase === "pending")
      throw new Error(`request ${requestId} is not past its deadline: ${formatDuration(status.secondsLeft ?? 0)} left`);
    if (status.phase !== "overdue") throw new Error(`request ${requestId} is already settled (${status.phase}): nothing to reclaim`);

    out.spin(`reclaiming request ${requestId}…`);
    const hash = await wallet.writeContract({
      address: ctx.escrow,
      abi: predictionEscrowAbi,
      functionName: "reclaim",
      args: [{ ...loaded.request.terms, deadline: Number(loaded.request.terms.deadline) }],
    });
    const receipt = await ctx.client.waitForTransactionReceipt({ hash });
    out.done();
    if (receipt.status !== "success") throw new Error(`the reclaim transaction ${hash} reverted`);
    const logs = parseEventLogs({ abi: predictionEscrowAbi, logs: receipt.logs });
    const skipped = logs.find((log) => log.eventName === "SettlementSkipped");
    if (skipped?.eventName === "SettlementSkipped") {
      throw new Error(`the escrow skipped the reclaim (${SKIP_NAMES[skipped.args.reason] ?? skipped.args.reason}) in tx ${hash}`);
    }
    const currency = await currencyOf(ctx, loaded.model.feeToken);
    if (out.json)
      out.data({
        requestId,
        refunded: true,
        amount: loaded.request.terms.fee,
        token: loaded.model.feeToken,
        to: loaded.request.terms.requester,
        transactionHash: hash,
        blockNumber: Number(receipt.blockNumber),
      });
    else
      out.text(
        `refunded ${formatAmount(loaded.request.terms.fee, currency)} to ${loaded.request.terms.requester}'s escrow balance (tx ${hash}); \`argus withdraw\` pays it out`,
      );
    return EXIT.ok;
  },
};
