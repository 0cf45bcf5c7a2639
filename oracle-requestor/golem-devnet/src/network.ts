/**
 * The parts of the emulated network and how they reach each other. The requestor's yagna
 * (market, payment and activity services behind the REST API) and the providers (each a
 * yagna node with ya-provider on top) exchange messages; here a message is a method call
 * made after `latencyMs`, and never arrives at or from a provider that has vanished.
 */
import type { Activities } from "./activity/activities.ts";
import type { DevnetClock, Scheduler } from "./clock.ts";
import { ApiError } from "./http.ts";
import type { DevnetLog } from "./log.ts";
import type { Agreements } from "./market/agreements.ts";
import type { Market } from "./market/market.ts";
import type { Payments } from "./payment/payments.ts";
import type { Providers } from "./providers/providers.ts";

export interface Network {
  clock: DevnetClock;
  scheduler: Scheduler;
  log: DevnetLog;
  /** The requestor node's id (`GET /me`), which is also its wallet address. */
  requestorId: string;
  /** One-way delay of a message between the requestor's node and a provider (real ms). */
  latencyMs: number;
  /** How long a call to a vanished provider hangs before it fails (real ms, at most the call's own timeout). */
  unreachableAfterMs: number;
  market: Market;
  agreements: Agreements;
  payments: Payments;
  activities: Activities;
  providers: Providers;
}

/** Runs `message` after the network latency unless the provider is gone (then it is dropped). */
export function send(network: Network, providerId: string, message: () => void): void {
  const timer = setTimeout(() => {
    if (network.providers.isReachable(providerId)) {
      try {
        message();
      } catch (error) {
        network.log("error", "a network message failed", { providerId, error });
      }
    }
  }, network.latencyMs);
  timer.unref();
}

/**
 * Awaits a provider's answer. A vanished provider never answers: the call fails after its
 * timeout (at most `unreachableAfterMs`) with yagna's 408 Timeout (core/activity/src/error.rs).
 */
export async function call<T>(network: Network, providerId: string, timeoutSec: number, request: () => T | Promise<T>): Promise<T> {
  const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  if (!network.providers.isReachable(providerId)) {
    const waitMs = timeoutSec > 0 ? Math.min(network.unreachableAfterMs, timeoutSec * 1000) : network.unreachableAfterMs;
    await delay(waitMs);
    throw new ApiError(408, `Timeout: provider ${providerId} did not answer`);
  }
  await delay(network.latencyMs);
  return request();
}
