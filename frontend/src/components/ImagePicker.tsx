/**
 * Choosing an image: drop it or pick it, see it, have its size and format checked
 * before anything leaves the machine, then pin it to IPFS with visible progress.
 */
import { type DragEvent, useEffect, useId, useRef, useState } from "react";
import { formatBytes, MAX_IMAGE_BYTES } from "@argus/protocol/limits";
import { ACCEPTED_MIME_TYPES, checkImageFile } from "../lib/image-file.ts";
import { useDeployment } from "../hooks.ts";
import { ErrorNotice } from "./ErrorNotice.tsx";

export interface PinnedImage {
  cid: string;
  previewUrl: string;
  name: string;
}

type State =
  | { stage: "empty" }
  | { stage: "invalid"; message: string }
  | { stage: "ready" | "uploading" | "failed" | "pinned"; file: File; previewUrl: string; loaded: number; cid?: string; error?: unknown };

const loadIpfs = () => import("../ipfs/ipfs.ts");

export function ImagePicker({ onPinned, onCleared }: { onPinned: (image: PinnedImage) => void; onCleared: () => void }) {
  const deployment = useDeployment();
  const [state, setState] = useState<State>({ stage: "empty" });
  const [dragging, setDragging] = useState(false);
  const inputId = useId();
  const hintId = useId();
  const abort = useRef<AbortController | undefined>(undefined);
  const previewUrl = "previewUrl" in state ? state.previewUrl : undefined;

  useEffect(
    () => () => {
      if (previewUrl) URL.revokeObjectURL(previewUrl);
    },
    [previewUrl],
  );
  useEffect(() => () => abort.current?.abort(), []);

  async function choose(file: File | undefined) {
    abort.current?.abort();
    onCleared();
    if (file === undefined) return setState({ stage: "empty" });
    const check = await checkImageFile(file);
    if (!check.ok) return setState({ stage: "invalid", message: check.message });
    void loadIpfs(); // warm the IPFS client while the user looks at the preview
    setState({ stage: "ready", file, previewUrl: URL.createObjectURL(file), loaded: 0 });
  }

  async function upload() {
    if (state.stage !== "ready" && state.stage !== "failed") return;
    const { file, previewUrl: url } = state;
    const controller = new AbortController();
    abort.current = controller;
    setState({ stage: "uploading", file, previewUrl: url, loaded: 0 });
    try {
      const { uploadImage } = await loadIpfs();
      const cid = await uploadImage(
        deployment.ipfs.apiUrl,
        file,
        (loaded) => setState((current) => (current.stage === "uploading" ? { ...current, loaded } : current)),
        controller.signal,
      );
      setState({ stage: "pinned", file, previewUrl: url, loaded: file.size, cid });
      onPinned({ cid, previewUrl: url, name: file.name });
    } catch (error) {
      if (controller.signal.aborted) return;
      setState({ stage: "failed", file, previewUrl: url, loaded: 0, error });
    }
  }

  function onDrop(event: DragEvent) {
    event.preventDefault();
    setDragging(false);
    void choose(event.dataTransfer.files[0]);
  }

  return (
    <div className="image-picker">
      {/* A drop target for files dragged from elsewhere; the file input inside is the keyboard path. */}
      <section
        aria-label="Image drop zone"
        className={`dropzone${dragging ? " dragging" : ""}`}
        onDragOver={(event) => {
          event.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
      >
        <input
          id={inputId}
          className="visually-hidden"
          type="file"
          accept={ACCEPTED_MIME_TYPES.join(",")}
          aria-describedby={hintId}
          onChange={(event) => void choose(event.target.files?.[0])}
        />
        <label htmlFor={inputId} className="button-like">
          Choose an image
        </label>
        <p id={hintId} className="muted">
          or drop it here · JPEG, PNG, WebP, GIF or AVIF, at most {formatBytes(MAX_IMAGE_BYTES)}. Pinned images are public.
        </p>
      </section>

      {state.stage === "invalid" && (
        <div className="notice notice-error" role="alert">
          <p className="notice-title">Image refused</p>
          <p>{state.message}</p>
        </div>
      )}

      {"file" in state && (
        <div className="preview">
          <img src={state.previewUrl} alt={`Preview of ${state.file.name}`} />
          <div className="preview-info">
            <p className="file-name">{state.file.name}</p>
            <p className="muted">{formatBytes(state.file.size)}</p>
            {state.stage === "ready" && (
              <button type="button" onClick={() => void upload()}>
                Upload &amp; pin to IPFS
              </button>
            )}
            {state.stage === "uploading" && (
              <div className="progress-row">
                <progress max={state.file.size} value={state.loaded} aria-label="Upload progress" />
                <span aria-live="polite">{Math.floor((100 * Math.min(state.loaded, state.file.size)) / state.file.size)} %</span>
              </div>
            )}
            {state.stage === "pinned" && state.cid && (
              <p className="pinned" role="status">
                <span className="ok-mark" aria-hidden="true">
                  ✓
                </span>{" "}
                Pinned as{" "}
                <a href={`${deployment.ipfs.gatewayUrl}/ipfs/${state.cid}`} target="_blank" rel="noreferrer">
                  <code className="cid" data-testid="image-cid">
                    {state.cid}
                  </code>
                </a>
              </p>
            )}
          </div>
        </div>
      )}
      {state.stage === "failed" && <ErrorNotice error={state.error} onRetry={() => void upload()} retryLabel="Retry upload" />}
    </div>
  );
}
