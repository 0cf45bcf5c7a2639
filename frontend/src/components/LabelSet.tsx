/**
 * A model's label set on its card: a disclosure that, once opened, reads the label file
 * the manifest pins (checked against its sha256) and lists it with a filter. Long sets
 * (ImageNet's 1000 classes) show the first matches only, with how many more there are.
 */
import { useDeferredValue, useEffect, useId, useState } from "react";
import { useLabels } from "../hooks.ts";
import { filterLabels, type LabelsFile } from "../lib/labels.ts";
import { announce } from "./LiveRegion.tsx";

/** How many matching labels are listed at once. */
export const LABEL_LIST_LIMIT = 100;

/** How long typing must pause before the match count is announced. */
const ANNOUNCE_AFTER_MS = 600;

export function LabelSet({ file, modelName }: { file: LabelsFile; modelName: string }) {
  const [open, setOpen] = useState(false);
  const labels = useLabels(file, open);
  return (
    <details className="label-set" onToggle={(event) => setOpen(event.currentTarget.open)} data-testid="label-set">
      <summary>
        Label set<span className="visually-hidden"> of {modelName}</span>
        {labels.data ? ` · ${labels.data.length} classes` : ""}
      </summary>
      {open &&
        (labels.isPending ? (
          <p className="muted" aria-busy="true">
            Reading the label list…
          </p>
        ) : labels.error ? (
          <div role="alert">
            <p className="warning-text">{labels.error.message}</p>
            <button type="button" className="secondary small" onClick={() => void labels.refetch()}>
              Try again
            </button>
          </div>
        ) : (
          <LabelFilter labels={labels.data} />
        ))}
    </details>
  );
}

/** The labels with their class indices, filtered by what is typed. */
export function LabelFilter({ labels, limit = LABEL_LIST_LIMIT }: { labels: readonly string[]; limit?: number }) {
  const [query, setQuery] = useState("");
  const shownQuery = useDeferredValue(query);
  const { matches, total } = filterLabels(labels, shownQuery, limit);
  const inputId = useId();
  const countId = useId();
  const needle = shownQuery.trim();
  const count =
    needle === ""
      ? `${labels.length} labels`
      : total === 0
        ? `No label matches “${needle}”`
        : `${total} of ${labels.length} labels match “${needle}”`;
  // Said once typing pauses, through the page's one live region.
  useEffect(() => {
    if (needle === "") return;
    const timer = setTimeout(() => announce(`${count}.`), ANNOUNCE_AFTER_MS);
    return () => clearTimeout(timer);
  }, [needle, count]);
  return (
    <div className="label-filter">
      <label htmlFor={inputId}>Find a label</label>
      <input
        id={inputId}
        type="search"
        value={query}
        onChange={(event) => setQuery(event.target.value)}
        autoComplete="off"
        spellCheck={false}
        aria-describedby={countId}
      />
      <p id={countId} className="muted" data-testid="label-count">
        {count}
      </p>
      {matches.length > 0 && (
        // biome-ignore lint/a11y/noNoninteractiveTabindex: it scrolls, so keyboard users must reach it to scroll it (axe scrollable-region-focusable)
        <ul className="label-list" tabIndex={0} aria-label="Labels, by class index">
          {matches.map((match) => (
            <li key={match.index}>
              <span className="class-index" title="Class index">
                {match.index}
              </span>{" "}
              {match.label}
            </li>
          ))}
        </ul>
      )}
      {total > matches.length && (
        <p className="muted" data-testid="label-more">
          {total - matches.length} more — type to narrow the list.
        </p>
      )}
    </div>
  );
}
