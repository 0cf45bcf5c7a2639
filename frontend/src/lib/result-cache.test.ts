import { describe, expect, it } from "vitest";
import { cachedResult, cacheResult, MAX_CACHED_RESULT_BYTES } from "./result-cache.ts";
import type { KeyValueStore } from "./pending.ts";

function memoryStore(): KeyValueStore {
  const data = new Map<string, string>();
  return { getItem: (k) => data.get(k) ?? null, setItem: (k, v) => void data.set(k, v), removeItem: (k) => void data.delete(k) };
}

describe("result cache", () => {
  it("returns exactly the bytes kept under a CID", () => {
    const store = memoryStore();
    const bytes = new TextEncoder().encode('{"task":"classification","ü":1}');
    cacheResult(store, "bafkreia", bytes);
    expect(cachedResult(store, "bafkreia")).toEqual(bytes);
    expect(cachedResult(store, "bafkreib")).toBeUndefined();
  });

  it("keeps nothing too large, not UTF-8, or when storage refuses", () => {
    const store = memoryStore();
    cacheResult(store, "big", new Uint8Array(MAX_CACHED_RESULT_BYTES + 1).fill(0x20));
    cacheResult(store, "binary", new Uint8Array([0xff, 0xfe]));
    expect(cachedResult(store, "big")).toBeUndefined();
    expect(cachedResult(store, "binary")).toBeUndefined();
    const full: KeyValueStore = {
      ...store,
      setItem: () => {
        throw new Error("QuotaExceededError");
      },
    };
    expect(() => cacheResult(full, "x", new Uint8Array([0x7b, 0x7d]))).not.toThrow();
  });
});
