import { describe, expect, it } from "vitest";
import { fetchOracleHealth, fetchOracleProgress, isFinalOracleState, oracleHasRead } from "./oracle-status.ts";

const STATUS_URL = "http://127.0.0.1:9464";
const ESCROW = "0x5FbDB2315678afecb367f032d93F642f64180aa3";

/** A fetch that answers each URL with a status and JSON body, and records the URLs asked. */
function fakeFetch(answers: Record<string, [number, unknown]>) {
  const asked: string[] = [];
  const fetcher = (async (input: RequestInfo | URL) => {
    const url = String(input);
    asked.push(url);
    const answer = answers[url];
    if (answer === undefined) throw new TypeError("Failed to fetch");
    return new Response(JSON.stringify(answer[1]), { status: answer[0], headers: { "content-type": "application/json" } });
  }) as typeof fetch;
  return { fetcher, asked };
}

describe("oracle status server", () => {
  it("reads a request's state as the server serialises it (decimal id, extra fields ignored)", async () => {
    const id = 123456789012345678901234567890n;
    const { fetcher, asked } = fakeFetch({
      [`${STATUS_URL}/requests/${id}`]: [
        200,
        { requestId: id.toString(), state: "rejecting", error: "not an image", rejectReason: 1, rejectReasonName: "NotAnImage", resultCid: null, fee: "1000" },
      ],
    });
    expect(await fetchOracleProgress(STATUS_URL, id, undefined, fetcher)).toEqual({ state: "rejecting", rejectReason: 1, error: "not an image" });
    expect(asked).toEqual([`${STATUS_URL}/requests/123456789012345678901234567890`]);
  });

  it("gives null for a request the oracle has not seen (404), and fails on anything unexpected", async () => {
    const { fetcher } = fakeFetch({
      [`${STATUS_URL}/requests/1`]: [404, { error: "this oracle has not seen that request" }],
      [`${STATUS_URL}/requests/2`]: [500, { error: "boom" }],
      [`${STATUS_URL}/requests/3`]: [200, { state: "teleporting" }],
    });
    expect(await fetchOracleProgress(STATUS_URL, 1n, undefined, fetcher)).toBeNull();
    await expect(fetchOracleProgress(STATUS_URL, 2n, undefined, fetcher)).rejects.toThrow(/HTTP 500/);
    await expect(fetchOracleProgress(STATUS_URL, 3n, undefined, fetcher)).rejects.toThrow();
    await expect(fetchOracleProgress(STATUS_URL, 4n, undefined, fetcher)).rejects.toThrow(/Failed to fetch/);
  });

  it("reads how far the oracle has read, also from an unhealthy (503) report", async () => {
    const { fetcher } = fakeFetch({ [`${STATUS_URL}/healthz`]: [503, { ok: false, escrow: ESCROW, readUpTo: "42", head: "45" }] });
    const health = await fetchOracleHealth(STATUS_URL, undefined, fetcher);
    expect(health).toEqual({ escrow: ESCROW, readUpTo: 42n });
    expect(oracleHasRead(health, ESCROW.toLowerCase(), 42n)).toBe(true);
    expect(oracleHasRead(health, ESCROW, 43n)).toBe(false);
    expect(oracleHasRead(health, "0x0000000000000000000000000000000000000001", 1n)).toBe(false); // another escrow's oracle
    expect(oracleHasRead({ escrow: ESCROW }, ESCROW, 0n)).toBe(false); // nothing read yet
  });

  it("knows when the oracle is done with a request", () => {
    expect(["fulfilled", "rejected", "expired"].every((state) => isFinalOracleState(state as never))).toBe(true);
    expect(isFinalOracleState("posting")).toBe(false);
  });
});
