/**
 * What a model card shows beyond the registry's terms: the model's manifest (human
 * name, description, input size, labels source), fetched from IPFS by the CID the
 * registry records and checked against it; and how long recent requests really took.
 */
import { type ModelManifest, parseManifest } from "@argus/protocol/manifest";

/** The manifest a registry entry names; undefined when it names no CID (then the card shows the terms alone). */
export async function fetchManifest(apiUrl: string, manifestCid: string): Promise<ModelManifest | undefined> {
  if (!/^b[a-z2-7]+$/.test(manifestCid)) return undefined;
  const { readManifestBytes } = await import("../ipfs/ipfs.ts");
  const bytes = await readManifestBytes(apiUrl, manifestCid);
  return parseManifest(JSON.parse(new TextDecoder().decode(bytes)), `manifest ${manifestCid}`);
}

/**
 * The self-test score (share of the model's reference images it classifies as expected)
 * once manifests carry it (the model-catalog issue adds it). HOOK: until the manifest
 * schema has the field, this reads nothing and the card shows no score.
 */
export function selfTestScore(manifest: ModelManifest | undefined): number | undefined {
  const score = (manifest as { selfTest?: { score?: unknown } } | undefined)?.selfTest?.score;
  return typeof score === "number" && score >= 0 && score <= 1 ? score : undefined;
}

/** The typical wait from recent answered requests (seconds from request block to answer block): the median. */
export function typicalWait(durations: readonly number[]): number | undefined {
  if (durations.length === 0) return undefined;
  const sorted = [...durations].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : Math.round((sorted[middle - 1]! + sorted[middle]!) / 2);
}

/** "usually ~3 s", "usually ~2 min". */
export function describeWait(seconds: number): string {
  if (seconds < 90) return `usually ~${Math.max(1, seconds)} s`;
  if (seconds < 90 * 60) return `usually ~${Math.round(seconds / 60)} min`;
  return `usually ~${Math.round(seconds / 3600)} h`;
}
