/**
 * `startGolemDevnet`: an emulated yagna (requestor node) and providers on one HTTP port,
 * which unmodified golem-js talks to as to yagna. See ../README.md for what is emulated
 * and how faithfully; the parts:
 *
 * - server.ts: HTTP, app key, spec validation, the 500 window; openapi/: the vendored specs;
 * - market/, payment/, activity/: the requestor node's services;
 * - providers/: the provider nodes (offers, negotiation, agreements, billing);
 * - exe-unit/, gsb/, registry/: the exe-units running commands in the image, the GSB API
 *   golem-js's file transfers use, and the image registry (mounted here);
 * - control/: the /devnet/ control API; clock.ts: the emulated clock.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { ExeUnitFactory } from "./activity/activities.ts";
import { Activities } from "./activity/activities.ts";
import { activityHandlers } from "./activity/routes.ts";
import { DevnetClock, Scheduler } from "./clock.ts";
import type { ControlTarget } from "./control/routes.ts";
import { controlMount, parseFaults, parseOfferUpdate } from "./control/routes.ts";
import {
  activitiesView,
  agreementsView,
  allocationsView,
  debitNotesView,
  invoicesView,
  providersView,
  summaryView,
} from "./control/state.ts";
import { createExeUnit } from "./exe-unit/create-exe-unit.ts";
import type { GsbCaller } from "./exe-unit/exe-unit.ts";
import { createGsbHub } from "./gsb/gsb-hub.ts";
import { nodeIdOf } from "./ids.ts";
import type { DevnetLog } from "./log.ts";
import { silentLog } from "./log.ts";
import { Agreements } from "./market/agreements.ts";
import { Market } from "./market/market.ts";
import { marketHandlers } from "./market/routes.ts";
import type { Network } from "./network.ts";
import { identityHandlers, versionHandlers } from "./node-routes.ts";
import { loadSpecs } from "./openapi/load.ts";
import { buildOperations } from "./openapi/operations.ts";
import { SpecValidator } from "./openapi/validator.ts";
import type { Violation } from "./openapi/violations.ts";
import { Violations } from "./openapi/violations.ts";
import { Payments } from "./payment/payments.ts";
import { paymentHandlers } from "./payment/routes.ts";
import type { OfferUpdate, ProviderSpec } from "./providers/offer.ts";
import { PAYMENT_PLATFORMS } from "./providers/offer.ts";
import type { ProviderFaults } from "./providers/provider.ts";
import { Providers } from "./providers/providers.ts";
import type { ImageRegistry } from "./registry/image-registry.ts";
import { createImageRegistry } from "./registry/image-registry.ts";
import type { Mount } from "./server.ts";
import { sendJson, startServer } from "./server.ts";

export type { ProviderSpec, Violation, ExeUnitFactory, OfferUpdate, ProviderFaults };

export interface GolemDevnetOptions {
  host?: string;
  /** 7465 like yagna; 0 picks a free port. */
  port?: number;
  appKey?: string;
  providers: ProviderSpec[];
  /** Image caches and activity volumes, outside the checkout. */
  workRoot: string;
  /** Answer spec violations with 400 (requests) and 500 (responses) besides recording them. */
  strict?: boolean;
  subnet?: string;
  /** GLM the requestor's wallet holds on each payment platform. */
  walletGlm?: number;
  /** The yagna release `GET /version/get` names (default DEFAULT_YAGNA_VERSION). */
  yagnaVersion?: string;
  /** One-way message delay between the requestor's node and a provider (ms). */
  latencyMs?: number;
  /** How long calls to a vanished provider hang before timing out (ms). */
  unreachableAfterMs?: number;
  /** Images the registry serves from the start (a .gvmi and the sha3-224 its build printed). */
  images?: { file: string; sha3: string; tags?: string[] }[];
  /** Starts the exe-unit of an activity (default: exe-unit/create-exe-unit.ts, bubblewrap inside the image). */
  exeUnits?: ExeUnitFactory;
  /** Extra services sharing the port, looked at before yagna's routes. */
  mounts?: Mount[];
  log?: DevnetLog;
}

export interface GolemDevnet {
  url: string;
  appKey: string;
  /** What GOLEM_REGISTRY_URL should be for golem-js to find images here. */
  registryUrl: string;
  registry: ImageRegistry;
  /** The requestor's GSB services (what providers' gftp clients reach). */
  gsb: GsbCaller;
  requestorId: string;
  providers: { id: string; name: string }[];
  /** Moves the emulated clock forward. */
  advanceClock(seconds: number): void;
  /** Every yagna call answers 500 for `seconds` of emulated time. */
  failYagnaFor(seconds: number): void;
  setFaults(provider: string, faults: ProviderFaults): void;
  /** Changes a provider's offer: the old one is unsubscribed, a new one published (as PUT /devnet/providers/{id}/offer). */
  updateOffer(provider: string, update: OfferUpdate): void;
  setVanished(provider: string, vanished: boolean): void;
  violations(): Violation[];
  clearViolations(): void;
  status(): ReturnType<typeof summaryView>;
  view: {
    providers(): ReturnType<typeof providersView>;
    agreements(): ReturnType<typeof agreementsView>;
    activities(): ReturnType<typeof activitiesView>;
    debitNotes(): ReturnType<typeof debitNotesView>;
    invoices(): ReturnType<typeof invoicesView>;
    allocations(): ReturnType<typeof allocationsView>;
  };
  /** The running parts, for tests that look inside. */
  network: Network;
  close(): Promise<void>;
}

export async function startGolemDevnet(options: GolemDevnetOptions): Promise<GolemDevnet> {
  const log = options.log ?? silentLog;
  const appKey = options.appKey ?? "golem-devnet-app-key";
  const clock = new DevnetClock();
  const scheduler = new Scheduler(clock, (label, error) => log("error", `scheduled task "${label}" failed`, { error }));
  const violations = new Violations();
  const specs = loadSpecs();
  const validator = new SpecValidator(specs);
  const operations = buildOperations(specs);
  const strict = options.strict ?? false;
  let failingUntilMs = 0;
  const requestorId = nodeIdOf("requestor");
  const gsb = createGsbHub({ appKey, nodeId: requestorId });
  const registry = createImageRegistry();
  for (const image of options.images ?? []) await registry.register(image.file, image.sha3, image.tags);

  const network = {
    clock,
    scheduler,
    log,
    requestorId,
    latencyMs: options.latencyMs ?? 50,
    unreachableAfterMs: options.unreachableAfterMs ?? 5_000,
  } as Network;
  network.market = new Market(network);
  network.agreements = new Agreements(network);
  network.payments = new Payments(network, { platforms: PAYMENT_PLATFORMS, balanceGlm: options.walletGlm ?? 1_000 });
  network.activities = new Activities(network, (command) => {
    const kind = Object.keys(command)[0]!;
    const schema = `${kind[0]!.toUpperCase()}${kind.slice(1)}Command`;
    const problems = validator.checkComponent("activity-api", schema, "request", command);
    if (problems.length > 0)
      violations.record({ direction: "request", operationId: "exec", method: "POST", path: `ExeScript ${kind}`, errors: problems });
    return strict ? problems : [];
  });
  network.providers = new Providers(network, options.providers, (spec) => ({
    subnet: options.subnet ?? "public",
    exeUnits: options.exeUnits ?? createExeUnit,
    gsb,
    workDir: join(options.workRoot, "providers", spec.name),
  }));
  for (const spec of options.providers) await mkdir(join(options.workRoot, "providers", spec.name), { recursive: true });

  const failYagnaFor = (seconds: number) => {
    failingUntilMs = Math.max(failingUntilMs, clock.now() + seconds * 1000);
    log("info", `yagna fails every call for ${seconds} s`);
  };
  const failure = () => {
    const left = failingUntilMs - clock.now();
    return left > 0 ? `golem-devnet: yagna is failing on purpose (control API), ${Math.ceil(left / 1000)} s left` : undefined;
  };
  const control: ControlTarget = { network, violations, appKey, failYagnaFor };
  const running = await startServer({
    host: options.host ?? "127.0.0.1",
    port: options.port ?? 7465,
    appKey,
    strict,
    operations,
    validator,
    violations,
    handlers: {
      "identity-api": identityHandlers(network),
      "version-api": versionHandlers(options.yagnaVersion),
      "market-api": marketHandlers(network),
      "payment-api": paymentHandlers(network),
      "activity-api": activityHandlers(network),
    },
    mounts: [
      controlMount(control),
      {
        // The GSB API is yagna's too: the 500 window covers it (REST calls and new WebSockets).
        name: "gsb",
        handle: (request, response, url) => {
          const failing = url.pathname.startsWith("/gsb-api/") ? failure() : undefined;
          if (failing === undefined) return gsb.handleHttp(request, response);
          sendJson(response, 500, { message: failing });
          return true;
        },
        upgrade: (request, socket, head, url) => {
          if (url.pathname.startsWith("/gsb-api/") && failure() !== undefined) {
            socket.end("HTTP/1.1 500 Internal Server Error\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
            return true;
          }
          return gsb.handleUpgrade(request, socket, head);
        },
      },
      { name: "registry", handle: (request, response) => registry.handle(request, response) },
      ...(options.mounts ?? []),
    ],
    failure,
    log,
  });
  network.providers.start();
  log("info", `golem-devnet listening on ${running.url} with ${options.providers.length} providers`);

  const provider = (idOrName: string) => {
    const found = network.providers.find(idOrName);
    if (!found) throw new Error(`no provider ${idOrName}`);
    return found;
  };
  return {
    url: running.url,
    appKey,
    registryUrl: registry.registryUrl(running.url),
    registry,
    gsb,
    requestorId: network.requestorId,
    providers: network.providers.all().map((entry) => ({ id: entry.nodeId, name: entry.spec.name })),
    advanceClock: (seconds) => clock.advance(seconds * 1000),
    failYagnaFor,
    setFaults: (idOrName, faults) => network.providers.setFaults(provider(idOrName), parseFaults(faults as Record<string, unknown>)),
    updateOffer: (idOrName, update) => provider(idOrName).updateOffer(parseOfferUpdate(update)),
    setVanished: (idOrName, vanished) => {
      provider(idOrName).vanished = vanished;
    },
    violations: () => violations.list(),
    clearViolations: () => violations.clear(),
    status: () => summaryView(network),
    view: {
      providers: () => providersView(network),
      agreements: () => agreementsView(network),
      activities: () => activitiesView(network),
      debitNotes: () => debitNotesView(network),
      invoices: () => invoicesView(network),
      allocations: () => allocationsView(network),
    },
    network,
    async close() {
      scheduler.stop();
      for (const record of network.activities.records.values()) {
        if (record.endedAtMs === undefined) await record.exeUnit.destroy().catch(() => undefined);
      }
      gsb.close();
      await running.close();
    },
  };
}
