/**
 * What a model card shows beyond the registry's terms and its manifest (read by
 * `useManifest`, checked against the registry's CID): how long recent requests really took.
 */

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
