import type { Address, Hex } from "viem";
import { shortHex } from "../lib/format.ts";
import { useDeployment } from "../hooks.ts";
import { CopyableValue } from "./CopyButton.tsx";

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

/** A transaction hash or an address with its copy button, linked to the block explorer when the deployment names one. */
export function ChainValue({
  kind,
  value,
  label,
  testId,
}: {
  kind: "tx" | "address";
  value: Hex | Address;
  label: string;
  testId?: string;
}) {
  const explorer = useDeployment().chain.blockExplorerUrl;
  return (
    <CopyableValue
      value={value}
      label={label}
      short={shortHex(value, 8, 6)}
      href={explorer ? `${explorer}/${kind}/${value}` : undefined}
      {...(testId === undefined ? {} : { testId })}
    />
  );
}
