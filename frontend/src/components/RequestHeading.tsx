/**
 * The top of a request's page, which the entry chunk shows too while the app loads
 * (main.tsx): the way back, the title with the id, and the loading state, with the
 * request's photo as soon as it is known. Light on purpose: it is part of the entry chunk.
 */
import { requestIdHex, shortHex } from "../lib/format.ts";
import { onLinkClick } from "../lib/route.ts";
import { CopyButton } from "./CopyButton.tsx";

export function BackLink() {
  return (
    <p className="back">
      <a href="/" onClick={(event) => onLinkClick(event, "/")}>
        ← New request
      </a>
    </p>
  );
}

export function RequestTitle({ requestId }: { requestId: bigint }) {
  const id = requestIdHex(requestId);
  return (
    <div className="title-row">
      <h1 id="request-title">
        Request <code title={id}>{shortHex(id, 8, 6)}</code>
      </h1>
      <CopyButton value={id} label="request ID" />
    </div>
  );
}

/** While the request is read: the photo where the tracker will show it, when already known. */
export function RequestLoading({ imageUrl }: { imageUrl?: string | undefined }) {
  return (
    <div className="request-loading" aria-busy="true">
      <p className="muted status-line">Reading the request from the chain…</p>
      {imageUrl !== undefined && (
        <div className="request-body">
          <img className="request-image" src={imageUrl} alt="What the model was asked about" />
        </div>
      )}
    </div>
  );
}
