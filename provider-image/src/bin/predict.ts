/**
 * `npm run predict -- --model <id> [--models-dir DIR] [--max-bytes N] [--max-pixels N] [--int8-path PATH] FILE...`
 *
 * Prints a JSON array with one result per FILE, in the order given (the same result
 * schema as on Golem; a file that is not a usable image gets an error entry). Request
 * ids are the files' positions; image CIDs are the raw-block CIDs of the files' bytes.
 * The models folder is `--models-dir`, else ARGUS_MODELS_DIR, else the download cache.
 * The per-image caps are the service's (2 MiB, 40 MP; ARGUS_MAX_IMAGE_BYTES /
 * ARGUS_MAX_IMAGE_PIXELS), so a photo gets here what it would get on-chain; raise them
 * with --max-bytes / --max-pixels to look at a bigger photo anyway. `--int8-path`
 * (native-int8, native-u8u8 or qdq-reference) forces how an int8 network is computed;
 * by default it is the fastest path that gives the reference's bits on this CPU.
 */
import { stat } from "node:fs/promises";
import { optionalUserPath, parseCliArgs, runCli, UsageError, userPath } from "./cli.ts";
import { createEngine, type ImageRequest } from "../engine/engine.ts";
import { engineOptions, loadProviderConfig } from "../config.ts";
import { INT8_PATHS, type Int8Path } from "../engine/inference-path.ts";
import { rawCidOfBytes, rawCidOfFile } from "../image/file-cid.ts";

const USAGE = `usage: npm run predict -- --model <id> [--models-dir DIR] [--max-bytes N] [--max-pixels N] [--int8-path ${INT8_PATHS.join("|")}] FILE...`;

runCli(USAGE, async () => {
  const { values, positionals } = parseCliArgs({
    options: {
      model: { type: "string" },
      "models-dir": { type: "string" },
      "max-bytes": { type: "string" },
      "max-pixels": { type: "string" },
      "int8-path": { type: "string" },
    },
    allowPositionals: true,
  });
  if (!values.model) throw new UsageError("--model is required");
  if (positionals.length === 0) throw new UsageError("give at least one image FILE");

  const limits = {
    ...(values["max-bytes"] === undefined ? {} : { maxBytes: positiveInteger("--max-bytes", values["max-bytes"]) }),
    ...(values["max-pixels"] === undefined ? {} : { maxPixels: positiveInteger("--max-pixels", values["max-pixels"]) }),
  };
  const int8Path = values["int8-path"];
  if (int8Path !== undefined && !(INT8_PATHS as readonly string[]).includes(int8Path)) {
    throw new UsageError(`--int8-path must be one of ${INT8_PATHS.join(", ")}, got "${int8Path}"`);
  }
  const options = engineOptions(loadProviderConfig(process.env), optionalUserPath(values["models-dir"]));
  const engine = createEngine({ ...options, limits: { ...options.limits, ...limits }, int8Path: int8Path as Int8Path | undefined });
  const requests: ImageRequest[] = await Promise.all(
    positionals.map(async (file, index) => {
      const path = userPath(file);
      return { requestId: String(index), imageCid: await cidOrPlaceholder(path), image: { path } };
    }),
  );
  const results = await engine.run(values.model, requests);
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  if (results.some((result) => "error" in result && (result.error.code === "TOO_LARGE_BYTES" || result.error.code === "TOO_MANY_PIXELS"))) {
    process.stderr.write("Some images are over the service's caps; --max-bytes N / --max-pixels N raise them for this run.\n");
  }
});

function positiveInteger(flag: string, text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value <= 0) throw new UsageError(`${flag} must be a positive integer, got "${text}"`);
  return value;
}

/** A missing file still gets its (error) entry; it has no bytes, so its CID is the empty byte string's. */
async function cidOrPlaceholder(path: string): Promise<string> {
  const exists = await stat(path).then(
    (stats) => stats.isFile(),
    () => false,
  );
  return exists ? rawCidOfFile(path) : rawCidOfBytes(new Uint8Array());
}
