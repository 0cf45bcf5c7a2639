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
 * the same steps as a function). With `--resident` the batch goes to an engine that
 * stays up between commands (src/resident/), started by the first such command: what
 * the oracle's Golem executor runs, so a provider loads the model once per activity.
 * The exit codes and the summary line are the same either way.
 */
import { optionalUserPath, parseCliArgs, runCli, userPath } from "./cli.ts";
import { type BatchSummary, DEFAULT_RESIDENT_DIR, RESIDENT_DIR_ENV, residentPaths } from "../resident/resident-protocol.ts";

const USAGE = "usage: node provider-image/src/bin/entry.ts [--input DIR] [--output DIR] [--models-dir DIR] [--resident]";
/** A resident engine's first start loads onnxruntime and the model: allow a slow provider that long. */
const RESIDENT_START_TIMEOUT_MS = 120_000;

runCli(USAGE, async () => {
  const { values } = parseCliArgs({
    options: {
      input: { type: "string" },
      output: { type: "string" },
      "models-dir": { type: "string" },
      resident: { type: "boolean", default: false },
    },
  });
  const input = optionalUserPath(values.input);
  const output = optionalUserPath(values.output);
  const modelsDir = optionalUserPath(values["models-dir"]);
  let summary: BatchSummary;
  if (values.resident) {
    // Only the small client is loaded here: a warm batch must not pay for onnxruntime,
    // nor for the settings code (the server validates the settings: resident-protocol.ts).
    const { runResident } = await import("../resident/client.ts");
    summary = await runResident(
      residentPaths(process.env[RESIDENT_DIR_ENV] || DEFAULT_RESIDENT_DIR),
      { ...(input === undefined ? {} : { inputDir: input }), ...(output === undefined ? {} : { outputDir: output }) },
      { startTimeoutMs: RESIDENT_START_TIMEOUT_MS, serverArgs: modelsDir === undefined ? [] : ["--models-dir", modelsDir] },
    );
  } else {
    const started = performance.now();
    const [{ createEngine }, { engineOptions, loadProviderConfig }, { runBatchFolder }, { isErrorResult }] = await Promise.all([
      import("../engine/engine.ts"),
      import("../config.ts"),
      import("../engine/batch-folder.ts"),
      import("@argus/protocol/result"),
    ]);
    const config = loadProviderConfig(process.env);
    const engine = createEngine(engineOptions(config, modelsDir));
    const { modelId, results } = await runBatchFolder(engine, input ?? userPath(config.inputDir), output ?? userPath(config.outputDir));
    const errors = results.filter(isErrorResult).length;
    summary = { modelId, results: results.length, errors, totalMs: Math.round(performance.now() - started), engine: "one-shot" };
  }
  process.stdout.write(`${JSON.stringify(summary)}\n`);
});
