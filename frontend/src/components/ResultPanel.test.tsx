/** @vitest-environment jsdom */
import { render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { classification, detection } from "../test-fixtures.ts";
import { Detections, ResultView, TopClasses, VerificationMark } from "./ResultPanel.tsx";

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
    expect(svg.querySelectorAll("rect")).toHaveLength(2);
    expect(screen.getByRole("list", { name: "Detections" }).textContent).toContain("bus");
  });

  it("shows an error entry's reason instead of predictions", () => {
    const failed = {
      schemaVersion: 1 as const,
      requestId: "7",
      imageCid: classification.imageCid,
      modelId: "mobilenetv2-12-int8",
      error: { code: "DECODE_FAILED" as const, message: "truncated JPEG" },
    };
    render(<ResultView result={failed} imageUrl="" />);
    expect(screen.getByRole("status").textContent).toMatch(/DECODE_FAILED.*truncated JPEG/);
  });

  it("marks a verified result, and warns loudly about one that is not", () => {
    const { unmount } = render(<VerificationMark verification={{ verified: true, result: classification }} cid="bafkreiabc" gatewayUrl="http://gw" />);
    expect(screen.getByTestId("verified").textContent).toMatch(/Verified.*matches the digest/);
    unmount();
    render(<VerificationMark verification={{ verified: false, problem: "Hash mismatch." }} cid="bafkreiabc" gatewayUrl="http://gw" />);
    expect(screen.getByRole("alert").textContent).toMatch(/Not verified.*Hash mismatch/);
  });
});
