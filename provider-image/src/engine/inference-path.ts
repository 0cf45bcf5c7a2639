/**
 * How an int8 network is computed on this CPU, chosen so that the answer is the same
 * on every CPU: the bits of the ISA-independent reference graph (reference-graph.ts).
 *
 * - `native-int8`: the network as published, on onnxruntime's native u8×s8 kernels —
 *   exact where they accumulate in 32 bits (x86 with VNNI), the fastest path.
 * - `native-u8u8`: the same network with weights shifted to uint8 (unsigned-weights-graph.ts),
 *   on the u8×u8 kernels, which never saturate — for AVX2-only x86.
 * - `qdq-reference`: the reference graph itself, on float kernels — anywhere else.
 * - `native-float`: a float network; it has no integer arithmetic to make exact.
 *
 * The choice is measured, not guessed from CPU flags: a probe network holding the
 * kernels' known failure cases (u8×s8 products whose pair sums overflow 16 bits, and
 * QLinearAdd over every pair of input bytes) runs on each candidate path, and the first
 * whose output equals the reference's bit for bit wins. The probe takes a few
 * milliseconds, once per process.
 */
import { InferenceSession, type Tensor } from "onnxruntime-node";
import { probeNetwork } from "./probe-network.ts";
import { referenceGraph, referenceSessionOptions } from "./reference-graph.ts";
import { unsignedWeightsGraph } from "./unsigned-weights-graph.ts";

import type { InferencePath } from "@argus/protocol/result";

export type { InferencePath };
export const INT8_PATHS = ["native-int8", "native-u8u8", "qdq-reference"] as const satisfies readonly InferencePath[];
export type Int8Path = (typeof INT8_PATHS)[number];

/** The bytes and session options that compute `weights` (an int8 network) on `path`. */
export function int8Graph(weights: Uint8Array, path: Int8Path): { bytes: Uint8Array; options: InferenceSession.SessionOptions } {
  switch (path) {
    case "native-int8":
      return { bytes: weights, options: { graphOptimizationLevel: "all" } };
    case "native-u8u8":
      return { bytes: unsignedWeightsGraph(weights), options: { graphOptimizationLevel: "all" } };
    case "qdq-reference":
      return { bytes: referenceGraph(weights), options: referenceSessionOptions as InferenceSession.SessionOptions };
  }
}

let chosen: Promise<Int8Path> | undefined;

/** The fastest path whose answers equal the reference's on this CPU (measured once per process). */
export function fastestExactPath(): Promise<Int8Path> {
  chosen ??= measureFastestExactPath();
  return chosen;
}

/** What each path gives on the probe network, against the reference: for `bench:inference` and the closing notes. */
export async function probeAllPaths(): Promise<Record<Int8Path, boolean>> {
  const { model, feeds } = probeNetwork();
  const reference = await runProbe(model, "qdq-reference", feeds);
  const verdicts = {} as Record<Int8Path, boolean>;
  for (const path of INT8_PATHS) verdicts[path] = sameBits(await runProbe(model, path, feeds), reference);
  return verdicts;
}

async function measureFastestExactPath(): Promise<Int8Path> {
  const { model, feeds } = probeNetwork();
  const reference = await runProbe(model, "qdq-reference", feeds);
  for (const path of ["native-int8", "native-u8u8"] as const) {
    if (sameBits(await runProbe(model, path, feeds), reference)) return path;
  }
  return "qdq-reference";
}

async function runProbe(model: Uint8Array, path: Int8Path, feeds: Record<string, Tensor>): Promise<Uint8Array[]> {
  const { bytes, options } = int8Graph(model, path);
  const session = await InferenceSession.create(bytes, {
    ...options,
    executionProviders: ["cpu"],
    intraOpNumThreads: 1,
    logSeverityLevel: 3,
  });
  try {
    const outputs = await session.run(feeds);
    return session.outputNames.map((name) => outputs[name]!.data as Uint8Array);
  } finally {
    await session.release();
  }
}

function sameBits(a: readonly Uint8Array[], b: readonly Uint8Array[]): boolean {
  return a.length === b.length && a.every((values, index) => Buffer.from(values).equals(Buffer.from(b[index]!)));
}
