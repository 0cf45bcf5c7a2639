/** @vitest-environment jsdom */
import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { selfTestSummary } from "../lib/self-test.ts";
import { classifierManifest } from "../test-fixtures.ts";
import { SelfTestScore } from "./ModelPicker.tsx";

describe("a model's self-test score in the picker", () => {
  it("shows the recorded score, and flags unverified weights", () => {
    const { unmount } = render(<SelfTestScore summary={selfTestSummary(classifierManifest)} />);
    expect(screen.getByTestId("self-test").textContent).toBe("Self-test 6/6 reference photos");
    expect(screen.queryByText("Unverified weights")).toBeNull();
    unmount();
    render(<SelfTestScore summary={selfTestSummary({ ...classifierManifest, unverified: "an export that may carry random weights" })} />);
    expect(screen.getByText("Unverified weights").getAttribute("title")).toContain("random weights");
  });

  it("says so while the manifest is read and when it cannot be", () => {
    const { unmount } = render(<SelfTestScore summary={undefined} />);
    expect(screen.getByText("Self-test …")).toBeTruthy();
    unmount();
    render(<SelfTestScore summary={null} />);
    expect(screen.getByText("Self-test: manifest unavailable")).toBeTruthy();
  });
});
