/**
 * `argus verify <requestId> [--recompute] [--models-dir DIR] [--json]`: checks a
 * fulfilled request's answer. Without `--recompute`: the digest, schema, request and
 * summary checks of `argus result`. With it: also reruns the registered model here on
 * the request's image and compares (see recompute.ts), reporting `match` or `mismatch`
 * with the differences.
 */
import { parseCommand, parseRequestId, parseSeconds, UsageError } from "../args.ts";
import { type Command, EXIT } from "../command.ts";
import { engineFilesOf } from "../config.ts";
import { openContext } from "../context.ts";
import { Output } from "../output.ts";
import { recompute } from "../recompute.ts";
import { loadRequest, requestStatus } from "../request-status.ts";

const USAGE = `usage: argus verify <requestId> [--recompute] [--models-dir <dir>] [--timeout <duration>] [--json] [--deployment <file>]

Checks a fulfilled request's answer: the result fetched from IPFS must hash to the
on-chain digest, follow the result schema, be about this request (id, model, image) and
agree with the posted summary. This proves storage integrity, not that the model gave it.

  --recompute           also rerun the registered model on the request's image here: the
                        manifest by the CID the result names (IPFS or the local manifests),
                        the weights by the manifest's sha256 (models folder), the image by
                        its CID; then compare (top-5 classes exact, scores within 1e-4;
                        boxes IoU >= 0.9) and report match or mismatch with the differences
  --models-dir <dir>    folder with the model files (default: ARGUS_MODELS_DIR, else the download cache)
  --timeout <duration>  give up fetching from IPFS after this long (default 20s)
  --json                print one JSON object instead of text

Exit codes: 0 verified (and, with --recompute, recomputed: match), 1 not verified,
mismatch, not fulfilled or not found, 2 bad arguments.`;

export const verifyCommand: Command = {
  usage: USAGE,
  async run(argv, io, settings) {
    const { values, positionals } = parseCommand(argv, {
      recompute: { type: "boolean", default: false },
      "models-dir": { type: "string" },
      timeout: { type: "string" },
    });
    if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`);
    const requestId = parseRequestId(positionals[0]);
    const timeoutMs = parseSeconds(values.timeout, "--timeout", 20) * 1000;
    const out = new Output(io, values.json);
    const ctx = await openContext(values, settings);
    const loaded = await loadRequest(ctx, requestId);
    const status = await requestStatus(ctx, loaded);
    const base = { requestId: requestId.toString(), status: status.phase, resultCid: status.resultCid };
    if (status.phase !== "fulfilled") {
      if (out.json) out.data({ ...base, verified: false, problem: `request ${requestId} is ${status.phase}, not fulfilled` });
      else out.text(`request ${requestId} is ${status.phase}: there is no answer to verify`);
      return EXIT.failure;
    }
    if (!status.verified || status.result === undefined) {
      if (out.json) out.data({ ...base, verified: false, verdict: "mismatch", problem: status.problem });
      else out.text(`NOT VERIFIED: ${status.problem}`);
      return EXIT.failure;
    }
    if (!values.recompute) {
      if (out.json) out.data({ ...base, verified: true });
      else
        out.text(
          `verified: result ${status.resultCid} is the recorded answer to request ${requestId} (storage integrity only; --recompute reruns the model)`,
        );
      return EXIT.ok;
    }
    out.spin(`recomputing request ${requestId} with ${status.result.modelId}…`);
    const files = engineFilesOf(settings, values["models-dir"]);
    const recomputation = await recompute(ctx, status.result, loaded.model, { files, timeoutMs });
    out.done();
    const verdict = recomputation.match ? "match" : "mismatch";
    if (out.json) {
      out.data({
        ...base,
        verified: true,
        verdict,
        manifestCid: recomputation.manifestCid,
        manifestSource: recomputation.manifestSource,
        tolerances: recomputation.tolerances,
        differences: recomputation.differences,
        recomputed: recomputation.recomputed,
      });
    } else {
      out.text(`verified: result ${status.resultCid} is the recorded answer to request ${requestId}`);
      out.text(`recomputed with manifest ${recomputation.manifestCid} (${recomputation.manifestSource}): ${verdict}`);
      for (const difference of recomputation.differences) {
        out.text(`  ${difference.field}: recomputed ${difference.expected}, recorded ${difference.actual}`);
      }
    }
    return recomputation.match ? EXIT.ok : EXIT.failure;
  },
};
