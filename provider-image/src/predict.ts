/**
 * `npm run predict -- --model <id> [--models-dir DIR] FILE...`
 *
 * Prints a JSON array with one result per FILE, in the order given (the same result
 * schema as on Golem; a file that is not a usable image gets an error entry). Request
 * ids are the files' positions; image CIDs are the raw-block CIDs of the files' bytes.
 * The models folder is `--models-dir`, else ARGUS_MODELS_DIR, else the download cache.
 */
import { stat } from "node:fs/promises";
import { optionalUserPath, parseCliArgs, runCli, UsageError, userPath } from "./cli.ts";
import { createEngine, type ImageRequest } from "./engine.ts";
import { rawCidOfBytes, rawCidOfFile } from "./file-cid.ts";

const USAGE = "usage: npm run predict -- --model <id> [--models-dir DIR] FILE...";

runCli(USAGE, async () => {
  const { values, positionals } = parseCliArgs({
    options: { model: { type: "string" }, "models-dir": { type: "string" } },
    allowPositionals: true,
  });
  if (!values.model) throw new UsageError("--model is required");
  if (positionals.length === 0) throw new UsageError("give at least one image FILE");

  const engine = createEngine({ modelsDir: optionalUserPath(values["models-dir"]) });
  const requests: ImageRequest[] = await Promise.all(
    positionals.map(async (file, index) => {
      const path = userPath(file);
      return { requestId: String(index), imageCid: await cidOrPlaceholder(path), image: { path } };
    }),
  );
  const results = await engine.run(values.model, requests);
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
});

/** A missing file still gets its (error) entry; it has no bytes, so its CID is the empty byte string's. */
async function cidOrPlaceholder(path: string): Promise<string> {
  const exists = await stat(path).then((stats) => stats.isFile(), () => false);
  return exists ? rawCidOfFile(path) : rawCidOfBytes(new Uint8Array());
}
