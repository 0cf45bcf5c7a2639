/** Copies an id, CID, hash or address to the clipboard, and says so. */
import { useState } from "react";
import { announce } from "./LiveRegion.tsx";

export function CopyButton({ value, label }: { value: string; label: string }) {
  const [copied, setCopied] = useState(false);
  async function copy() {
    try {
      await navigator.clipboard.writeText(value);
      setCopied(true);
      announce(`Copied the ${label}.`);
      setTimeout(() => setCopied(false), 1500);
    } catch {
      announce(`Could not copy the ${label}: the browser refused clipboard access.`);
    }
  }
  return (
    <button type="button" className="secondary small copy" onClick={() => void copy()} aria-label={`Copy the ${label}`}>
      {copied ? "Copied" : "Copy"}
    </button>
  );
}
