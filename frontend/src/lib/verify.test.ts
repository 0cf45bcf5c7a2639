import { resultBytes, resultSha256 } from "@argus/provider-image/protocol/result";
import { bytesToHex } from "viem";
import { describe, expect, it } from "vitest";
import { classification, detection } from "../test-fixtures.ts";
import { verifyResult } from "./verify.ts";

async function onChain(result: typeof classification | typeof detection, top: { topClass: number; topScore: number }) {
  return { requestId: BigInt(result.requestId), resultDigest: bytesToHex(await resultSha256(result)), ...top };
}

describe("verifyResult", () => {
  it("accepts the canonical bytes whose sha256 the contract recorded", async () => {
    const answer = await onChain(classification, { topClass: 281, topScore: 6123 });
    const outcome = await verifyResult(resultBytes(classification), answer);
    expect(outcome.verified).toBe(true);
    expect(outcome.result).toEqual(classification);
  });

  it("uses the best detection as the detector's summary", async () => {
    const answer = await onChain(detection, { topClass: 0, topScore: 8300 });
    expect((await verifyResult(resultBytes(detection), answer)).verified).toBe(true);
  });

  it("refuses bytes that differ from the recorded digest by one byte", async () => {
    const answer = await onChain(classification, { topClass: 281, topScore: 6123 });
    const tampered = resultBytes({ ...classification, top5: [{ ...classification.top5[0]!, score: 0.7123 }, ...classification.top5.slice(1)] });
    const outcome = await verifyResult(tampered, answer);
    expect(outcome.verified).toBe(false);
    expect(outcome.verified ? "" : outcome.problem).toMatch(/do not hash to the digest/);
  });

  it("refuses a genuine result recorded for another request", async () => {
    const answer = { ...(await onChain(classification, { topClass: 281, topScore: 6123 })), requestId: 42n };
    const outcome = await verifyResult(resultBytes(classification), answer);
    expect(outcome).toMatchObject({ verified: false, problem: expect.stringMatching(/not this one/) });
  });

  it("refuses a result whose top prediction disagrees with the on-chain summary", async () => {
    const answer = await onChain(classification, { topClass: 282, topScore: 6123 });
    const outcome = await verifyResult(resultBytes(classification), answer);
    expect(outcome).toMatchObject({ verified: false, problem: expect.stringMatching(/top prediction differs/) });
  });

  it("refuses matching bytes that are not a result document", async () => {
    const bytes = new TextEncoder().encode('{"hello":"world"}');
    const digest = bytesToHex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)));
    const outcome = await verifyResult(bytes, { requestId: 1n, resultDigest: digest, topClass: 0, topScore: 0 });
    expect(outcome).toMatchObject({ verified: false, problem: expect.stringMatching(/schema/) });
  });
});
