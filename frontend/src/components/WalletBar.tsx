/**
 * Connecting a wallet: the injected wallets the browser announced over EIP-6963
 * (MetaMask first), and a prompt to switch when the wallet is on another chain.
 */
import { useId, useState } from "react";
import { type Connector, useConnect, useConnectors, useDisconnect, useSwitchChain } from "wagmi";
import { shortHex } from "../lib/format.ts";
import { useDeployment, useWallet } from "../hooks.ts";
import { METAMASK_RDNS } from "../wallet/config.ts";
import { ErrorNotice } from "./ErrorNotice.tsx";

/** EIP-6963 wallets first (MetaMask at the top); the generic `window.ethereum` one only when nothing was announced. */
export function orderConnectors(connectors: readonly Connector[], hasWindowEthereum: boolean): Connector[] {
  const announced = connectors.filter((connector) => connector.id !== "injected");
  const rank = (connector: Connector) => (connector.id === METAMASK_RDNS || connector.rdns === METAMASK_RDNS ? 0 : 1);
  const ordered = [...announced].sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
  if (ordered.length === 0 && hasWindowEthereum) return connectors.filter((connector) => connector.id === "injected");
  return ordered;
}

export function WalletButton() {
  const { connection, connected, wrongNetwork } = useWallet();
  const connectors = useConnectors();
  const connect = useConnect();
  const disconnect = useDisconnect();
  const [open, setOpen] = useState(false);
  const listId = useId();

  if (connected && connection.address) {
    return (
      <div className="wallet">
        <span className="account" title={connection.address}>
          <span className={`dot${wrongNetwork ? " dot-wrong" : ""}`} aria-hidden="true" /> {connection.connector?.name ?? "Wallet"} ·{" "}
          {shortHex(connection.address, 4, 4)}
        </span>
        <button type="button" className="secondary small" onClick={() => disconnect.mutate({})}>
          Disconnect
        </button>
      </div>
    );
  }

  const hasWindowEthereum = typeof window !== "undefined" && "ethereum" in window && window.ethereum !== undefined;
  const wallets = orderConnectors(connectors, hasWindowEthereum);
  return (
    <div className="wallet">
      <button type="button" aria-expanded={open} aria-controls={listId} onClick={() => setOpen(!open)} disabled={connect.isPending}>
        {connect.isPending ? "Connecting…" : "Connect wallet"}
      </button>
      {open && (
        <fieldset id={listId} className="wallet-menu" aria-label="Choose a wallet">
          {wallets.length === 0 ? (
            <p className="muted">
              No browser wallet announced itself (EIP-6963) to this page.{" "}
              <a href="https://ethereum.org/en/wallets/find-wallet/" target="_blank" rel="noreferrer">
                Get a wallet
              </a>{" "}
              (MetaMask or any other browser wallet), then reload this page. Reading requests works without one.
            </p>
          ) : (
            <ul>
              {wallets.map((connector) => (
                <li key={connector.uid}>
                  <button
                    type="button"
                    className="wallet-option"
                    onClick={() => connect.mutate({ connector }, { onSuccess: () => setOpen(false) })}
                  >
                    {connector.icon ? (
                      <img src={connector.icon} alt="" width={24} height={24} />
                    ) : (
                      <span className="wallet-icon" aria-hidden="true" />
                    )}
                    {connector.name}
                  </button>
                </li>
              ))}
            </ul>
          )}
          {connect.error && <ErrorNotice error={connect.error} />}
        </fieldset>
      )}
    </div>
  );
}

declare global {
  interface Window {
    ethereum?: unknown;
  }
}

/** The banner shown while the wallet is on another chain than the deployment's. */
export function NetworkGuard() {
  const deployment = useDeployment();
  const { connection, wrongNetwork } = useWallet();
  const switchChain = useSwitchChain();
  if (!wrongNetwork) return null;
  return (
    <div className="notice notice-warning network-guard" role="alert">
      <p className="notice-title">Wrong network</p>
      <p>
        Your wallet is on chain {connection.chainId}. Argus runs on <strong>{deployment.chain.name}</strong> (chain {deployment.chain.id}):
        switch to use it. Reading works meanwhile; paying does not.
      </p>
      <div className="actions">
        <button type="button" onClick={() => switchChain.mutate({ chainId: deployment.chain.id })} disabled={switchChain.isPending}>
          {switchChain.isPending ? "Confirm in your wallet…" : `Switch to ${deployment.chain.name}`}
        </button>
      </div>
      {switchChain.error && <ErrorNotice error={switchChain.error} />}
    </div>
  );
}
