import type { Connector } from "wagmi";
import { describe, expect, it } from "vitest";
import { orderConnectors } from "./WalletBar.tsx";

const connector = (id: string, name: string) => ({ id, name, uid: id, rdns: id }) as unknown as Connector;

describe("wallet discovery order", () => {
  const generic = connector("injected", "Injected");
  const rabby = connector("io.rabby", "Rabby Wallet");
  const metamask = connector("io.metamask", "MetaMask");

  it("lists EIP-6963 wallets with MetaMask first and hides the generic connector", () => {
    expect(orderConnectors([generic, rabby, metamask], true).map((c) => c.name)).toEqual(["MetaMask", "Rabby Wallet"]);
  });

  it("falls back to window.ethereum only when nothing was announced", () => {
    expect(orderConnectors([generic], true)).toEqual([generic]);
    expect(orderConnectors([generic], false)).toEqual([]);
  });
});
