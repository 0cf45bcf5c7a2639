/**
 * The control API under /devnet/ (not part of yagna), with the same app key:
 *
 *   GET    /devnet/status                 totals (agreements, documents, GLM spent, clock)
 *   POST   /devnet/clock/advance          {"seconds": N}: moves the emulated clock forward
 *   POST   /devnet/yagna/fail             {"seconds": T}: every yagna call answers 500 for T s (emulated)
 *   GET    /devnet/providers              providers with their offer, faults and agreements
 *   PUT    /devnet/providers/{id|name}/faults   the exe-unit faults (slowFactor, crashAfterMs,
 *                                         invalidResults, lie, oversizedResultsBytes,
 *                                         dropTransferAfterBytes, deployDelayMs) and the
 *                                         billing one (overchargeFactor ≥ 1: debit notes and
 *                                         invoices state that many times the cost); {} clears
 *   PUT    /devnet/providers/{id|name}/offer    {"threads"?, "memoryGib"?, "prices"?: {"start"?,
 *                                         "envPerHour"?, "cpuPerHour"?}}: changes the offer as
 *                                         ya-provider does on a preset/hardware change: the old
 *                                         one unsubscribed, a new one (new id) published;
 *                                         agreements keep the terms they were signed with
 *   POST   /devnet/providers/{id|name}/vanish   {"vanished": true|false}
 *   GET    /devnet/agreements | activities | debit-notes | invoices | allocations
 *   GET    /devnet/violations             spec violations seen; DELETE clears them
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Network } from "../network.ts";
import type { Violations } from "../openapi/violations.ts";
import type { OfferUpdate, ProviderSpec } from "../providers/offer.ts";
import type { ProviderFaults } from "../providers/provider.ts";
import type { Mount } from "../server.ts";
import { authorized, readBody, sendJson } from "../server.ts";
import { activitiesView, agreementsView, allocationsView, debitNotesView, invoicesView, providersView, summaryView } from "./state.ts";

export interface ControlTarget {
  network: Network;
  violations: Violations;
  appKey: string;
  /** Opens the 500 window for `seconds` of emulated time. */
  failYagnaFor(seconds: number): void;
}

const FAULT_KEYS: (keyof ProviderFaults)[] = [
  "slowFactor",
  "crashAfterMs",
  "invalidResults",
  "lie",
  "dropTransferAfterBytes",
  "deployDelayMs",
  "oversizedResultsBytes",
  "overchargeFactor",
];
/** Factors: a value below 1 would make a provider faster or cheaper, not faulty. */
const FACTOR_KEYS: (keyof ProviderFaults)[] = ["slowFactor", "overchargeFactor"];
const PRICE_KEYS: (keyof ProviderSpec["prices"])[] = ["start", "envPerHour", "cpuPerHour"];

export function controlMount(target: ControlTarget): Mount {
  return {
    name: "control",
    async handle(request: IncomingMessage, response: ServerResponse, url: URL): Promise<boolean> {
      if (!url.pathname.startsWith("/devnet/")) return false;
      if (!authorized(request, target.appKey)) {
        sendJson(response, 401, { message: "Authorization information is missing or invalid (app key)" });
        return true;
      }
      try {
        const result = await route(target, request.method ?? "GET", url.pathname.slice("/devnet".length), request);
        if (result === undefined) sendJson(response, 404, { message: `no control endpoint ${request.method} ${url.pathname}` });
        else sendJson(response, 200, result);
      } catch (error) {
        sendJson(response, 400, { message: (error as Error).message });
      }
      return true;
    },
  };
}

async function route(target: ControlTarget, method: string, path: string, request: IncomingMessage): Promise<unknown> {
  const { network } = target;
  const body = async () => {
    const raw = await readBody(request, 64 * 1024);
    return raw.length === 0 ? {} : (JSON.parse(raw.toString("utf8")) as Record<string, unknown>);
  };
  if (method === "GET") {
    switch (path) {
      case "/status":
        return summaryView(network);
      case "/providers":
        return providersView(network);
      case "/agreements":
        return agreementsView(network);
      case "/activities":
        return activitiesView(network);
      case "/debit-notes":
        return debitNotesView(network);
      case "/invoices":
        return invoicesView(network);
      case "/allocations":
        return allocationsView(network);
      case "/violations":
        return target.violations.list();
    }
    return undefined;
  }
  if (method === "DELETE" && path === "/violations") {
    target.violations.clear();
    return { cleared: true };
  }
  if (method === "POST" && path === "/clock/advance") {
    const seconds = positiveNumber((await body()).seconds, "seconds");
    network.clock.advance(seconds * 1000);
    return { now: new Date(network.clock.now()).toISOString(), offsetMs: network.clock.offsetMs };
  }
  if (method === "POST" && path === "/yagna/fail") {
    const seconds = positiveNumber((await body()).seconds, "seconds");
    target.failYagnaFor(seconds);
    return { failingUntil: new Date(network.clock.now() + seconds * 1000).toISOString() };
  }
  const provider = /^\/providers\/([^/]+)\/(faults|vanish|offer)$/.exec(path);
  if (provider) {
    const found = network.providers.find(decodeURIComponent(provider[1]!));
    if (!found) throw new Error(`no provider ${provider[1]}`);
    if (provider[2] === "faults" && (method === "PUT" || method === "POST")) {
      network.providers.setFaults(found, parseFaults(await body()));
      return { id: found.nodeId, name: found.spec.name, faults: found.faults };
    }
    if (provider[2] === "offer" && method === "PUT") {
      found.updateOffer(parseOfferUpdate(await body()));
      return providersView(network).find((view) => view.id === found.nodeId);
    }
    if (provider[2] === "vanish" && method === "POST") {
      const { vanished = true } = await body();
      found.vanished = vanished === true;
      return { id: found.nodeId, name: found.spec.name, vanished: found.vanished };
    }
  }
  return undefined;
}

export function parseFaults(value: Record<string, unknown>): ProviderFaults {
  const faults: ProviderFaults = {};
  for (const [key, entry] of Object.entries(value)) {
    if (!FAULT_KEYS.includes(key as keyof ProviderFaults)) throw new Error(`unknown fault ${key} (known: ${FAULT_KEYS.join(", ")})`);
    if (entry === null || entry === undefined) continue;
    if (key === "invalidResults" || key === "lie") {
      if (typeof entry !== "boolean") throw new Error(`${key} is true or false`);
      faults[key] = entry;
    } else {
      const minimum = FACTOR_KEYS.includes(key as keyof ProviderFaults) ? 1 : 0;
      faults[key as "slowFactor"] = positiveNumber(entry, key, minimum);
    }
  }
  return faults;
}

/** The body of PUT /devnet/providers/{id}/offer: threads and memory > 0 (threads whole), prices ≥ 0. */
export function parseOfferUpdate(value: unknown): OfferUpdate {
  const entries = objectEntries(value, "the offer change");
  if (entries.length === 0) throw new Error("nothing to change: give threads, memoryGib or prices");
  const update: OfferUpdate = {};
  for (const [key, entry] of entries) {
    if (key === "threads") {
      if (typeof entry !== "number" || !Number.isInteger(entry) || entry < 1) throw new Error("threads must be an integer ≥ 1");
      update.threads = entry;
    } else if (key === "memoryGib") {
      if (typeof entry !== "number" || !Number.isFinite(entry) || entry <= 0) throw new Error("memoryGib must be a number > 0");
      update.memoryGib = entry;
    } else if (key === "prices") {
      update.prices = {};
      for (const [price, amount] of objectEntries(entry, "prices")) {
        if (!PRICE_KEYS.includes(price as keyof ProviderSpec["prices"]))
          throw new Error(`unknown price ${price} (known: ${PRICE_KEYS.join(", ")})`);
        if (typeof amount !== "number") throw new Error(`prices.${price} must be a number ≥ 0`);
        update.prices[price as keyof ProviderSpec["prices"]] = positiveNumber(amount, `prices.${price}`);
      }
    } else throw new Error(`unknown offer field ${key} (known: threads, memoryGib, prices)`);
  }
  return update;
}

function objectEntries(value: unknown, name: string): [string, unknown][] {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error(`${name} must be a JSON object`);
  return Object.entries(value);
}

function positiveNumber(value: unknown, name: string, minimum = 0): number {
  const number = typeof value === "string" ? Number(value) : value;
  if (typeof number !== "number" || !Number.isFinite(number) || number < minimum) throw new Error(`${name} must be a number ≥ ${minimum}`);
  return number;
}
