/**
 * The app's two places, as URLs: `/` (choose, pay) and `/r/<requestId>` (one request,
 * shareable, readable without a wallet). The History API is enough for two routes; a
 * router library would cost bundle budget for nothing.
 */
import { useSyncExternalStore } from "react";

export type Route = { page: "home" } | { page: "request"; requestId: bigint } | { page: "not-found"; path: string };

const REQUEST_PATH = /^\/r\/(0x[0-9a-fA-F]{1,64}|[0-9]{1,78})\/?$/;
const UINT256_MAX = (1n << 256n) - 1n;

/** The route a path names (ids in hex, as the app writes them, or decimal, as the CLI prints them). */
export function parseRoute(path: string): Route {
  if (path === "/" || path === "" || path === "/index.html") return { page: "home" };
  const match = REQUEST_PATH.exec(path);
  if (match) {
    const requestId = BigInt(match[1]!);
    if (requestId <= UINT256_MAX) return { page: "request", requestId };
  }
  return { page: "not-found", path };
}

/** The path of a request's page. */
export function requestPath(requestId: bigint): string {
  return `/r/0x${requestId.toString(16)}`;
}

const listeners = new Set<() => void>();
function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  window.addEventListener("popstate", listener);
  return () => {
    listeners.delete(listener);
    window.removeEventListener("popstate", listener);
  };
}

/** Goes to `path` without reloading (history entry added), and scrolls to the top as a page load would. */
export function navigate(path: string): void {
  if (path === location.pathname) return;
  history.pushState(null, "", path);
  window.scrollTo(0, 0);
  for (const listener of listeners) listener();
}

/** The current path, re-rendering on navigation and back/forward. */
export function usePath(): string {
  return useSyncExternalStore(
    subscribe,
    () => location.pathname,
    () => "/",
  );
}

/** Follows in-app links without a reload (modifier clicks open new tabs as usual). */
export function onLinkClick(
  event: { button: number; metaKey: boolean; ctrlKey: boolean; shiftKey: boolean; altKey: boolean; preventDefault(): void },
  path: string,
) {
  if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  navigate(path);
}
