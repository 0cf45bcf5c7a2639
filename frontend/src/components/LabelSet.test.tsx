/** @vitest-environment jsdom */
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { act, fireEvent, render, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { parseDeployment } from "../deployment.ts";
import { DeploymentContext } from "../hooks.ts";
import { LabelFilter, LabelSet } from "./LabelSet.tsx";
import { LiveRegion } from "./LiveRegion.tsx";

const IMAGENET_LIKE = Array.from({ length: 1000 }, (_, index) =>
  index === 281 ? "tabby, tabby cat" : index === 282 ? "tiger cat" : index === 285 ? "Egyptian cat" : `class ${index}`,
);

/** What the mocked IPFS module serves as the label list (or the error it fails with). */
const served = vi.hoisted(() => ({ labels: [] as string[] | Error, reads: 0 }));
vi.mock("../ipfs/block-read.ts", () => ({
  readLabels: async () => {
    served.reads++;
    if (served.labels instanceof Error) throw served.labels;
    return served.labels;
  },
}));

const deployment = parseDeployment({
  schemaVersion: 1,
  chain: { id: 31337, name: "Hardhat local", rpcUrl: "http://127.0.0.1:8545" },
  contracts: { predictionEscrow: { address: "0x5FbDB2315678afecb367f032d93F642f64180aa3" } },
  ipfs: { apiUrl: "http://127.0.0.1:5001", gatewayUrl: "http://127.0.0.1:8080" },
});
const FILE = { file: "imagenet-synset.txt", format: "synset-lines" as const, sha256: "ab".repeat(32) };

function renderLabelSet() {
  return render(
    <DeploymentContext.Provider value={deployment}>
      <QueryClientProvider client={new QueryClient()}>
        <LiveRegion />
        <LabelSet file={FILE} modelName="MobileNetV2" />
      </QueryClientProvider>
    </DeploymentContext.Provider>,
  );
}

function open(details: HTMLElement) {
  (details as HTMLDetailsElement).open = true;
  fireEvent(details, new Event("toggle"));
}

describe("the label list's filter", () => {
  afterEach(() => vi.useRealTimers());

  it("shows the first 100 of 1000 labels with their class indices, and how many more there are", () => {
    render(<LabelFilter labels={IMAGENET_LIKE} />);
    const items = within(screen.getByRole("list", { name: "Labels, by class index" })).getAllByRole("listitem");
    expect(items).toHaveLength(100);
    expect(items[0]!.textContent).toBe("0 class 0");
    expect(screen.getByTestId("label-count").textContent).toBe("1000 labels");
    expect(screen.getByTestId("label-more").textContent).toBe("900 more — type to narrow the list.");
  });

  it("narrows the list as one types, ignoring case, and says how many match once typing pauses", async () => {
    vi.useFakeTimers();
    render(
      <>
        <LiveRegion />
        <LabelFilter labels={IMAGENET_LIKE} />
      </>,
    );
    fireEvent.change(screen.getByRole("searchbox", { name: "Find a label" }), { target: { value: "CAT" } });
    const items = within(screen.getByRole("list", { name: "Labels, by class index" })).getAllByRole("listitem");
    expect(items.map((item) => item.textContent)).toEqual(["281 tabby, tabby cat", "282 tiger cat", "285 Egyptian cat"]);
    expect(screen.getByTestId("label-count").textContent).toBe("3 of 1000 labels match “CAT”");
    expect(screen.queryByTestId("label-more")).toBeNull();
    expect(screen.getByTestId("live-region").textContent).toBe("");
    await act(async () => vi.advanceTimersByTime(1000));
    expect(screen.getByTestId("live-region").textContent).toBe("3 of 1000 labels match “CAT”.");
    fireEvent.change(screen.getByRole("searchbox"), { target: { value: "zebra" } });
    expect(screen.getByTestId("label-count").textContent).toBe("No label matches “zebra”");
    expect(screen.queryByRole("list")).toBeNull();
  });
});

describe("a model card's label set", () => {
  it("reads the labels only once it is opened, then lists them with their count", async () => {
    served.labels = IMAGENET_LIKE;
    served.reads = 0;
    renderLabelSet();
    const details = screen.getByTestId("label-set");
    expect(details.querySelector("summary")!.textContent).toBe("Label set of MobileNetV2");
    expect(served.reads).toBe(0);
    open(details);
    await screen.findByRole("searchbox", { name: "Find a label" });
    expect(served.reads).toBe(1);
    expect(details.querySelector("summary")!.textContent).toBe("Label set of MobileNetV2 · 1000 classes");
  });

  it("says why when the list cannot be read, and lets one try again", async () => {
    served.labels = new Error("The label list imagenet-synset.txt is not on the IPFS node, and its manifest names no other source.");
    renderLabelSet();
    open(screen.getByTestId("label-set"));
    expect((await screen.findByRole("alert")).textContent).toMatch(/not on the IPFS node/);
    served.labels = IMAGENET_LIKE;
    fireEvent.click(screen.getByRole("button", { name: "Try again" }));
    await screen.findByRole("searchbox", { name: "Find a label" });
  });
});
