/** The requestor node's identity (`GET /me`) and version (`GET /version/get`; golem-js needs ≥ 0.15.2). */
import type { Handlers } from "./http.ts";
import { ok } from "./http.ts";
import type { Network } from "./network.ts";

/** The yagna release the devnet answers as: the current one (core: version 0.17.x). */
export const EMULATED_YAGNA_VERSION = { version: "0.17.1", name: "v0.17.1 golem-devnet (emulated)", releaseTs: "2025-03-27T00:00:00" };

export function identityHandlers(network: Network): Handlers {
  return { getIdentity: () => ok({ identity: network.requestorId, name: "golem-devnet-requestor", role: "manager" }) };
}

export function versionHandlers(): Handlers {
  return { getVersion: () => ok({ current: { ...EMULATED_YAGNA_VERSION, seen: true } }) };
}
