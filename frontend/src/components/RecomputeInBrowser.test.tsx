/** @vitest-environment jsdom */
/**
 * The button's states: nothing loads until the click; then each step, and the verdict in
 * words (the differences of a mismatch listed). The recompute itself is tested in Node
 * (recompute/*.test.ts, test/frontend/browser-recompute.test.ts) and end to end in Chromium.
 */
import { fireEvent, render, screen } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { parseDeployment } from "../deployment.ts";
import { DeploymentContext } from "../hooks.ts";
import type { Recomputation, RecomputeInput } from "../recompute/recompute.ts";
import { classification } from "../test-fixtures.ts";
import { RecomputeInBrowser } from "./RecomputeInBrowser.tsx";

const calls = vi.hoisted(() => ({
  registry: [] as string[],
  inputs: [] as RecomputeInput[],
  outcome: undefined as Recomputation | Error | undefined,
}));
vi.mock("../recompute/registered-weights.ts", () => ({
  registeredWeightsSha256: async (_deployment: unknown, name: string) => {
    calls.registry.push(name);
    return "0xcc028fe6cae7bc11a4ff53cfc9b79c920e8be65ce33a904ec3e2a8f66d77f95f";
  },
}));
vi.mock("../recompute/load-runtimes.ts", () => ({ loadBrowserRuntimes: async () => ({}) }));
vi.mock("../recompute/recompute.ts", () => ({
  recomputeInBrowser: async (input: RecomputeInput) => {
    calls.inputs.push(input);
    input.onStep?.({ step: "weights", received: 1024 * 1024, total: 3 * 1024 * 1024 });
    await new Promise((resolve) => setTimeout(resolve, 20));
    if (calls.outcome instanceof Error) throw calls.outcome;
    return calls.outcome;
  },
}));

const deployment = parseDeployment({
  schemaVersion: 1,
  chain: { id: 31337, name: "Hardhat local", rpcUrl: "http://127.0.0.1:8545" },
  contracts: { predictionEscrow: { address: "0x5FbDB2315678afecb367f032d93F642f64180aa3" } },
  ipfs: { apiUrl: "http://127.0.0.1:5001", gatewayUrl: "http://127.0.0.1:8080" },
});
const TOLERANCES = { classificationScore: 1e-4, detectionIou: 0.9, detectionScore: 1e-4 };

function renderButton() {
  render(
    <DeploymentContext.Provider value={deployment}>
      <RecomputeInBrowser result={classification} />
    </DeploymentContext.Provider>,
  );
  return screen.getByRole("button", { name: "Recompute in my browser" });
}

describe("RecomputeInBrowser", () => {
  beforeEach(() => {
    calls.registry.length = 0;
    calls.inputs.length = 0;
  });

  it("does nothing before the click; then shows the download's progress and 'matches'", async () => {
    calls.outcome = { match: true, differences: [], tolerances: TOLERANCES };
    const button = renderButton();
    expect(calls.registry).toEqual([]);
    fireEvent.click(button);
    expect((await screen.findByTestId("recompute-progress")).textContent).toMatch(/Downloading the weights… 1(\.0)? MiB of 3(\.0)? MiB/);
    const verdict = await screen.findByTestId("recompute-verdict");
    expect(verdict.dataset.verdict).toBe("match");
    expect(verdict.textContent).toMatch(/Recomputed: matches/);
    expect(calls.registry).toEqual([classification.modelId]);
    expect(calls.inputs[0]).toMatchObject({ gatewayUrl: "http://127.0.0.1:8080", recorded: classification });
  });

  it("lists a mismatch's differences, recomputed against recorded", async () => {
    calls.outcome = {
      match: false,
      differences: [{ field: "top5", expected: "281,282,285,283,287", actual: "900,901,902,903,904" }],
      tolerances: TOLERANCES,
    };
    fireEvent.click(renderButton());
    const verdict = await screen.findByTestId("recompute-verdict");
    expect(verdict.dataset.verdict).toBe("mismatch");
    expect(verdict.getAttribute("role")).toBe("alert");
    expect(verdict.textContent).toContain("top5: recomputed 281,282,285,283,287, recorded 900,901,902,903,904");
  });

  it("says why it could not recompute, and offers the button again", async () => {
    calls.outcome = new Error("the gateway's block for bafy… does not hash to it");
    fireEvent.click(renderButton());
    expect((await screen.findByTestId("recompute-failed")).textContent).toMatch(/Could not recompute: the gateway's block/);
    expect(screen.getByRole("button", { name: "Recompute in my browser" })).toBeTruthy();
  });
});
