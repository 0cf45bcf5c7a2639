/** @vitest-environment jsdom */
import { act, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { parseDeployment } from "../deployment.ts";
import { DeploymentContext } from "../hooks.ts";
import { COPIED_MS, CopyableValue, CopyButton } from "./CopyButton.tsx";
import { LiveRegion } from "./LiveRegion.tsx";
import { ChainValue } from "./TxLink.tsx";

const ID = "0x1a000000000000000000000007";

function stubClipboard(writeText: (text: string) => Promise<void>) {
  Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
}

describe("CopyButton", () => {
  beforeEach(() => vi.useFakeTimers({ shouldAdvanceTime: true }));
  afterEach(() => {
    vi.useRealTimers();
    Reflect.deleteProperty(navigator, "clipboard");
    Reflect.deleteProperty(document, "execCommand");
  });

  it("writes the value to the clipboard, reads Copied for a moment and says so in the one live region", async () => {
    const writeText = vi.fn(async (_text: string) => {});
    stubClipboard(writeText);
    render(
      <>
        <LiveRegion />
        <CopyButton value={ID} label="request ID" />
      </>,
    );
    const button = screen.getByRole("button", { name: "Copy request ID" });
    expect(screen.queryByTestId("copied")).toBeNull();
    await act(async () => fireEvent.click(button));
    expect(writeText).toHaveBeenCalledWith(ID);
    expect(screen.getByTestId("copied").textContent).toBe("Copied");
    expect(screen.getByTestId("copied").getAttribute("aria-hidden")).toBe("true"); // heard through the live region
    expect(button.textContent).toBe("Copy"); // its name "Copy request ID" keeps its visible text
    expect(screen.getByTestId("live-region").textContent).toBe("Copied the request ID.");
    expect(document.querySelectorAll('[aria-live], [role="status"]')).toHaveLength(1);
    await act(async () => vi.advanceTimersByTime(COPIED_MS));
    expect(screen.queryByTestId("copied")).toBeNull();
  });

  it("falls back to the copy command without the Clipboard API, and says when nothing worked", async () => {
    const execCommand = vi.fn((_command: string) => true);
    Object.defineProperty(document, "execCommand", { value: execCommand, configurable: true });
    render(
      <>
        <LiveRegion />
        <CopyButton value="bafkreiabc" label="image CID" />
      </>,
    );
    const button = screen.getByRole("button", { name: "Copy image CID" });
    button.focus();
    await act(async () => fireEvent.click(button));
    expect(execCommand).toHaveBeenCalledWith("copy");
    expect(screen.getByTestId("live-region").textContent).toBe("Copied the image CID.");
    expect(document.querySelector("textarea")).toBeNull(); // the helper field is gone
    expect(document.activeElement).toBe(button);

    await act(async () => vi.advanceTimersByTime(COPIED_MS));
    stubClipboard(async () => {
      throw new DOMException("denied", "NotAllowedError");
    });
    execCommand.mockReturnValue(false);
    await act(async () => fireEvent.click(button));
    expect(screen.queryByTestId("copied")).toBeNull();
    expect(screen.getByTestId("live-region").textContent).toMatch(/^Could not copy the image CID/);
  });
});

describe("values with copy buttons", () => {
  it("shows the value shortened, whole in its title, and links it when asked", () => {
    render(<CopyableValue value="bafkreiabcdefghijklmnop" label="result CID" short="bafkre…mnop" href="http://gw/ipfs/x" testId="cid" />);
    const code = screen.getByTestId("cid");
    expect([code.textContent, code.getAttribute("title")]).toEqual(["bafkre…mnop", "bafkreiabcdefghijklmnop"]);
    expect(code.closest("a")?.getAttribute("href")).toBe("http://gw/ipfs/x");
    expect(screen.getByRole("button", { name: "Copy result CID" })).toBeTruthy();
  });

  it("links hashes and addresses to the deployment's explorer when it names one", () => {
    const address = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
    const deployment = (blockExplorerUrl?: string) =>
      parseDeployment({
        schemaVersion: 1,
        chain: { id: 31337, name: "Hardhat local", rpcUrl: "http://127.0.0.1:8545", ...(blockExplorerUrl ? { blockExplorerUrl } : {}) },
        contracts: { predictionEscrow: { address } },
        ipfs: { apiUrl: "http://127.0.0.1:5001", gatewayUrl: "http://127.0.0.1:8080" },
      });
    const { unmount } = render(
      <DeploymentContext.Provider value={deployment("https://explorer.example")}>
        <ChainValue kind="address" value={address} label="escrow address" testId="escrow" />
      </DeploymentContext.Provider>,
    );
    expect(screen.getByTestId("escrow").closest("a")?.getAttribute("href")).toBe(`https://explorer.example/address/${address}`);
    expect(screen.getByRole("button", { name: "Copy escrow address" })).toBeTruthy();
    unmount();
    render(
      <DeploymentContext.Provider value={deployment()}>
        <ChainValue kind="tx" value={`0x${"ab".repeat(32)}`} label="settlement transaction hash" testId="tx" />
      </DeploymentContext.Provider>,
    );
    expect(screen.getByTestId("tx").closest("a")).toBeNull();
    expect(screen.getByTestId("tx").textContent).toBe("0xabababab…ababab");
  });
});
