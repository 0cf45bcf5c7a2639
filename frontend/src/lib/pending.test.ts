import { describe, expect, it } from "vitest";
import { addPending, type KeyValueStore, pendingKey, readPending, removePending } from "./pending.ts";

function memoryStore(): KeyValueStore & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return {
    data,
    getItem: (key) => data.get(key) ?? null,
    setItem: (key, value) => void data.set(key, value),
    removeItem: (key) => void data.delete(key),
  };
}

describe("pending requests", () => {
  const key = pendingKey(31337, "0xAbC0000000000000000000000000000000000001");

  it("keys by chain and lower-cased account, so another account or chain sees nothing", () => {
    expect(key).toBe("argus:pending:31337:0xabc0000000000000000000000000000000000001");
    const store = memoryStore();
    addPending(store, key, { requestId: "0x1", modelName: "m", paidAt: 1 });
    expect(readPending(store, pendingKey(1, "0xabc0000000000000000000000000000000000001"))).toEqual([]);
    expect(readPending(store, key)).toHaveLength(1);
  });

  it("lists newest first, without duplicates, and forgets settled ones", () => {
    const store = memoryStore();
    addPending(store, key, { requestId: "0x1", modelName: "a", paidAt: 1 });
    addPending(store, key, { requestId: "0x2", modelName: "b", paidAt: 2 });
    addPending(store, key, { requestId: "0x1", modelName: "a", paidAt: 3 });
    expect(readPending(store, key).map((entry) => entry.requestId)).toEqual(["0x1", "0x2"]);
    removePending(store, key, "0x1");
    removePending(store, key, "0x2");
    expect(store.data.has(key)).toBe(false);
  });

  it("treats unreadable storage as empty and drops malformed entries", () => {
    const store = memoryStore();
    store.setItem(key, "{not json");
    expect(readPending(store, key)).toEqual([]);
    store.setItem(key, JSON.stringify([{ requestId: "nope" }, { requestId: "0xa", modelName: "m", paidAt: 5 }]));
    expect(readPending(store, key)).toEqual([{ requestId: "0xa", modelName: "m", paidAt: 5 }]);
  });
});
