/**
 * Choosing an image: drop it or pick it, see it, and have its size, format, pixel count
 * and decodability checked before anything leaves the machine. Pinning it happens when
 * the user pays (PayPanel), in the same click.
 */
import { type DragEvent, useId, useState } from "react";
import { formatBytes, MAX_IMAGE_BYTES } from "@argus/protocol/limits";
import { ACCEPTED_MIME_TYPES, browserDecoder, checkImageFile } from "../lib/image-file.ts";
import { announce } from "./LiveRegion.tsx";

export interface ChosenImage {
  file: File;
  /** An object URL of the file: kept alive (not revoked) so the request's page can show the image after paying. */
  previewUrl: string;
  width: number;
  height: number;
}

type State =
  | { stage: "empty" }
  | { stage: "checking"; name: string }
  | { stage: "invalid"; message: string }
  | { stage: "ready"; image: ChosenImage };

const loadIpfs = () => import("../ipfs/ipfs.ts");

export function ImagePicker({ onChosen, onCleared }: { onChosen: (image: ChosenImage) => void; onCleared: () => void }) {
  const [state, setState] = useState<State>({ stage: "empty" });
  const [dragging, setDragging] = useState(false);
  const inputId = useId();
  const hintId = useId();

  async function choose(file: File | undefined) {
    onCleared();
    if (file === undefined) return setState({ stage: "empty" });
    setState({ stage: "checking", name: file.name });
    const check = await checkImageFile(file, browserDecoder);
    if (!check.ok) return setState({ stage: "invalid", message: check.message });
    void loadIpfs(); // warm the IPFS client while the user looks at the preview
    const image = { file, previewUrl: URL.createObjectURL(file), width: check.width ?? 0, height: check.height ?? 0 };
    setState({ stage: "ready", image });
    announce(`${file.name} is ready: ${image.width} × ${image.height} pixels.`);
    onChosen(image);
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
          or drop it here · JPEG, PNG, WebP, GIF or AVIF, at most {formatBytes(MAX_IMAGE_BYTES)}. It is pinned to IPFS when you pay, and
          pinned images are public.
        </p>
      </section>

      {state.stage === "checking" && (
        <p className="muted" aria-busy="true">
          Checking {state.name}…
        </p>
      )}
      {state.stage === "invalid" && (
        <div className="notice notice-error" role="alert">
          <p className="notice-title">Image refused</p>
          <p>{state.message}</p>
        </div>
      )}

      {state.stage === "ready" && (
        <div className="preview">
          <img src={state.image.previewUrl} alt={`Preview of ${state.image.file.name}`} />
          <div className="preview-info">
            <p className="file-name">{state.image.file.name}</p>
            <p className="muted">
              {formatBytes(state.image.file.size)} · {state.image.width} × {state.image.height} px
            </p>
          </div>
        </div>
      )}
    </div>
  );
}
