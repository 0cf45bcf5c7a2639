/**
 * The one query that fetches and verifies a request's result, shared by the result
 * panel and the history rows (same key: one fetch, one cache entry). The fetching code
 * (kubo-rpc-client) loads on demand.
 */
import type { RecordedAnswer, RequestedInference, ResultVerification } from "@argus/protocol/verify-result";

export function resultQuery(apiUrl: string, request: RequestedInference, answer: RecordedAnswer & { resultDigest: `0x${string}` }) {
  return {
    queryKey: ["result", answer.resultDigest, request.requestId.toString(), request.modelName, request.imageCid],
    queryFn: async (): Promise<ResultVerification> => {
      const { fetchAndVerifyResult } = await import("./fetch-result.ts");
      return fetchAndVerifyResult(apiUrl, request, answer);
    },
    staleTime: Number.POSITIVE_INFINITY,
    retry: 1,
  } as const;
}
