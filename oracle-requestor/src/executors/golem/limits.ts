/**
 * What the Golem settings imply, used by the schema's checks and by the executor: the
 * most one agreement can cost, how long a demand is used, how early an allocation is
 * renewed, and how long one chunk can keep a pool busy.
 */
export const HOUR_MS = 3_600_000;

export type AgreementLimits = Record<"maxStartPriceGlm" | "maxEnvPerHourGlm" | "maxCpuPerHourGlm" | "maxCpuThreads" | "rentHours", number>;
export type RenewalTimes = Record<
  "rentHours" | "maxAttempts" | "acquireTimeoutMs" | "deployTimeoutMs" | "attemptTimeoutMs" | "finalizeTimeoutMs",
  number
>;

/**
 * The most one agreement can cost at the price limits: the start price, then environment
 * and CPU for `rentHours`, CPU on `maxCpuThreads` (a VM is billed for every thread its
 * provider offers, and no offer with more is taken: spending.ts). An allocation with
 * less than this left is replaced before the next chunk.
 */
export function maxAgreementCostGlm(config: AgreementLimits): number {
  const glm = config.maxStartPriceGlm + config.rentHours * (config.maxEnvPerHourGlm + config.maxCpuPerHourGlm * config.maxCpuThreads);
  return Number(glm.toFixed(9)); // so that 0.02 + 0.1 × 0.5 reads 0.07 in messages and logs
}

/**
 * How long one demand (and the pool it feeds) is used before a fresh one replaces it.
 * golem-js writes `golem.srv.comp.expiration = now + rentHours` into a demand once;
 * providers reject a demand expiring within 5 min and end each agreement at that
 * instant, so the demand is rebuilt 10 min before it expires (sooner for short rents).
 */
export function demandRefreshMs(config: { rentHours: number }): number {
  const rentMs = config.rentHours * HOUR_MS;
  return Math.max(rentMs - 10 * 60_000, (rentMs - 5 * 60_000) / 2);
}

/**
 * How long before its end an allocation stops funding new chunks. golem-js binds every
 * agreement, debit note and invoice of a rental pool to the allocation the pool was made
 * with, and yagna refuses to accept them against an expired allocation. A chunk that
 * starts now may sign its last agreement as late as its last attempt (each waits up to
 * `acquireTimeoutMs` for a provider and runs up to `attemptTimeoutMs`); that agreement
 * can last `rentHours`, and its invoice comes after it ends (awaited `finalizeTimeoutMs`).
 */
export function renewalLeadMs(config: RenewalTimes): number {
  return config.rentHours * HOUR_MS + chunkTimeMs(config) + config.finalizeTimeoutMs;
}

/** Longest one chunk keeps a pool busy: every attempt waiting for, deploying and using a provider. */
export function chunkTimeMs(config: Omit<RenewalTimes, "rentHours" | "finalizeTimeoutMs">): number {
  return config.maxAttempts * (config.acquireTimeoutMs + config.deployTimeoutMs + config.attemptTimeoutMs);
}
