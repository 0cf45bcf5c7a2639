import { describe, expect, it } from "vitest";
import { parseRoute, requestPath } from "./route.ts";

describe("routes", () => {
  it("reads the home page and request pages in hex or decimal", () => {
    expect(parseRoute("/")).toEqual({ page: "home" });
    expect(parseRoute("/r/0x1f")).toEqual({ page: "request", requestId: 31n });
    expect(parseRoute("/r/31/")).toEqual({ page: "request", requestId: 31n });
  });

  it("round-trips a request id through its path", () => {
    const id = (123n << 96n) | 0xabcdefn;
    expect(parseRoute(requestPath(id))).toEqual({ page: "request", requestId: id });
  });

  it("names anything else not found, including ids beyond uint256", () => {
    expect(parseRoute("/r/xyz")).toEqual({ page: "not-found", path: "/r/xyz" });
    expect(parseRoute(`/r/${"9".repeat(78)}`).page).toBe("not-found");
    expect(parseRoute("/about").page).toBe("not-found");
  });
});
