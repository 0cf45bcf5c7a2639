/**
 * The browser's WASM runtimes, loaded only when the user asks for a recompute (this
 * module is imported dynamically): wasm-vips (libvips, ~5 MB of WASM; the HEIF/AVIF
 * decoder, ~4 MB more, only for an AVIF image) and onnxruntime-web's WASM build
 * (~14 MB). Vite emits the .wasm files as assets of the production build; the URLs
 * below are theirs.
 *
 * wasm-vips is built with threads, so it needs SharedArrayBuffer, which browsers give
 * only to cross-origin isolated pages: the app is served with COOP `same-origin` and
 * COEP `credentialless` (vite.config.ts; hosts must send the same). onnxruntime-web runs
 * on one thread, which needs no isolation and keeps its arithmetic single-ordered.
 */
import ortWasmUrl from "onnxruntime-web/ort-wasm-simd-threaded.wasm?url";
import vipsHeifUrl from "wasm-vips/vips-heif.wasm?url";
import vipsWasmUrl from "wasm-vips/vips.wasm?url";
import type { Runtimes } from "./recompute.ts";

export class NotIsolatedError extends Error {
  override name = "NotIsolatedError";
}

export async function loadBrowserRuntimes(options: { avif: boolean }): Promise<Runtimes> {
  if (!globalThis.crossOriginIsolated) {
    throw new NotIsolatedError(
      "This page is not cross-origin isolated, so libvips (WASM with threads) cannot run here: the host must serve the app with the headers Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: credentialless.",
    );
  }
  const [{ default: Vips }, ort] = await Promise.all([import("wasm-vips"), import("onnxruntime-web/wasm")]);
  ort.env.wasm.wasmPaths = { wasm: ortWasmUrl };
  ort.env.wasm.numThreads = 1;
  const vips = await Vips({
    dynamicLibraries: options.avif ? ["vips-heif.wasm"] : [],
    locateFile: (file: string) => (file === "vips-heif.wasm" ? vipsHeifUrl : file === "vips.wasm" ? vipsWasmUrl : file),
  });
  return { vips, ort };
}
