/**
 * Settings of the Golem executor: one zod schema with defaults, the environment variable
 * and meaning of each field. The oracle's configuration nests them as its `golem` section
 * (config.ts: file, then environment); `loadGolemConfig` reads them on their own for tests
 * and embedders. Validated once, with one message per bad field; see GOLEM.md for what
 * each one means in practice.
 *
 * The payment network must be named: golem-js 3.6 still defaults to Holesky, which no
 * longer exists. `hoodi` is the testnet (tGLM), `polygon` the mainnet (real GLM).
 */
import { z } from "zod";
import { golemImageHash } from "./image-hash.ts";
import { type AgreementLimits, HOUR_MS, maxAgreementCostGlm, type RenewalTimes, renewalLeadMs } from "./limits.ts";

export { golemImageHash } from "./image-hash.ts";

/**
 * How a batch is run inside the VM: provider-image/Dockerfile puts Node and the entry
 * command here. `--resident` keeps one engine up in the VM between chunks, so only a
 * provider's first chunk pays for loading onnxruntime and the model.
 */
export const DEFAULT_ENTRY_COMMAND = ["/usr/local/bin/node", "/app/provider-image/src/bin/entry.ts", "--resident"] as const;

const positive = z.coerce.number().positive();
const count = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const optionalText = z
  .string()
  .trim()
  .transform((text) => (text === "" ? undefined : text))
  .optional();

/** A Golem image hash: the sha3-224 that gvmkit-build prints (56 hex digits). */
const ImageHashSchema = z.string().transform((text, context) => {
  const hash = golemImageHash(text);
  if (hash === undefined) context.addIssue({ code: "custom", message: "an image hash is the 56-hex-digit sha3-224 gvmkit-build prints" });
  return hash ?? "";
});

export const GolemConfigSchema = z
  .strictObject({
    /** yagna app key (`yagna app-key create requestor`). */
    apiKey: optionalText,
    /** yagna's REST API. */
    // Without a trailing slash: golem-js joins paths onto it ("…//market-api/v1" otherwise).
    apiUrl: z
      .url()
      .default("http://127.0.0.1:7465")
      .transform((url) => url.replace(/\/+$/, "")),
    /** Golem subnet the demand is published in. */
    subnetTag: z.string().min(1).default("public"),
    paymentNetwork: z
      .string()
      .default("hoodi")
      .pipe(
        z.enum(["hoodi", "polygon"], {
          error: (issue) =>
            issue.input === "holesky"
              ? "holesky is shut down (golem-js 3.6 still defaults to it): use hoodi for the testnet or polygon for the mainnet"
              : "the payment network is hoodi (testnet, tGLM) or polygon (mainnet, GLM)",
        }),
      ),
    paymentDriver: z.string().min(1).default("erc20"),
    /** Image to order when a chunk carries no registry image hash. */
    imageHash: ImageHashSchema.optional(),
    /** Registry tag (e.g. `<user>/argus-provider:0.1.0`), the last fallback when there is no hash. */
    imageTag: optionalText,
    /**
     * Where providers download the image from instead of the Golem registry; `{hash}` is
     * replaced by the image hash. Without it golem-js asks registry.golem.network.
     */
    imageUrl: optionalText,
    minCpuThreads: count(1, 256).default(2),
    /** A VM gets, and is billed for, every thread its provider offers: offers with more are not taken. */
    maxCpuThreads: count(1, 256).default(8),
    // `npm run bench:engine-memory`: a 16-image chunk of the largest images peaks at 0.57 GiB
    // in the engine with 16 decodes at once (a VM of 8+ threads); plus the entry command's
    // client, the inputs and the guest's own kernel, with headroom.
    minMemGib: positive.default(1.5),
    minStorageGib: positive.default(4),
    // Price limits a few times golemsp's default preset (0.025 GLM per thread-hour, 0.005 GLM
    // per hour, no start fee: golemfactory/golem-docs providers/configuration/general.md),
    // which most mainnet providers keep; golem-js's own defaults (1, 0.5, 0.5) are 10–100× that.
    maxStartPriceGlm: z.coerce.number().min(0).default(0.05),
    maxCpuPerHourGlm: z.coerce.number().min(0).default(0.1),
    maxEnvPerHourGlm: z.coerce.number().min(0).default(0.05),
    /** Provider ids (0x…) the executor may rent from; empty: any provider within the limits. */
    allowedProviders: z
      .union([z.string().transform((text) => text.split(/[\s,]+/)), z.array(z.string())])
      .transform((ids) => ids.map((id) => id.trim().toLowerCase()).filter((id) => id !== ""))
      .pipe(z.array(z.string().regex(/^0x[0-9a-f]{40}$/, "a provider id is 0x and 40 hex digits")))
      .default([]),
    /** Longest an agreement (one provider, reused across chunks) lasts. */
    // Below 6 min a demand would expire inside the 5 min providers refuse (see demandRefreshMs).
    rentHours: z.coerce
      .number()
      .min(0.1, "rentHours must be at least 0.1 (6 min): providers refuse demands expiring within 5 min")
      .max(24)
      .default(1),
    /** Providers rented at once per image, hence chunks run at once: the executor's capacity. */
    poolSize: count(1, 100).default(3),
    /** Longest wait for a provider before the chunk fails without an attempt. */
    acquireTimeoutMs: count(1_000, 3_600_000).default(600_000),
    /**
     * Deploying the image on a provider (its first use downloads ~150 MB and boots it).
     * Timed on its own, so a slow download is not mistaken for a failed chunk.
     */
    deployTimeoutMs: count(1_000, 3_600_000).default(900_000),
    /** One attempt on a provider whose exe-unit is ready: upload, run, download. */
    attemptTimeoutMs: count(100, 3_600_000).default(300_000),
    /** Providers tried per chunk before it fails. */
    maxAttempts: count(1, 20).default(3),
    /**
     * GLM each allocation holds: the budget of one allocation period. A period ends when its
     * allocation nears its end (`allocationHours`) or has less left than one agreement can
     * cost (`maxAgreementCostGlm`); the next allocation gets the whole budget again. So this
     * caps what one allocation can pay, not what the oracle spends over weeks: the wallet's
     * balance does that, and the price limits and `poolSize` bound the rate.
     */
    budgetGlm: positive.default(5),
    /**
     * How long an allocation stays valid. It is replaced `renewalLeadMs` before it ends,
     * so this must be longer than that lead.
     */
    allocationHours: positive.max(24 * 30).default(24),
    /** Longest wait for a finished agreement's invoice (destroying a provider, closing). */
    finalizeTimeoutMs: count(1_000, 3_600_000).default(120_000),
    /** How long a provider that failed, timed out or returned bad results is avoided. */
    providerBanMinutes: z.coerce.number().min(0).default(60),
    /** Share of a known provider's chunks also run on a second provider and compared (audit.ts). */
    auditRate: z.coerce.number().min(0).max(1).default(0.1),
    /** A provider's first chunks, all audited. */
    auditFirstChunks: z.coerce.number().int().min(0).max(1_000).default(3),
    /** The second opinion is the oracle's own engine instead of a second provider (audit.ts). */
    auditLocal: z.union([z.boolean(), z.stringbool()]).default(false),
    /** Program and arguments that run a batch inside the VM (default volumes /golem/input, /golem/output). */
    entryCommand: z
      .union([z.string().transform((text) => text.trim().split(/\s+/)), z.array(z.string())])
      .pipe(z.array(z.string().regex(/^\S+$/, "no spaces inside one argument")).min(1))
      .default([...DEFAULT_ENTRY_COMMAND]),
  })
  .refine((config) => config.maxStartPriceGlm + config.maxCpuPerHourGlm + config.maxEnvPerHourGlm > 0, {
    message: "at least one price limit must be above 0",
  })
  .refine((config) => config.maxCpuThreads >= config.minCpuThreads, {
    path: ["maxCpuThreads"],
    message: "maxCpuThreads must be at least minCpuThreads",
  })
  // Otherwise every fresh allocation would already count as spent or ending, and each chunk would replace it.
  .refine((config) => config.budgetGlm >= maxAgreementCostGlm(config), {
    path: ["budgetGlm"],
    error: (issue) => {
      const config = issue.input as AgreementLimits & { budgetGlm: number };
      return `${config.budgetGlm} GLM cannot pay one agreement at the price limits (${maxAgreementCostGlm(config)} GLM: start price + rentHours × (environment + CPU × maxCpuThreads per hour)); raise it or lower the limits`;
    },
  })
  .refine((config) => config.allocationHours * HOUR_MS > renewalLeadMs(config), {
    path: ["allocationHours"],
    error: (issue) => {
      const config = issue.input as RenewalTimes;
      return `an allocation must outlast its renewal lead of ${(renewalLeadMs(config) / HOUR_MS).toFixed(2)} h (rentHours + maxAttempts × (acquireTimeoutMs + deployTimeoutMs + attemptTimeoutMs) + finalizeTimeoutMs)`;
    },
  });

export type GolemExecutorConfig = z.output<typeof GolemConfigSchema>;
export type GolemExecutorConfigInput = z.input<typeof GolemConfigSchema>;

/** The environment variable of each setting (yagna's own names where it has them). */
export const GOLEM_CONFIG_ENV: Readonly<Record<keyof GolemExecutorConfig, string>> = {
  apiKey: "YAGNA_APPKEY",
  apiUrl: "YAGNA_API_URL",
  subnetTag: "YAGNA_SUBNET",
  paymentNetwork: "ARGUS_GOLEM_PAYMENT_NETWORK",
  paymentDriver: "ARGUS_GOLEM_PAYMENT_DRIVER",
  imageHash: "ARGUS_GOLEM_IMAGE_HASH",
  imageTag: "ARGUS_GOLEM_IMAGE_TAG",
  imageUrl: "ARGUS_GOLEM_IMAGE_URL",
  minCpuThreads: "ARGUS_GOLEM_MIN_CPU_THREADS",
  maxCpuThreads: "ARGUS_GOLEM_MAX_CPU_THREADS",
  minMemGib: "ARGUS_GOLEM_MIN_MEM_GIB",
  minStorageGib: "ARGUS_GOLEM_MIN_STORAGE_GIB",
  maxStartPriceGlm: "ARGUS_GOLEM_MAX_START_PRICE",
  maxCpuPerHourGlm: "ARGUS_GOLEM_MAX_CPU_PER_HOUR",
  maxEnvPerHourGlm: "ARGUS_GOLEM_MAX_ENV_PER_HOUR",
  allowedProviders: "ARGUS_GOLEM_ALLOWED_PROVIDERS",
  rentHours: "ARGUS_GOLEM_RENT_HOURS",
  poolSize: "ARGUS_GOLEM_POOL_SIZE",
  acquireTimeoutMs: "ARGUS_GOLEM_ACQUIRE_TIMEOUT_MS",
  deployTimeoutMs: "ARGUS_GOLEM_DEPLOY_TIMEOUT_MS",
  attemptTimeoutMs: "ARGUS_GOLEM_ATTEMPT_TIMEOUT_MS",
  maxAttempts: "ARGUS_GOLEM_MAX_ATTEMPTS",
  budgetGlm: "ARGUS_GOLEM_BUDGET_GLM",
  allocationHours: "ARGUS_GOLEM_ALLOCATION_HOURS",
  finalizeTimeoutMs: "ARGUS_GOLEM_FINALIZE_TIMEOUT_MS",
  providerBanMinutes: "ARGUS_GOLEM_PROVIDER_BAN_MINUTES",
  auditRate: "ARGUS_GOLEM_AUDIT_RATE",
  auditFirstChunks: "ARGUS_GOLEM_AUDIT_FIRST_CHUNKS",
  auditLocal: "ARGUS_GOLEM_AUDIT_LOCAL",
  entryCommand: "ARGUS_GOLEM_ENTRY_COMMAND",
};

/** What each setting does, in one line (the oracle's configuration table and examples). */
export const GOLEM_CONFIG_HELP: Readonly<Record<keyof GolemExecutorConfig, string>> = {
  apiKey: "yagna app key of the requestor (required for the Golem executor)",
  apiUrl: "yagna's REST API",
  subnetTag: "Golem subnet the demand is published in",
  paymentNetwork: "hoodi (testnet, tGLM) or polygon (mainnet, GLM); holesky is refused",
  paymentDriver: "yagna payment driver",
  imageHash: "image for chunks whose model has none in the registry (56 hex digits)",
  imageTag: "registry tag, the last fallback (e.g. <user>/argus-provider:0.1.0)",
  imageUrl: "download URL of the .gvmi instead of the Golem registry; {hash} is replaced by the image hash",
  minCpuThreads: "minimum CPU threads of a provider",
  maxCpuThreads: "maximum CPU threads of a provider: a VM is billed for every thread offered, so larger offers are not taken",
  minMemGib: "minimum memory (GiB)",
  minStorageGib: "minimum disk (GiB)",
  maxStartPriceGlm: "highest start price accepted (GLM)",
  maxCpuPerHourGlm: "highest CPU price per thread-hour (GLM)",
  maxEnvPerHourGlm: "highest environment price per hour (GLM)",
  allowedProviders: "provider ids (0x…, comma-separated) to rent from, e.g. ones vetted on polygon; empty: any provider within the limits",
  rentHours: "longest an agreement lasts (hours)",
  poolSize: "providers rented at once per image = chunks run at once (cross-checks need 3: two to compare, a third to decide)",
  acquireTimeoutMs: "longest wait for a provider before the chunk fails",
  deployTimeoutMs: "deploying the image on a provider (first use: download and boot), timed apart from the attempt",
  attemptTimeoutMs: "one attempt once the exe-unit is ready: upload, run, download",
  maxAttempts: "providers tried per chunk",
  budgetGlm: "GLM of each allocation (per allocation period); at least one agreement's cost at the price limits",
  allocationHours: "how long an allocation is valid; renewed a renewal lead before it ends (must exceed the lead)",
  finalizeTimeoutMs: "longest wait for an ended agreement's invoice",
  providerBanMinutes: "how long a failed provider is avoided (0: only for the chunk it failed)",
  auditRate:
    "share (0–1) of a known provider's chunks also run on a second provider and compared; a third decides a disagreement and the outvoted provider is banned for good",
  auditFirstChunks: "a provider's first chunks, every one audited",
  auditLocal:
    "audits recompute the chunk on this machine's engine instead of a second provider: a provider it contradicts is banned for good and the engine's answer is used",
  entryCommand: "program and arguments that run a batch in the VM (space-separated in the variable)",
};

export class GolemConfigError extends Error {
  override name = "GolemConfigError";
}

/**
 * The validated settings: defaults, then `env` (variables named as in GOLEM_CONFIG_ENV),
 * then `values`. Throws a GolemConfigError naming every bad field and where its value
 * came from. The oracle does not call this: its configuration holds the section.
 */
export function loadGolemConfig(
  values: GolemExecutorConfigInput = {},
  env: Readonly<Record<string, string | undefined>> = {},
): GolemExecutorConfig {
  const raw: Record<string, unknown> = {};
  const source: Record<string, string> = {};
  for (const [key, name] of Object.entries(GOLEM_CONFIG_ENV)) {
    const text = env[name];
    if (text === undefined || text === "") continue;
    raw[key] = text;
    source[key] = name;
  }
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) continue;
    raw[key] = value;
    source[key] = "value";
  }
  const parsed = GolemConfigSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const key = String(issue.path[0] ?? "");
    return key ? `${key} (${source[key] ?? "default"}): ${issue.message}` : issue.message;
  });
  throw new GolemConfigError(`invalid Golem executor configuration:\n  ${problems.join("\n  ")}`);
}
