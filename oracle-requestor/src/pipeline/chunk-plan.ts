/**
 * Which ready requests run together. Per model, oldest first: a chunk is cut when it
 * holds `maxSize` requests or `maxBytes` of images, and a partial chunk goes only once
 * its oldest request has waited `flushIntervalMs`. Models take turns by the age of
 * their oldest request, so a busy model cannot starve a quiet one.
 */
export interface ChunkCandidate {
  requestId: bigint;
  modelId: number;
  imageSize: number;
  receivedAt: number;
}

export interface ChunkPlanOptions {
  maxSize: number;
  maxBytes: number;
  flushIntervalMs: number;
}

export function planChunks<T extends ChunkCandidate>(ready: readonly T[], options: ChunkPlanOptions, now: number, limit: number): T[][] {
  const byModel = new Map<number, T[]>();
  for (const request of [...ready].sort((a, b) => a.receivedAt - b.receivedAt)) {
    const queue = byModel.get(request.modelId) ?? [];
    queue.push(request);
    byModel.set(request.modelId, queue);
  }

  const chunks: T[][] = [];
  for (const queue of byModel.values()) {
    let current: T[] = [];
    let bytes = 0;
    for (const request of queue) {
      if (current.length > 0 && (current.length === options.maxSize || bytes + request.imageSize > options.maxBytes)) {
        chunks.push(current);
        [current, bytes] = [[], 0];
      }
      current.push(request);
      bytes += request.imageSize;
    }
    const full = current.length === options.maxSize || bytes >= options.maxBytes;
    if (current.length > 0 && (full || now - current[0]!.receivedAt >= options.flushIntervalMs)) chunks.push(current);
  }
  return chunks.sort((a, b) => a[0]!.receivedAt - b[0]!.receivedAt).slice(0, limit);
}
