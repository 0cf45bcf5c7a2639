/**
 * Whether the connected wallet can pay: its balance in the fee's currency and, for
 * native fees, the network cost of the request transaction (estimated with a
 * placeholder image CID of the usual size: the real one is only known after pinning).
 */
import type { ModelInfo } from "@argus/escrow/escrow-reads";
import { type Currency, formatAmount } from "@argus/escrow/format";
import { imageCidToBytes } from "@argus/protocol/cid";
import { useQuery } from "@tanstack/react-query";
import { type Address, bytesToHex, erc20Abi, zeroAddress } from "viem";
import { usePublicClient } from "wagmi";
import { useCurrency, useDeployment, useEscrowAddress, useWallet } from "../hooks.ts";
import { nativeRequestCall } from "@argus/escrow/request-call";

/** A `latestDeadline` that accepts any deadline (uint40's maximum): the estimate must not depend on the clock. */
const ANY_DEADLINE = 2 ** 40 - 1;

/** A CIDv1 raw-leaves image CID (the sha256 of nothing): same length as what pinning returns. */
const PLACEHOLDER_CID = bytesToHex(imageCidToBytes("bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"));

export interface FundsInput {
  fee: bigint;
  /** The fee is paid in the native currency (so gas comes out of the same balance). */
  native: boolean;
  balance: bigint;
  /** Network cost of the request transaction in the native currency, when estimated. */
  gasCost?: bigint | undefined;
}

/** What paying takes from the balance that pays the fee, and whether the balance is short of it. */
export function fundsCheck({ fee, native, balance, gasCost }: FundsInput): { needed: bigint; short: boolean } {
  const needed = native ? fee + (gasCost ?? 0n) : fee;
  return { needed, short: balance < needed };
}

export function useFunds(model: ModelInfo | undefined, quote: { token: Address; amount: bigint } | undefined) {
  const deployment = useDeployment();
  const escrow = useEscrowAddress();
  const client = usePublicClient({ chainId: deployment.chain.id });
  const { account, wrongNetwork } = useWallet();
  const { currency } = useCurrency(quote?.token);
  const native = quote?.token === zeroAddress;
  const enabled = client !== undefined && account !== undefined && !wrongNetwork && quote !== undefined && model !== undefined;
  const balance = useQuery({
    queryKey: ["wallet-balance", account, quote?.token],
    queryFn: () =>
      native
        ? client!.getBalance({ address: account! })
        : client!.readContract({ address: quote!.token, abi: erc20Abi, functionName: "balanceOf", args: [account!] }),
    enabled,
    refetchInterval: 5_000,
  });
  const gas = useQuery({
    queryKey: ["request-gas", escrow, model?.id, account, quote?.amount.toString()],
    queryFn: async () => {
      const [units, price] = await Promise.all([
        client!.estimateContractGas({
          account: account!,
          address: escrow,
          ...nativeRequestCall(model!.id, PLACEHOLDER_CID, quote!.amount, { maxFee: quote!.amount, latestDeadline: ANY_DEADLINE }),
        }),
        client!.getGasPrice(),
      ]);
      return units * price;
    },
    enabled: enabled && native,
    refetchInterval: 30_000,
    retry: false,
  });
  const nativeCurrency: Currency = deployment.chain.nativeCurrency;
  const check =
    balance.data !== undefined && quote !== undefined
      ? fundsCheck({ fee: quote.amount, native, balance: balance.data, gasCost: gas.data })
      : undefined;
  return {
    balance: balance.data !== undefined && currency ? formatAmount(balance.data, currency) : undefined,
    networkCost: gas.data !== undefined ? formatAmount(gas.data, nativeCurrency) : undefined,
    needed: check && currency ? `${formatAmount(check.needed, currency)}${native ? " (fee and network cost)" : ""}` : undefined,
    short: check?.short ?? false,
  };
}
