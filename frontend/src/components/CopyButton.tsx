/**
 * Copies an id, CID, hash or address to the clipboard, and says so: "Copied" shows beside
 * the button for a moment and the page's one polite live region announces it (no live
 * region of its own). Named "Copy <what>" for screen readers and voice control.
 */
import { useEffect, useRef, useState } from "react";
import { announce } from "./LiveRegion.tsx";

/** How long the button reads "Copied". */
export const COPIED_MS = 1500;

export function CopyButton({ value, label }: { value: string; label: string }) {
  const [copied, setCopied] = useState(false);
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);
  async function copy() {
    if (!(await writeClipboard(value))) {
      announce(`Could not copy the ${label}: the browser refused clipboard access.`);
      return;
    }
    setCopied(true);
    announce(`Copied the ${label}.`);
    clearTimeout(timer.current);
    timer.current = setTimeout(() => setCopied(false), COPIED_MS);
  }
  // The button's text stays "Copy", part of its name "Copy <what>" (WCAG 2.5.3); the "Copied" note beside it is for
  // the eyes only: screen readers hear the live region.
  return (
    <>
      <button
        type="button"
        className="secondary small copy"
        onClick={() => void copy()}
        aria-label={`Copy ${label}`}
        data-copied={copied || undefined}
      >
        Copy
      </button>
      {copied && (
        <span className="copied-note" aria-hidden="true" data-testid="copied">
          Copied
        </span>
      )}
    </>
  );
}

/**
 * Writes `text` to the clipboard: the Clipboard API, or where it is missing (a page
 * served over plain HTTP from another host than localhost) or refuses, the old
 * select-and-copy command. False when neither worked.
 */
export async function writeClipboard(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "visually-hidden";
    const focused = document.activeElement as HTMLElement | null;
    document.body.append(area);
    area.select();
    try {
      return document.execCommand("copy");
    } catch {
      return false;
    } finally {
      area.remove();
      focused?.focus();
    }
  }
}

/** A long value shown shortened (in full on hover and to copy), with its copy button; linked when `href` is given. */
export function CopyableValue({
  value,
  label,
  short,
  href,
  testId,
  className,
}: {
  value: string;
  /** What it is, as the button names it: "image CID" → "Copy image CID". */
  label: string;
  /** What to show instead of the whole value. */
  short: string;
  href?: string | undefined;
  testId?: string;
  className?: string;
}) {
  const code = (
    <code className={className} title={value} data-testid={testId}>
      {short}
    </code>
  );
  return (
    <span className="copyable">
      {href === undefined ? (
        code
      ) : (
        <a href={href} target="_blank" rel="noreferrer">
          {code}
        </a>
      )}
      <CopyButton value={value} label={label} />
    </span>
  );
}
