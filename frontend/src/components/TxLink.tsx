import type { Hex } from "viem";
import { shortHex } from "../lib/format.ts";
import { useDeployment } from "../hooks.ts";

/** A transaction hash, linked to the deployment's block explorer when it has one. */
export function TxLink({ hash }: { hash: Hex }) {
  const explorer = useDeployment().chain.blockExplorerUrl;
  const text = (
    <code title={hash} data-testid="tx-hash">
      {shortHex(hash, 8, 6)}
    </code>
  );
  return explorer ? (
    <a href={`${explorer}/tx/${hash}`} target="_blank" rel="noreferrer">
      {text}
    </a>
  ) : (
    text
  );
}
