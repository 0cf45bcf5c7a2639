import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";
import { prerenderShell } from "./scripts/prerender-shell.ts";

/**
 * The browser recompute's libvips (wasm-vips) runs on threads, which need SharedArrayBuffer,
 * which browsers give only to cross-origin isolated pages. `credentialless` (rather than
 * `require-corp`) keeps cross-origin images from IPFS gateways loading without asking every
 * gateway for a CORP header: they are fetched without cookies, which they never needed.
 * Hosts of the production build must send the same two headers.
 */
const CROSS_ORIGIN_ISOLATION = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "credentialless",
};

/**
 * The app is static: `deployment.json` (chain, contracts, IPFS endpoints) is fetched at
 * run time from next to index.html, so one build serves any deployment.
 */
export default defineConfig({
  plugins: [react(), prerenderShell()],
  build: {
    target: "es2022",
    sourcemap: true,
    manifest: true,
    // The initial chunk is budgeted (npm run bench:frontend); heavy parts load on demand.
    chunkSizeWarningLimit: 700,
  },
  server: { port: 5173, strictPort: true, headers: CROSS_ORIGIN_ISOLATION },
  preview: { port: 4173, strictPort: true, headers: CROSS_ORIGIN_ISOLATION },
  // Pre-bundling would move these packages' .wasm files away from the scripts that fetch them by `import.meta.url`.
  optimizeDeps: { exclude: ["wasm-vips", "onnxruntime-web"] },
  // wasm-vips starts its threads as module workers.
  worker: { format: "es" },
  test: {
    include: ["src/**/*.test.{ts,tsx}"],
    // Logic tests run in Node; component tests opt into jsdom with a `@vitest-environment jsdom` docblock.
    environment: "node",
    setupFiles: ["src/test-setup.ts"],
  },
});
