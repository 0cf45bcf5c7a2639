/**
 * The Golem preflight as the oracle runs it: at start with `ARGUS_EXECUTOR=golem` (a
 * failed check stops the start before the queue is opened or a request read) and on
 * demand (`main.ts --doctor`, which `argus oracle doctor` spawns). The images checked
 * are those chunks would order: each active model's registry image hash, else the
 * configured fallback (executors/golem/image-order.ts).
 */
import { createPublicClient, http, type PublicClient } from "viem";
import { listModels } from "@argus/escrow/escrow-reads";
import type { OracleConfig } from "../config.ts";
import type { ImageOrder } from "../executors/golem/image-order.ts";
import { imageOrderOf } from "../executors/golem/image-order.ts";
import type { PreflightCheck } from "../executors/golem/preflight.ts";
import { golemPreflight } from "../executors/golem/preflight.ts";
import { executorModelTerms } from "../intake/model-registry.ts";
import { locateEscrow } from "./chain-access.ts";

export interface GolemPreflightRun {
  offerWaitMs?: number;
  env?: Readonly<Record<string, string | undefined>>;
}

export async function runGolemPreflight(config: OracleConfig, run: GolemPreflightRun = {}): Promise<PreflightCheck[]> {
  const env = run.env ?? process.env;
  const { images, problem } = await orderedImages(config);
  return golemPreflight({
    settings: config.golem,
    images,
    ...(problem === undefined ? {} : { imagesProblem: problem }),
    ...(run.offerWaitMs === undefined ? {} : { offerWaitMs: run.offerWaitMs }),
    ...(env.GOLEM_REGISTRY_URL ? { registryUrl: env.GOLEM_REGISTRY_URL } : {}),
  });
}

/** One line per check: `ok`, `FAILED` or `skipped`, the check's name, what was found or what to do. */
export function formatPreflight(checks: readonly PreflightCheck[]): string {
  const mark = { ok: "ok     ", failed: "FAILED ", skipped: "skipped" } as const;
  return checks.map((check) => `golem preflight: ${mark[check.status]} ${check.check.padEnd(6)} ${check.line}`).join("\n");
}

/** The distinct images the active models' chunks would order. */
async function orderedImages(config: OracleConfig): Promise<{ images: ImageOrder[]; problem?: string }> {
  const client = createPublicClient({ transport: http(config.rpcUrl, { retryCount: 1, timeout: 15_000 }) }) as PublicClient;
  let models: Awaited<ReturnType<typeof listModels>>;
  try {
    const { escrow } = await locateEscrow(config, client);
    models = (await listModels({ client, escrow })).filter((model) => model.active);
  } catch (error) {
    return {
      images: [],
      problem: `cannot read the models' image hashes from the escrow (${(error as Error).message.split("\n")[0]}): check ARGUS_RPC_URL and the deployment record`,
    };
  }
  const images = new Map<string, ImageOrder>();
  for (const model of models) {
    const order = imageOrderOf(executorModelTerms(model).providerImageHash, config.golem);
    if (order === undefined)
      return {
        images: [],
        problem: `model ${model.id} (${model.name}) has no image hash in the registry and ARGUS_GOLEM_IMAGE_HASH / ARGUS_GOLEM_IMAGE_TAG are unset: register it with --provider-image`,
      };
    images.set(order.key, order);
  }
  if (models.length === 0) {
    const fallback = imageOrderOf(undefined, config.golem);
    if (fallback) images.set(fallback.key, fallback);
  }
  return { images: [...images.values()] };
}
