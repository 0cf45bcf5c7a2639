/**
 * `argus models check <id|manifest.json>`: the self-test a model must pass before it is
 * registered or served, run on demand — the bundled reference photos through the
 * model, one line per photo (or object, for a detector) with what was expected and
 * what came out. With `--record`, a passing score is written into the manifest file's
 * `selfTest.measured`, the score the web UI shows once the manifest is registered.
 */
import { readFile, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { type ModelManifest, parseManifest } from "@argus/protocol/manifest";
import { defaultManifestsDirs, loadManifest, withCatalog } from "@argus/provider-image/catalog";
import { checkModel } from "@argus/provider-image/check-model";
import type { SelfTestReport } from "@argus/provider-image/self-test";
import { parseCommand, UsageError } from "../args.ts";
import { type Command, EXIT } from "../command.ts";
import { type CliSettings, engineFilesOf } from "../config.ts";
import { Output } from "../output.ts";

const USAGE = `usage: argus models check <model id | manifest.json> [--onnx <file>] [--record] [--json]

Runs a model on the bundled reference photos and prints what it got right: the test
every model must pass before \`models add\` registers it or the engine serves it. A
model id is looked up in the served manifests (ARGUS_MANIFESTS_DIR) and the catalogue
(provider-image/catalog); its files come from ARGUS_MODELS_DIR, or the download cache
(filled from the manifest's URL). Exit code 1 when the model fails.

  --onnx <file>   test this ONNX file (it must match the manifest's sha256); labels beside it or in the models folder
  --record        write the score into the manifest file's selfTest.measured (a manifest file only)`;

export const modelsCheckCommand: Command = {
  usage: USAGE,
  async run(argv, io, settings) {
    const { values, positionals } = parseCommand(argv, { onnx: { type: "string" }, record: { type: "boolean", default: false } });
    const [target, ...extra] = positionals;
    if (target === undefined || extra.length > 0) throw new UsageError("give one model id or manifest file");
    const out = new Output(io, values.json);
    const { manifest, file } = await manifestOf(target, settings);
    if (values.record && file === undefined) throw new UsageError("--record writes into a manifest file: give its path, not the model id");

    out.spin(`running ${manifest.id} on the reference photos…`);
    const report = await checkModelWithSettings(manifest, settings, values.onnx);
    out.done();
    let recorded = false;
    if (values.record && report.passed && file !== undefined) recorded = await recordScore(file, report);

    if (out.json) out.data({ ...report, ...(file === undefined ? {} : { manifestFile: file }), recorded });
    else {
      for (const line of reportLines(report)) out.text(line);
      if (recorded) out.note(`recorded ${report.correct}/${report.total} in ${file}`);
      const claimed = manifest.selfTest.measured;
      if (claimed !== undefined && (claimed.correct !== report.correct || claimed.total !== report.total)) {
        out.warn(`the manifest records ${claimed.correct}/${claimed.total}, this run measured ${report.correct}/${report.total}`);
      }
    }
    return report.passed ? EXIT.ok : EXIT.failure;
  },
};

/** The self-test with the CLI's models folder, reference photos and download mirror. */
export function checkModelWithSettings(manifest: ModelManifest, settings: CliSettings, onnx?: string): Promise<SelfTestReport> {
  return checkModel(manifest, { ...engineFilesOf(settings), weightsPath: onnx === undefined ? undefined : resolve(onnx) });
}

/** The report as a table for people: a verdict, then one line per item. */
export function reportLines(report: SelfTestReport): string[] {
  const verdict = report.passed ? "pass" : "FAIL";
  const photoWidth = Math.max(...report.items.map((item) => item.photo.length));
  const expectedWidth = Math.max(...report.items.map((item) => item.expected.length));
  return [
    `${report.modelId} on ${report.referenceSet}: ${report.correct} of ${report.total} right, requires ${report.minimumCorrect} — ${verdict}`,
    ...report.problems.map((problem) => `  ! ${problem}`),
    ...report.items.map(
      (item) =>
        `  ${item.correct ? "✓" : "✗"} ${item.photo.padEnd(photoWidth)}  ${item.expected.padEnd(expectedWidth)}  → ${item.obtained}`,
    ),
  ];
}

async function manifestOf(target: string, settings: CliSettings): Promise<{ manifest: ModelManifest; file?: string }> {
  if (!/\.json$/i.test(target)) return { manifest: await loadManifest(target, withCatalog(defaultManifestsDirs(settings.manifestsDirs))) };
  const file = resolve(target);
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    throw new UsageError(`${target}: ${(error as Error).message}`);
  }
  return { manifest: parseManifest(json, file), file };
}

/** Writes the measured score into the manifest file; false when it was already there. */
export async function recordScore(file: string, report: SelfTestReport): Promise<boolean> {
  const json = JSON.parse(await readFile(file, "utf8"));
  const measured = { correct: report.correct, total: report.total };
  if (JSON.stringify(json.selfTest?.measured) === JSON.stringify(measured)) return false;
  json.selfTest = { ...json.selfTest, measured };
  parseManifest(json, file);
  await writeFile(file, `${JSON.stringify(json, null, 2)}\n`);
  return true;
}
