/**
 * Checking a result against the chain, in the browser: the bytes fetched from IPFS must
 * hash (sha256) to the digest the escrow recorded, parse as a result of the shared
 * schema, be about this request, and agree with the on-chain summary (top class and
 * score). Only then is the result shown as verified.
 */
import { resultBytesMatchDigest } from "@argus/provider-image/protocol/cid";
import {
  type InferenceResult,
  InferenceResultSchema,
  isErrorResult,
  onChainSummary,
} from "@argus/provider-image/protocol/result";

export interface OnChainAnswer {
  requestId: bigint;
  resultDigest: `0x${string}`;
  topClass: number;
  topScore: number;
}

export type Verification =
  | { verified: true; result: InferenceResult }
  /** `result` is present when the bytes parsed, so a mismatch can still be inspected. */
  | { verified: false; problem: string; result?: InferenceResult };

export async function verifyResult(bytes: Uint8Array, answer: OnChainAnswer): Promise<Verification> {
  if (!(await resultBytesMatchDigest(bytes, answer.resultDigest))) {
    return {
      verified: false,
      problem: "The bytes served by IPFS do not hash to the digest the contract recorded: this is not the recorded answer.",
    };
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    return { verified: false, problem: "The recorded result is not JSON text." };
  }
  const parsed = InferenceResultSchema.safeParse(json);
  if (!parsed.success) {
    return { verified: false, problem: "The recorded result does not follow the Argus result schema." };
  }
  const result = parsed.data;
  if (result.requestId !== answer.requestId.toString()) {
    return { verified: false, problem: `The recorded result is about request ${result.requestId}, not this one.`, result };
  }
  if (!isErrorResult(result)) {
    const summary = onChainSummary(result);
    if (summary.topClass !== answer.topClass || summary.topScore !== answer.topScore) {
      return {
        verified: false,
        problem: "The result's top prediction differs from the summary the contract recorded.",
        result,
      };
    }
  }
  return { verified: true, result };
}
