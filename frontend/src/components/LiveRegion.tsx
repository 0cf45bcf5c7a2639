/**
 * The page's one polite live region: every status update a screen reader should hear
 * (pinning, paying, the request's steps, the answer) is announced here, rather than by
 * many `role=status` elements that talk over each other. Errors stay `role=alert`.
 */
import { useEffect, useSyncExternalStore } from "react";

let message = "";
const listeners = new Set<() => void>();

/** Says `text` politely (a repeated text is said again). */
export function announce(text: string): void {
  // A zero-width space toggles so that the same words twice still count as a change.
  message = message.replace(/\u200b$/, "") === text ? (message.endsWith("\u200b") ? text : `${text}\u200b`) : text;
  for (const listener of listeners) listener();
}

/** Announces `text` whenever it changes (nothing while undefined). */
export function useAnnouncement(text: string | undefined): void {
  useEffect(() => {
    if (text) announce(text);
  }, [text]);
}

export function LiveRegion() {
  const text = useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => message,
    () => "",
  );
  return (
    <div className="visually-hidden" aria-live="polite" aria-atomic="true" data-testid="live-region">
      {text}
    </div>
  );
}
