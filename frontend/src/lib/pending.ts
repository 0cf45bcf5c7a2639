/**
 * Requests this browser paid for and has not yet seen settled, kept in localStorage per
 * account and chain, so a reload (or a closed tab) loses nothing: the activity list in
 * the header links back to each one's page until its outcome is on-chain.
 */
import { useSyncExternalStore } from "react";

export interface PendingRequest {
  /** The request id as 0x-hex (JSON has no bigint). */
  requestId: `0x${string}`;
  modelName: string;
  /** When it was paid, ms since the epoch (this browser's clock: only for display). */
  paidAt: number;
}

/** What the list lives in: localStorage in the app, a Map in tests. */
export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export function pendingKey(chainId: number, account: string): string {
  return `argus:pending:${chainId}:${account.toLowerCase()}`;
}

/** The list, newest first; an unreadable entry (another version, hand-edited) counts as empty. */
export function readPending(store: KeyValueStore, key: string): PendingRequest[] {
  try {
    const parsed: unknown = JSON.parse(store.getItem(key) ?? "[]");
    if (!Array.isArray(parsed)) return [];
    return parsed.filter(
      (entry): entry is PendingRequest =>
        typeof entry === "object" &&
        entry !== null &&
        typeof entry.requestId === "string" &&
        /^0x[0-9a-f]+$/.test(entry.requestId) &&
        typeof entry.modelName === "string" &&
        typeof entry.paidAt === "number",
    );
  } catch {
    return [];
  }
}

export function addPending(store: KeyValueStore, key: string, request: PendingRequest): void {
  const rest = readPending(store, key).filter((entry) => entry.requestId !== request.requestId);
  store.setItem(key, JSON.stringify([request, ...rest]));
  notify();
}

export function removePending(store: KeyValueStore, key: string, requestId: `0x${string}`): void {
  const list = readPending(store, key);
  const rest = list.filter((entry) => entry.requestId !== requestId);
  if (rest.length === list.length) return;
  if (rest.length === 0) store.removeItem(key);
  else store.setItem(key, JSON.stringify(rest));
  notify();
}

const listeners = new Set<() => void>();
function notify() {
  for (const listener of listeners) listener();
}

function browserStore(): KeyValueStore | undefined {
  try {
    return globalThis.localStorage;
  } catch {
    return undefined; // storage disabled: nothing persists, nothing breaks
  }
}

/** The pending list of `account` on `chainId`, kept in step across components and tabs. */
export function usePending(chainId: number, account: string | undefined): PendingRequest[] {
  const key = account === undefined ? undefined : pendingKey(chainId, account);
  const raw = useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      globalThis.addEventListener?.("storage", listener);
      return () => {
        listeners.delete(listener);
        globalThis.removeEventListener?.("storage", listener);
      };
    },
    () => (key === undefined ? null : (browserStore()?.getItem(key) ?? null)),
    () => null,
  );
  // Parsed from the raw string so the snapshot stays stable between renders.
  return raw === null || key === undefined ? EMPTY : parseCached(raw, key);
}

const EMPTY: PendingRequest[] = [];
let cache: { raw: string; list: PendingRequest[] } | undefined;
function parseCached(raw: string, key: string): PendingRequest[] {
  if (cache?.raw !== raw) cache = { raw, list: readPending({ getItem: () => raw, setItem() {}, removeItem() {} }, key) };
  return cache.list;
}

export const pendingStore = {
  add(chainId: number, account: string, request: PendingRequest) {
    const store = browserStore();
    if (store) addPending(store, pendingKey(chainId, account), request);
  },
  remove(chainId: number, account: string, requestId: `0x${string}`) {
    const store = browserStore();
    if (store) removePending(store, pendingKey(chainId, account), requestId);
  },
};
