/**
 * The start-up preflight of the Golem executor (and `argus oracle doctor`): four checks,
 * each ending in one line that says what is wrong and what to do.
 *
 * - **yagna**: reachable at `apiUrl`, the app key accepted, release ≥ MIN_YAGNA_VERSION
 *   (the first that knows Hoodi).
 * - **funds**: an account sends on the configured network and driver, and yagna grants an
 *   allocation of the whole `budgetGlm` (it refuses one the wallet cannot cover); the
 *   trial allocation is released at once, and expires on its own within 10 min anyway.
 * - **image**: every image the oracle may order resolves in the registry golem-js asks
 *   (`GOLEM_REGISTRY_URL`), or at `imageUrl`, and its file downloads.
 * - **offers**: the executor's own demand (image, threads, memory, disk, price limits) is
 *   published and at least one offer arrives within `offerWaitMs` that the spending
 *   bounds accept (spending.ts); the demand is withdrawn after.
 *
 * Nothing here touches a request, signs an agreement or spends GLM.
 */
import type { Allocation, GolemNetwork, OfferProposal } from "@golem-sdk/golem-js";
import { GolemNetwork as Network, YagnaApi } from "@golem-sdk/golem-js";
import type { GolemExecutorConfig } from "./config.ts";
import { type ImageOrder, marketOrderFor } from "./image-order.ts";
import { describeReason as reasonText } from "./promises.ts";
import type { ExecutorLogger } from "./reporting.ts";
import { golemLogger, SILENT_LOGGER } from "./reporting.ts";
import { offerRefusal } from "./spending.ts";

/** Hoodi, the Golem testnet since Holesky's end, is known from yagna 0.17.4 on. */
export const MIN_YAGNA_VERSION = "0.17.4";
export const DEFAULT_OFFER_WAIT_MS = 60_000;
const CALL_TIMEOUT_MS = 15_000;
const TRIAL_ALLOCATION_SEC = 600;

export type PreflightCheckName = "yagna" | "funds" | "image" | "offers";

export interface PreflightCheck {
  check: PreflightCheckName;
  status: "ok" | "failed" | "skipped";
  /** What was found, or what is wrong and what to do. */
  line: string;
}

export interface PreflightOptions {
  settings: GolemExecutorConfig;
  /** The images chunks may order (registry hashes of the active models, or the configured fallback). */
  images: ImageOrder[];
  /** Why no image could be listed (e.g. the model registry could not be read). */
  imagesProblem?: string;
  /** Longest wait for a matching offer. */
  offerWaitMs?: number;
  /** golem-js's registry (GOLEM_REGISTRY_URL, as golem-js reads it). */
  registryUrl?: string;
  logger?: ExecutorLogger;
}

export async function golemPreflight(options: PreflightOptions): Promise<PreflightCheck[]> {
  const { settings } = options;
  const logger = options.logger ?? SILENT_LOGGER;
  const checks: PreflightCheck[] = [];
  const yagna = await checkYagna(settings);
  checks.push(yagna);
  const image = await checkImages(options);
  if (yagna.status !== "ok") {
    const skipped = (check: PreflightCheckName): PreflightCheck => ({ check, status: "skipped", line: "not checked: yagna is not usable" });
    return [yagna, skipped("funds"), image, skipped("offers")];
  }
  const glm = new Network({
    logger: golemLogger(logger, "golem-js:preflight"),
    api: { key: settings.apiKey, url: settings.apiUrl },
    payment: { network: settings.paymentNetwork, driver: settings.paymentDriver },
  });
  let allocation: Allocation | undefined;
  try {
    await withTimeout(glm.connect(), CALL_TIMEOUT_MS, "connecting to yagna");
    const funds = await checkFunds(glm, settings);
    checks.push(funds.check);
    allocation = funds.allocation;
    checks.push(image);
    if (allocation === undefined) checks.push({ check: "offers", status: "skipped", line: "not checked: it needs an allocation" });
    else if (image.status !== "ok") checks.push({ check: "offers", status: "skipped", line: "not checked: no image resolves" });
    else checks.push(await checkOffers(glm, allocation, options));
  } catch (error) {
    // The check under way failed (the image check is pushed with the funds one); later ones were not reached.
    const failed = { status: "failed" as const, line: `yagna failed while checking: ${describeReason(error)}` };
    if (checks.length === 1) checks.push({ check: "funds", ...failed }, image, { check: "offers", status: "skipped", line: "not checked" });
    else checks.push({ check: "offers", ...failed });
  } finally {
    if (allocation) await glm.payment.releaseAllocation(allocation).catch(() => undefined);
    await glm.disconnect().catch(() => undefined);
  }
  return checks;
}

/** True when every check passed. */
export const preflightPassed = (checks: readonly PreflightCheck[]): boolean => checks.every((check) => check.status === "ok");

/** "0.17.4" ≥ "0.17.4-rc1"? Compares major.minor.patch; undefined when `version` has none. */
export function atLeastVersion(version: string, minimum: string): boolean | undefined {
  const parse = (text: string) => /^v?(\d+)\.(\d+)\.(\d+)/.exec(text.trim())?.slice(1, 4).map(Number);
  const have = parse(version);
  const want = parse(minimum)!;
  if (have === undefined) return undefined;
  for (let index = 0; index < 3; index++) if (have[index] !== want[index]) return have[index]! > want[index]!;
  return true;
}

async function checkYagna(settings: GolemExecutorConfig): Promise<PreflightCheck> {
  const failed = (line: string): PreflightCheck => ({ check: "yagna", status: "failed", line });
  if (!settings.apiKey) return failed("no app key: create one with `yagna app-key create argus-oracle` and set YAGNA_APPKEY");
  const api = new YagnaApi({ apiKey: settings.apiKey, basePath: settings.apiUrl });
  let version: string;
  let identity: string;
  try {
    const answer = await withTimeout(api.version.getVersion(), CALL_TIMEOUT_MS, "asking its version");
    version = answer.current.version;
    identity = (await withTimeout(api.identity.getIdentity(), CALL_TIMEOUT_MS, "asking its identity")).identity;
  } catch (error) {
    if (statusOf(error) === 401)
      return failed(`yagna at ${settings.apiUrl} refuses the app key: set YAGNA_APPKEY to one \`yagna app-key list\` shows`);
    return failed(
      `yagna is not reachable at ${settings.apiUrl} (${describeReason(error)}): start it (\`yagna service run\`) or set YAGNA_API_URL`,
    );
  }
  const recent = atLeastVersion(version, MIN_YAGNA_VERSION);
  if (recent !== true)
    return failed(
      `yagna ${version} at ${settings.apiUrl} is older than ${MIN_YAGNA_VERSION}, the first release that knows Hoodi: install a current one (curl -sSf https://join.golem.network/as-requestor | bash -)`,
    );
  return { check: "yagna", status: "ok", line: `yagna ${version} at ${settings.apiUrl}, node ${identity}` };
}

async function checkFunds(glm: GolemNetwork, settings: GolemExecutorConfig): Promise<{ check: PreflightCheck; allocation?: Allocation }> {
  const { paymentNetwork: network, paymentDriver: driver, budgetGlm } = settings;
  const failed = (line: string) => ({ check: { check: "funds" as const, status: "failed" as const, line } });
  const accounts = await withTimeout(glm.services.yagna.payment.getRequestorAccounts(), CALL_TIMEOUT_MS, "listing its accounts");
  const account = accounts.find((candidate) => candidate.network === network && candidate.driver === driver && candidate.send);
  if (account === undefined)
    return failed(
      `yagna has no account sending on ${network}/${driver}: run \`yagna payment init --sender --network ${network} --driver ${driver}\``,
    );
  const fund =
    network === "polygon"
      ? `send GLM and some POL for gas on Polygon to ${account.address}`
      : `run \`yagna payment fund --network ${network}\``;
  try {
    const allocation = await withTimeout(
      glm.payment.createAllocation({ budget: budgetGlm, expirationSec: TRIAL_ALLOCATION_SEC }),
      CALL_TIMEOUT_MS,
      "creating a trial allocation",
    );
    const line = `${account.platform} account ${account.address} can fund an allocation of ${budgetGlm} GLM (ARGUS_GOLEM_BUDGET_GLM)`;
    return { check: { check: "funds", status: "ok", line }, allocation };
  } catch (error) {
    return failed(
      `yagna refuses an allocation of ${budgetGlm} GLM on ${account.platform} (${describeReason(error)}): ${fund}, or lower ARGUS_GOLEM_BUDGET_GLM`,
    );
  }
}

async function checkImages(options: PreflightOptions): Promise<PreflightCheck> {
  const failed = (line: string): PreflightCheck => ({ check: "image", status: "failed", line });
  if (options.imagesProblem !== undefined) return failed(options.imagesProblem);
  if (options.images.length === 0)
    return failed(
      "no image to order: register the models with the provider image's hash (`argus models add … --provider-image provider-image/dist`) or set ARGUS_GOLEM_IMAGE_HASH",
    );
  const registry = (options.registryUrl ?? "https://registry.golem.network").replace(/\/+$/, "");
  const found: string[] = [];
  for (const { workload } of options.images) {
    const name = workload.imageHash ?? `tag ${workload.imageTag}`;
    let download = workload.imageUrl;
    try {
      if (download === undefined) {
        const query = workload.imageHash ? `hash=${workload.imageHash}` : `tag=${encodeURIComponent(workload.imageTag ?? "")}`;
        const info = await fetchWithin(`${registry}/v1/image/info?${query}`, "GET");
        if (!info.ok)
          return failed(
            `image ${name} is unknown to the registry ${registry} (HTTP ${info.status}): push the .gvmi (gvmkit-build --push) or host it and set ARGUS_GOLEM_IMAGE_URL, then register its hash`,
          );
        const body = (await info.json()) as { sha3?: string; http?: string };
        if (workload.imageHash && body.sha3 !== workload.imageHash)
          return failed(`the registry ${registry} answers hash ${body.sha3} for image ${name}: register the hash it really serves`);
        download = body.http;
      }
      const file = download === undefined ? undefined : await reachable(download);
      if (file === undefined || !file.ok)
        return failed(
          `image ${name} does not download from ${download ?? "the registry"} (HTTP ${file?.status ?? "no URL"}): upload the .gvmi there or fix ARGUS_GOLEM_IMAGE_URL`,
        );
      found.push(name);
    } catch (error) {
      return failed(`cannot reach ${download ?? registry} for image ${name} (${describeReason(error)}): check the URL and the network`);
    }
  }
  return { check: "image", status: "ok", line: `${found.join(", ")} resolve${found.length === 1 ? "s" : ""} and download` };
}

async function checkOffers(glm: GolemNetwork, allocation: Allocation, options: PreflightOptions): Promise<PreflightCheck> {
  const { settings } = options;
  const waitMs = options.offerWaitMs ?? DEFAULT_OFFER_WAIT_MS;
  const image = options.images[0]!;
  // The very order a chunk's pool publishes, so what this scan finds is what a chunk would.
  const order = marketOrderFor(image, settings);
  const demand = await glm.market.buildDemandDetails(order.demand, order.market, allocation);
  const refused = new Map<string, string>();
  const accepted = await new Promise<OfferProposal | undefined>((resolve) => {
    const subscriptions: { unsubscribe(): void }[] = [];
    const finish = (proposal?: OfferProposal) => {
      clearTimeout(timer);
      for (const subscription of subscriptions) subscription.unsubscribe();
      resolve(proposal);
    };
    const timer = setTimeout(() => finish(), waitMs);
    subscriptions.push(
      glm.market.publishAndRefreshDemand(demand).subscribe({
        next: (published) =>
          subscriptions.push(
            glm.market.collectMarketProposalEvents(published).subscribe({
              next: (event) => {
                if (event.type !== "ProposalReceived" || !event.proposal.isInitial()) return;
                const refusal = event.proposal.isValid() ? offerRefusal(event.proposal, settings) : "its pricing is unreadable";
                if (refusal === undefined) finish(event.proposal);
                else refused.set(event.proposal.provider.id, refusal);
              },
              error: () => finish(),
            }),
          ),
        error: () => finish(),
      }),
    );
  });
  const within = `${settings.minCpuThreads}–${settings.maxCpuThreads} threads, ${settings.minMemGib} GiB, ${settings.minStorageGib} GiB disk`;
  if (accepted !== undefined)
    return {
      check: "offers",
      status: "ok",
      line: `${accepted.provider.name} (${accepted.provider.id}) offers ${accepted.getDto().cpuThreads ?? 1} threads within the limits`,
    };
  if (refused.size === 0)
    return {
      check: "offers",
      status: "failed",
      line: `no provider offered on subnet ${settings.subnetTag} for image ${image.key} (${within}) within ${waitMs / 1000} s: check YAGNA_SUBNET and the ARGUS_GOLEM_MIN_* settings, or try again later`,
    };
  const [provider, reason] = [...refused][0]!;
  return {
    check: "offers",
    status: "failed",
    line: `${refused.size} offer(s) arrived but none within the spending bounds (e.g. ${provider}: ${reason}): raise ARGUS_GOLEM_MAX_* or ARGUS_GOLEM_ALLOWED_PROVIDERS deliberately, or wait for cheaper offers`,
  };
}

async function fetchWithin(url: string, method: "GET" | "HEAD", headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method, headers, signal: AbortSignal.timeout(CALL_TIMEOUT_MS) });
}

/** Whether a file downloads: HEAD, or its first byte where a server refuses HEAD. */
async function reachable(url: string): Promise<Response> {
  const head = await fetchWithin(url, "HEAD");
  if (head.status !== 405 && head.status !== 501) return head;
  const first = await fetchWithin(url, "GET", { range: "bytes=0-0" });
  await first.body?.cancel();
  return first;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s while ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** An error's message on one line (golem-js wraps yagna's answer over several). */
function describeReason(error: unknown): string {
  return reasonText(error).replace(/\s+/g, " ").trim();
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | undefined)?.status;
  return typeof status === "number" ? status : undefined;
}
