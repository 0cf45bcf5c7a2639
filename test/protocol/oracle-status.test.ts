/**
 * The oracle status API as its readers (the web UI, the CLI) fetch it, against a fake
 * fetch that answers as the status server does.
 */
import { expect } from "chai";
import { fetchOracleHealth, fetchOracleRequest, isFinalOracleState, ORACLE_STATES, oracleHasRead } from "@argus/protocol/oracle-status";

const STATUS_URL = "http://127.0.0.1:9464";
const ESCROW = "0x5FbDB2315678afecb367f032d93F642f64180aa3";

/** A fetch that answers each URL with a status and JSON body, and records the URLs asked. */
function fakeFetch(answers: Record<string, [number, unknown]>) {
  const asked: string[] = [];
  const fetcher = (async (input: Parameters<typeof fetch>[0]) => {
    const url = String(input);
    asked.push(url);
    const answer = answers[url];
    if (answer === undefined) throw new TypeError("Failed to fetch");
    return new Response(JSON.stringify(answer[1]), { status: answer[0], headers: { "content-type": "application/json" } });
  }) as typeof fetch;
  return { fetcher, asked };
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => expect.fail("expected a rejection"),
    (error: Error) => error,
  );
}

describe("protocol: the oracle status API", function () {
  it("reads a request's record as the server serialises it (decimal id, other fields passed through)", async function () {
    const id = 123456789012345678901234567890n;
    const { fetcher, asked } = fakeFetch({
      [`${STATUS_URL}/requests/${id}`]: [
        200,
        {
          requestId: id.toString(),
          state: "rejecting",
          error: "not an image",
          rejectReason: 1,
          rejectReasonName: "NotAnImage",
          resultCid: null,
          fee: "1000",
          attempts: 2,
        },
      ],
    });
    expect(await fetchOracleRequest(STATUS_URL, id, undefined, fetcher)).to.deep.include({
      state: "rejecting",
      rejectReason: 1,
      rejectReasonName: "NotAnImage",
      error: "not an image",
      resultCid: null,
      attempts: 2,
      fee: "1000",
    });
    expect(asked).to.deep.equal([`${STATUS_URL}/requests/123456789012345678901234567890`]);
  });

  it("gives null for a request the oracle has not seen (404), and fails on anything unexpected", async function () {
    const { fetcher } = fakeFetch({
      [`${STATUS_URL}/requests/1`]: [404, { error: "this oracle has not seen that request" }],
      [`${STATUS_URL}/requests/2`]: [500, { error: "boom" }],
      [`${STATUS_URL}/requests/3`]: [200, { state: "teleporting" }],
    });
    expect(await fetchOracleRequest(STATUS_URL, 1n, undefined, fetcher)).to.equal(null);
    expect((await rejection(fetchOracleRequest(STATUS_URL, 2n, undefined, fetcher))).message).to.match(/HTTP 500/);
    await rejection(fetchOracleRequest(STATUS_URL, 3n, undefined, fetcher));
    expect((await rejection(fetchOracleRequest(STATUS_URL, 4n, undefined, fetcher))).message).to.match(/Failed to fetch/);
  });

  it("reads how far the oracle has read, also from an unhealthy (503) report", async function () {
    const { fetcher } = fakeFetch({ [`${STATUS_URL}/healthz`]: [503, { ok: false, escrow: ESCROW, readUpTo: "42", head: "45" }] });
    const health = await fetchOracleHealth(STATUS_URL, undefined, fetcher);
    expect(health).to.deep.equal({ escrow: ESCROW, readUpTo: 42n });
    expect(oracleHasRead(health, ESCROW.toLowerCase(), 42n)).to.equal(true);
    expect(oracleHasRead(health, ESCROW, 43n)).to.equal(false);
    expect(oracleHasRead(health, "0x0000000000000000000000000000000000000001", 1n)).to.equal(false); // another escrow's oracle
    expect(oracleHasRead({ escrow: ESCROW }, ESCROW, 0n)).to.equal(false); // nothing read yet
  });

  it("knows when the oracle is done with a request", function () {
    expect(ORACLE_STATES.filter(isFinalOracleState)).to.deep.equal(["fulfilled", "rejected", "expired"]);
  });
});
