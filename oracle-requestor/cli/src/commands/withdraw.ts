/**
 * `argus withdraw [--token <address>] [--to <address>] [--json]`: pays out the signing
 * account's escrow balance — refunds of rejected or expired requests, or an oracle's
 * earned fees — in the native currency or an ERC-20.
 */
import { parseEventLogs, zeroAddress } from "viem";
import { predictionEscrowAbi } from "@argus/escrow/abi";
import { noPositionals, parseAddress, parseCommand } from "../args.ts";
import { type Command, EXIT } from "../command.ts";
import { openContext } from "../context.ts";
import { formatAmount } from "@argus/escrow/format";
import { currencyOf } from "../escrow-reads.ts";
import { Output } from "../output.ts";

const USAGE = `usage: argus withdraw [--token <address>] [--to <address>] [--json] [--deployment <file>]

Pays out the whole escrow balance of the signing account: refunds of rejected and
expired requests, or fees an oracle earned.

  --token <address>  the currency (default: the chain's native currency)
  --to <address>     the recipient (default: the signing account)`;

export const withdrawCommand: Command = {
  usage: USAGE,
  async run(argv, io, settings) {
    const { values, positionals } = parseCommand(argv, { token: { type: "string" }, to: { type: "string" } });
    noPositionals(positionals);
    const token = values.token === undefined ? zeroAddress : parseAddress(values.token, "--token");
    const to = values.to === undefined ? undefined : parseAddress(values.to, "--to");
    const out = new Output(io, values.json);
    const ctx = await openContext(values, settings);
    const wallet = await ctx.wallet();
    const account = wallet.account.address;
    const currency = await currencyOf(ctx, token);
    const balance = await ctx.client.readContract({
      address: ctx.escrow,
      abi: predictionEscrowAbi,
      functionName: "balanceOf",
      args: [token, account],
    });
    if (balance === 0n) {
      if (out.json) out.data({ account, token, amount: 0n, withdrawn: false });
      else out.text(`${account} has no ${currency.symbol} in the escrow: nothing to withdraw`);
      return EXIT.ok;
    }
    out.spin(`withdrawing ${formatAmount(balance, currency)}…`);
    const hash = await wallet.writeContract({
      address: ctx.escrow,
      abi: predictionEscrowAbi,
      functionName: "withdraw",
      args: [token, to ?? account],
    });
    const receipt = await ctx.client.waitForTransactionReceipt({ hash });
    out.done();
    if (receipt.status !== "success") throw new Error(`the withdrawal ${hash} reverted`);
    const [paid] = parseEventLogs({ abi: predictionEscrowAbi, logs: receipt.logs, eventName: "Withdrawn" });
    const amount = paid?.args.amount ?? balance;
    if (out.json)
      out.data({
        account,
        token,
        amount,
        to: to ?? account,
        withdrawn: true,
        transactionHash: hash,
        blockNumber: Number(receipt.blockNumber),
      });
    else out.text(`withdrew ${formatAmount(amount, currency)} to ${to ?? account} (tx ${hash})`);
    return EXIT.ok;
  },
};
