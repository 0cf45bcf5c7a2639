/**
 * The resident engine's server (src/resident/): started by `entry.ts --resident` when
 * none answers, not by hand. Listens on <dir>/engine.sock and exits after 15 min idle.
 *
 *   node provider-image/src/bin/engine-server.ts --dir DIR [--models-dir DIR]
 */
import { createEngine } from "../engine/engine.ts";
import { engineOptions, loadProviderConfig } from "../config.ts";
import { RESIDENT_IDLE_EXIT_MS, residentPaths } from "../resident/resident-protocol.ts";
import { serveResident } from "../resident/server.ts";
import { optionalUserPath, parseCliArgs, runCli, userPath } from "./cli.ts";

const USAGE = "usage: node provider-image/src/bin/engine-server.ts --dir DIR [--models-dir DIR]";

runCli(USAGE, async () => {
  const { values } = parseCliArgs({ options: { dir: { type: "string" }, "models-dir": { type: "string" } } });
  const config = loadProviderConfig(process.env);
  const paths = residentPaths(userPath(values.dir ?? config.residentDir));
  const engine = createEngine(engineOptions(config, optionalUserPath(values["models-dir"])));
  await serveResident(paths, engine, {
    idleExitMs: RESIDENT_IDLE_EXIT_MS,
    defaults: { inputDir: userPath(config.inputDir), outputDir: userPath(config.outputDir) },
    onListening: () =>
      process.stdout.write(`${new Date().toISOString()} resident engine listening on ${paths.socket} (pid ${process.pid})\n`),
  });
  process.stdout.write(`${new Date().toISOString()} resident engine idle for ${RESIDENT_IDLE_EXIT_MS / 60_000} min: exiting\n`);
  // onnxruntime's thread pools may outlive the sessions: leave now that the socket is gone.
  process.exit(0);
});
