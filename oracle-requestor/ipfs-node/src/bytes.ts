/**
 * Blockstores (interface-blockstore 7) and request parts hand out bytes as streams of
 * chunks; blocks and uploads here are small enough (≤ the upload cap) to join.
 */
export async function collectBytes(source: Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  if (source instanceof Uint8Array) return source;
  const chunks: Uint8Array[] = [];
  for await (const chunk of source) chunks.push(chunk);
  return chunks.length === 1 ? (chunks[0] as Uint8Array) : Buffer.concat(chunks);
}
