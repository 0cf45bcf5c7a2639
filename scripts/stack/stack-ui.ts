/**
 * The web UI component of the local stack (run by the launcher through stack-child.ts):
 * a production build served by `vite preview` (ARGUS_UI=preview, default, port 4173) or
 * Vite's dev server (ARGUS_UI=dev, port 5173, hot reload), with the deployment record served at
 * `/deployment.json` straight from ARGUS_DEPLOYMENT_FILE — nothing is written into
 * frontend/. Prints `{"event":"ready","url":…}` once it listens; SIGINT/SIGTERM stop it.
 */
import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { join, resolve } from "node:path";
import { build, createServer, type InlineConfig, type Plugin, preview } from "vite";

const FRONTEND = resolve(import.meta.dirname, "../../frontend");
const env = process.env;
const mode = env.ARGUS_UI === "preview" ? "preview" : "dev";
const host = env.ARGUS_UI_HOST || "127.0.0.1";
const port = Number(env.ARGUS_UI_PORT || (mode === "dev" ? 5173 : 4173));
const recordFile = env.ARGUS_DEPLOYMENT_FILE;
if (!recordFile) throw new Error("ARGUS_DEPLOYMENT_FILE is not set");

async function serveRecord(_request: IncomingMessage, response: ServerResponse): Promise<void> {
  try {
    const body = await readFile(recordFile!);
    response.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" }).end(body);
  } catch (error) {
    response.writeHead(503, { "content-type": "text/plain" }).end(`no deployment record: ${(error as Error).message}`);
  }
}

const deploymentRecord: Plugin = {
  name: "argus-deployment-record",
  configureServer: (server) => void server.middlewares.use("/deployment.json", (request, response) => void serveRecord(request, response)),
  configurePreviewServer: (server) =>
    void server.middlewares.use("/deployment.json", (request, response) => void serveRecord(request, response)),
};

const common: InlineConfig = {
  root: FRONTEND,
  configFile: join(FRONTEND, "vite.config.ts"),
  plugins: [deploymentRecord],
  clearScreen: false,
};
let close: () => Promise<void>;
if (mode === "dev") {
  const server = await createServer({ ...common, server: { host, port, strictPort: true } });
  await server.listen();
  close = () => server.close();
} else {
  const outDir = resolve(env.ARGUS_UI_BUILD_DIR || join(FRONTEND, "dist"));
  console.error(`building the web UI into ${outDir}…`);
  await build({ ...common, logLevel: "warn", build: { outDir, emptyOutDir: true } });
  const server = await preview({ ...common, build: { outDir }, preview: { host, port, strictPort: true } });
  close = () => server.close();
}

process.stdout.write(`${JSON.stringify({ event: "ready", url: `http://${host}:${port}/`, mode })}\n`);
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
