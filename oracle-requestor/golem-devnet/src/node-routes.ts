/** The requestor node's identity (`GET /me`) and version (`GET /version/get`; golem-js needs ≥ 0.15.2). */
import type { Handlers } from "./http.ts";
import { ok } from "./http.ts";
import type { Network } from "./network.ts";

/**
 * The yagna release the devnet answers as by default: 0.17.4, the first that knows the
 * Hoodi testnet (older ones know only the retired Holesky). `yagnaVersion` changes it,
 * e.g. to see a requestor refuse an old node.
 */
export const DEFAULT_YAGNA_VERSION = "0.17.4";

export function identityHandlers(network: Network): Handlers {
  return { getIdentity: () => ok({ identity: network.requestorId, name: "golem-devnet-requestor", role: "manager" }) };
}

export function versionHandlers(version: string = DEFAULT_YAGNA_VERSION): Handlers {
  const current = { version, name: `v${version} golem-devnet (emulated)`, seen: true, releaseTs: "2025-06-01T00:00:00" };
  return { getVersion: () => ok({ current }) };
}
