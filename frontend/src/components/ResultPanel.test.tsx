/** @vitest-environment jsdom */
import { type InferenceResult, resultBytes } from "@argus/protocol/result";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen, waitFor, within } from "@testing-library/react";
import { bytesToHex } from "viem";
import { describe, expect, it, vi } from "vitest";
import { parseDeployment } from "../deployment.ts";
import { DeploymentContext } from "../hooks.ts";
import { classification, detection, IMAGE_CID } from "../test-fixtures.ts";
import { fetchAndVerifyResult } from "../lib/fetch-result.ts";
import { fireEvent } from "@testing-library/react";
import { detectionLayout } from "../lib/detection-drawing.ts";
import ResultPanel, { Detections, ResultView, TopClasses, VerificationMark } from "./ResultPanel.tsx";

/** What the mocked IPFS node serves for any result CID. */
const served = vi.hoisted(() => ({ bytes: new Uint8Array() as Uint8Array, reads: 0 }));
vi.mock("../ipfs/block-read.ts", () => ({
  readResultBytes: async () => {
    served.reads++;
    return served.bytes;
  },
}));

/** The PNG export without a real canvas (jsdom has none; the browser end-to-end test checks the file). */
const png = vi.hoisted(() => ({ drawn: [] as unknown[][], saved: [] as unknown[][] }));
vi.mock("../lib/detection-drawing.ts", async (importOriginal) => ({
  ...(await importOriginal<typeof import("../lib/detection-drawing.ts")>()),
  detectionPngFromUrl: async (...args: unknown[]) => {
    png.drawn.push(args);
    return new Blob([], { type: "image/png" });
  },
  saveBlob: (...args: unknown[]) => png.saved.push(args),
}));

describe("result views", () => {
  it("lists the top-5 classes best first with probability bars", () => {
    render(<TopClasses result={classification} />);
    const items = within(screen.getByTestId("top5")).getAllByRole("listitem");
    expect(items).toHaveLength(5);
    expect(items[0]!.textContent).toContain("tabby, tabby cat");
    expect(items[0]!.textContent).toContain("61.2 %");
    const widths = items.map((item) => (item.querySelector(".fill") as HTMLElement).style.width);
    expect(widths[0]).toBe("61.23%");
    expect(widths[4]).toBe("0.5%"); // tiny scores still show a sliver
  });

  it("draws each detection as a labelled box in image pixels", () => {
    render(<Detections result={detection} imageUrl="blob:image" />);
    const svg = screen.getByTestId("boxes");
    expect(svg.getAttribute("viewBox")).toBe("0 0 640 480");
    const bus = svg.querySelector('g[data-label="bus"] rect')!;
    expect([bus.getAttribute("x"), bus.getAttribute("y"), bus.getAttribute("width"), bus.getAttribute("height")]).toEqual([
      "10",
      "40",
      "600",
      "380",
    ]);
    expect(svg.querySelectorAll('rect[fill="none"]')).toHaveLength(2);
    expect(screen.getByRole("list", { name: "Detections" }).textContent).toContain("bus");
  });

  it("names who computed a prediction when the result records it", () => {
    const provider = { id: "0x7ddb5e8d2d9a4f1e8c0e6b1a2f3c4d5e6f708192", name: "devnet-provider-2" };
    const { unmount } = render(<ResultView result={{ ...classification, computedBy: { executor: "golem", provider } }} imageUrl="" />);
    expect(screen.getByTestId("computed-by").textContent).toBe(`Computed by Golem provider devnet-provider-2 (${provider.id}).`);
    unmount();
    render(<ResultView result={classification} imageUrl="" />);
    expect(screen.queryByTestId("computed-by")).toBeNull();
  });

  it("shows an error entry's reason instead of predictions", () => {
    const failed = {
      schemaVersion: 3 as const,
      requestId: "7",
      imageCid: classification.imageCid,
      modelId: "mobilenetv2-12-int8",
      error: { code: "DECODE_FAILED" as const, message: "truncated JPEG" },
    };
    render(<ResultView result={failed} imageUrl="" />);
    expect(screen.getByText(/No prediction: DECODE_FAILED/).parentElement!.textContent).toMatch(/DECODE_FAILED.*truncated JPEG/);
  });

  it("marks a verified result, and warns loudly about one that is not", () => {
    const { unmount } = render(
      <VerificationMark verification={{ verified: true, result: classification }} cid="bafkreiabc" gatewayUrl="http://gw" />,
    );
    expect(screen.getByTestId("verified").textContent).toMatch(/Verified.*matches the digest/);
    unmount();
    render(
      <VerificationMark
        verification={{ verified: false, failed: "digest", problem: "Hash mismatch." }}
        cid="bafkreiabc"
        gatewayUrl="http://gw"
      />,
    );
    expect(screen.getByRole("alert").textContent).toMatch(/Not verified.*Hash mismatch/);
  });
});

describe("detection view", () => {
  it("draws labels where the shared layout puts them (the PNG uses the same layout)", () => {
    render(<Detections result={detection} imageUrl="blob:image" />);
    const texts = [...screen.getByTestId("boxes").querySelectorAll("text")].map((text) => [
      text.textContent,
      Number(text.getAttribute("x")),
      Number(text.getAttribute("y")),
    ]);
    expect(texts).toEqual(detectionLayout(detection, 75).items.map((item) => [item.text, item.textX, item.textY]));
  });

  it("offers the image with the boxes shown as a PNG, drawn at the slider's threshold", async () => {
    png.drawn = [];
    png.saved = [];
    render(<Detections result={detection} imageUrl="blob:image" pngFileName="argus-0x7.png" />);
    fireEvent.change(screen.getByRole("slider", { name: "Show detections scoring at least" }), { target: { value: "80" } });
    fireEvent.click(screen.getByRole("button", { name: "Download the image with these boxes (PNG)" }));
    await waitFor(() => expect(png.saved).toHaveLength(1));
    expect(png.drawn[0]).toEqual(["blob:image", detection, 80]);
    expect(png.saved[0]![1]).toBe("argus-0x7.png");
    expect((png.saved[0]![0] as Blob).type).toBe("image/png");
  });

  it("hides boxes under the chosen threshold and links list items to their boxes", () => {
    render(<Detections result={detection} imageUrl="blob:image" />);
    const svg = screen.getByTestId("boxes");
    const all = svg.querySelectorAll("g").length;
    const slider = screen.getByRole("slider", { name: "Show detections scoring at least" });
    fireEvent.change(slider, { target: { value: "100" } });
    expect(svg.querySelectorAll("g").length).toBeLessThan(all);
    fireEvent.change(slider, { target: { value: "0" } });
    const item = within(screen.getByRole("list", { name: "Detections" })).getAllByRole("button")[0]!;
    fireEvent.click(item);
    expect(item.getAttribute("aria-pressed")).toBe("true");
    const dimmed = [...svg.querySelectorAll("g")].filter((group) => group.getAttribute("opacity") === "0.3");
    expect(dimmed.length).toBe(all - 1);
  });
});

describe("fetchAndVerifyResult: the fetched result checked against the request", () => {
  const request = { requestId: BigInt(classification.requestId), modelName: classification.modelId, imageCid: IMAGE_CID };

  /** Serves `result` as the recorded answer (its digest and summary on-chain), then fetches and checks it for `asked`. */
  async function checkRecorded(result: InferenceResult, asked: typeof request) {
    // Copied into this realm's Uint8Array: jsdom's TextEncoder answers with another realm's, which multiformats refuses.
    const bytes = new Uint8Array(resultBytes(result));
    served.bytes = bytes;
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    const answer = { resultDigest: bytesToHex(digest), topClass: 281, topScore: 6123 };
    const verification = await fetchAndVerifyResult("http://127.0.0.1:5001", asked, answer);
    render(<VerificationMark verification={verification} cid="bafkreiabc" gatewayUrl="http://gw" />);
    return verification;
  }

  it("marks the requested model's answer about the requested image as verified", async () => {
    expect(await checkRecorded(classification, request)).toEqual({ verified: true, result: classification });
    expect(screen.getByTestId("verified").textContent).toMatch(/this request, model and image/);
  });

  it("reads a verified result once: the next time it comes from the cache, verified again", async () => {
    localStorage.clear();
    await checkRecorded(classification, request);
    const reads = served.reads;
    served.bytes = new Uint8Array(); // the node would now serve nothing usable
    const bytes = new Uint8Array(resultBytes(classification));
    const digest = bytesToHex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)));
    const again = await fetchAndVerifyResult("http://127.0.0.1:5001", request, { resultDigest: digest, topClass: 281, topScore: 6123 });
    expect(again).toEqual({ verified: true, result: classification });
    expect(served.reads).toBe(reads);
  });

  it("refuses a genuine recorded result from another model than the one requested", async () => {
    expect(await checkRecorded(classification, { ...request, modelName: "squeezenet1.1-fp16" })).toMatchObject({
      verified: false,
      failed: "modelId",
    });
    expect(screen.getByTestId("not-verified").textContent).toMatch(/from model mobilenetv2-12-int8, not the requested squeezenet1\.1-fp16/);
  });

  it("refuses a genuine recorded result about another image than the one requested", async () => {
    const otherImage = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy";
    expect(await checkRecorded(classification, { ...request, imageCid: otherImage })).toMatchObject({
      verified: false,
      failed: "imageCid",
    });
    expect(screen.getByTestId("not-verified").textContent).toMatch(new RegExp(`about image ${IMAGE_CID}, not the requested ${otherImage}`));
  });
});

describe("ResultPanel", () => {
  const deployment = parseDeployment({
    schemaVersion: 1,
    chain: { id: 31337, name: "Hardhat local", rpcUrl: "http://127.0.0.1:8545" },
    contracts: { predictionEscrow: { address: "0x5FbDB2315678afecb367f032d93F642f64180aa3" } },
    ipfs: { apiUrl: "http://127.0.0.1:5001", gatewayUrl: "http://127.0.0.1:8080" },
  });

  it("fetches the recorded result, checks it, and shows it as verified with its predictions", async () => {
    const bytes = new Uint8Array(resultBytes(classification));
    served.bytes = bytes;
    const digest = bytesToHex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)));
    render(
      <DeploymentContext.Provider value={deployment}>
        <QueryClientProvider client={new QueryClient()}>
          <ResultPanel
            request={{ requestId: BigInt(classification.requestId), modelName: classification.modelId, imageCid: IMAGE_CID }}
            answer={{ resultDigest: digest, topClass: 281, topScore: 6123 }}
          />
        </QueryClientProvider>
      </DeploymentContext.Provider>,
    );
    expect((await screen.findByTestId("verified")).textContent).toMatch(/Verified/);
    expect(within(screen.getByTestId("top5")).getAllByRole("listitem")[0]!.textContent).toContain("tabby, tabby cat");
    expect(screen.getByTestId("download-json")).toBeTruthy();
    expect(screen.queryByTestId("download-png")).toBeNull(); // no boxes to draw
  });

  it("offers a verified detection result as a PNG named after the request, beside its JSON", async () => {
    const bytes = new Uint8Array(resultBytes(detection));
    served.bytes = bytes;
    const digest = bytesToHex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)));
    render(
      <DeploymentContext.Provider value={deployment}>
        <QueryClientProvider client={new QueryClient()}>
          <ResultPanel
            request={{ requestId: BigInt(detection.requestId), modelName: detection.modelId, imageCid: IMAGE_CID }}
            answer={{ resultDigest: digest, topClass: 0, topScore: 8300 }}
          />
        </QueryClientProvider>
      </DeploymentContext.Provider>,
    );
    await screen.findByTestId("verified");
    png.saved = [];
    fireEvent.click(screen.getByTestId("download-png"));
    await waitFor(() => expect(png.saved).toHaveLength(1));
    expect(png.saved[0]![1]).toBe(`argus-0x${BigInt(detection.requestId).toString(16)}.png`);
    expect(png.drawn.at(-1)![0]).toBe(`http://127.0.0.1:8080/ipfs/${IMAGE_CID}`);
    expect(screen.getByTestId("download-json")).toBeTruthy();
  });
});
