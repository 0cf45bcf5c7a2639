/**
 * Verified result documents kept in localStorage by CID. A CID names its bytes forever,
 * so a result once fetched need never be fetched again; it is still re-verified (a
 * sha256 in the browser) every time it is shown, and a copy that fails is fetched
 * afresh. Only small documents are kept (results are a few KiB).
 */
import type { KeyValueStore } from "./pending.ts";

/** Results larger than this are not cached (they would crowd the origin's few MiB of storage). */
export const MAX_CACHED_RESULT_BYTES = 64 * 1024;

const key = (cid: string) => `argus:result:${cid}`;

export function cachedResult(store: KeyValueStore | undefined, cid: string): Uint8Array | undefined {
  const text = store?.getItem(key(cid));
  // Copied into a plain Uint8Array of this realm (some environments' TextEncoder answer with another realm's).
  return text == null ? undefined : new Uint8Array(new TextEncoder().encode(text));
}

/** Keeps `bytes` (a result document: UTF-8 JSON) under its CID; a full or disabled storage keeps nothing. */
export function cacheResult(store: KeyValueStore | undefined, cid: string, bytes: Uint8Array): void {
  if (store === undefined || bytes.byteLength > MAX_CACHED_RESULT_BYTES) return;
  try {
    store.setItem(key(cid), new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    // Not UTF-8 (then not a result) or over quota: fetch it next time.
  }
}

export function resultStore(): KeyValueStore | undefined {
  try {
    return globalThis.localStorage;
  } catch {
    return undefined;
  }
}
