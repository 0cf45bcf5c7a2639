import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

/**
 * The app is static: `deployment.json` (chain, contracts, IPFS endpoints) is fetched at
 * run time from next to index.html, so one build serves any deployment.
 */
export default defineConfig({
  plugins: [react()],
  build: {
    target: "es2022",
    sourcemap: true,
    manifest: true,
    // The initial chunk is budgeted (npm run bench:frontend); heavy parts load on demand.
    chunkSizeWarningLimit: 700,
  },
  server: { port: 5173, strictPort: true },
  preview: { port: 4173, strictPort: true },
  test: {
    include: ["src/**/*.test.{ts,tsx}"],
    // Logic tests run in Node; component tests opt into jsdom with a `@vitest-environment jsdom` docblock.
    environment: "node",
    setupFiles: ["src/test-setup.ts"],
  },
});
