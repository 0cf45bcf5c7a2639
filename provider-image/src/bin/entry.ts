/**
 * The provider image's one command: runs the batch in the input folder and writes
 * its results into the output folder.
 *
 *   node provider-image/src/bin/entry.ts [--input DIR] [--output DIR] [--models-dir DIR]
 *
 * Folders default to ARGUS_INPUT_DIR / ARGUS_OUTPUT_DIR, then to the Golem volumes
 * /golem/input and /golem/output; the models folder to `--models-dir`,
 * ARGUS_MODELS_DIR, then the download cache. The input folder holds `batch.json`
 * (protocol/batch.ts) and the image files it names; the output receives
 * `results.json`, one result per request in the batch's order, written atomically.
 *
 * Exit code 0: results.json was written (some entries may be errors, one per bad
 * image). Exit code 1: no results (invalid batch.json, unknown or corrupt model); the
 * reason is on stderr, and any results.json from an earlier run is removed first so
 * it can never be mistaken for this batch's. On success one JSON summary line goes to stdout.
 *
 * The same command runs inside the Golem VM and on a developer machine (the oracle's
 * local executor spawns it the same way; a long-lived worker calls `runBatchFolder`,
 * the same steps as a function).
 */
import { runBatchFolder } from "../engine/batch-folder.ts";
import { optionalUserPath, parseCliArgs, runCli, userPath } from "./cli.ts";
import { createEngine } from "../engine/engine.ts";
import { engineOptions, loadProviderConfig } from "../config.ts";
import { isErrorResult } from "@argus/protocol/result";

const USAGE = "usage: node provider-image/src/bin/entry.ts [--input DIR] [--output DIR] [--models-dir DIR]";

runCli(USAGE, async () => {
  const { values } = parseCliArgs({
    options: { input: { type: "string" }, output: { type: "string" }, "models-dir": { type: "string" } },
  });
  const config = loadProviderConfig(process.env);
  const inputDir = userPath(values.input ?? config.inputDir);
  const outputDir = userPath(values.output ?? config.outputDir);
  const started = performance.now();
  const engine = createEngine(engineOptions(config, optionalUserPath(values["models-dir"])));
  const { modelId, results } = await runBatchFolder(engine, inputDir, outputDir);

  const errors = results.filter(isErrorResult).length;
  const summary = { modelId, results: results.length, errors, totalMs: Math.round(performance.now() - started) };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
});
