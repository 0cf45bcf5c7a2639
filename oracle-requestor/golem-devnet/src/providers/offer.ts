/**
 * The offer an emulated provider publishes: the properties ya-provider writes for its
 * `vm` preset (agent/provider/src/provider_agent.rs build_offer, ya-agreement-utils
 * typed_props.rs, payments/pricing.rs LinearPricingOffer, and the negotiators'
 * fill_template), with values from the devnet's provider settings.
 */

/** Hardware, prices and speed of one emulated provider. */
export interface ProviderSpec {
  name: string;
  threads: number;
  memoryGib: number;
  storageGib: number;
  /** Linear pricing in GLM: once per activity, per hour of activity, per CPU-thread hour. */
  prices: { start: number; envPerHour: number; cpuPerHour: number };
  /** ≥ 1: how many times slower than this machine its commands run. */
  speed: number;
}

/** What the control API may change in a running provider's offer (its preset's prices, its hardware). */
export interface OfferUpdate {
  threads?: number;
  memoryGib?: number;
  prices?: Partial<ProviderSpec["prices"]>;
}

/** The spec with `update` applied (a new object: specs may share their prices object). */
export function updatedSpec(spec: ProviderSpec, update: OfferUpdate): ProviderSpec {
  return {
    ...spec,
    threads: update.threads ?? spec.threads,
    memoryGib: update.memoryGib ?? spec.memoryGib,
    prices: { ...spec.prices, ...update.prices },
  };
}

/** The usage vector ya-provider's default presets use, in its order. */
export const USAGE_VECTOR = ["golem.usage.cpu_sec", "golem.usage.duration_sec"] as const;

/** Defaults of ya-provider's negotiators (agent/provider/src/market/negotiator/factory.rs). */
export const PROVIDER_DEFAULTS = {
  debitNoteIntervalSec: 120,
  paymentTimeoutSec: 120,
  debitNoteAcceptTimeoutSec: 240,
} as const;

export const PAYMENT_PLATFORMS = ["erc20-hoodi-tglm", "erc20-polygon-glm"] as const;

/** golem-ya runtime's version the offers name (ya-runtime-vm 0.4.x is current). */
const RUNTIME_VERSION = "0.4.2";

export interface OfferTemplate {
  properties: Record<string, unknown>;
  constraints: string;
}

export function offerTemplate(spec: ProviderSpec, nodeId: string, subnet: string, createdAtMs: number): OfferTemplate {
  const { prices } = spec;
  const properties: Record<string, unknown> = {
    "golem.activity.caps.transfer.protocol": ["gftp", "http", "https"],
    "golem.activity.caps.transfer.report-progress": true,
    "golem.com.payment.debit-notes.accept-timeout?": PROVIDER_DEFAULTS.debitNoteAcceptTimeoutSec,
    "golem.com.payment.protocol.version": 3,
    "golem.com.pricing.model": "linear",
    // coefficients in the usage vector's order, then the constant start price
    "golem.com.pricing.model.linear.coeffs": [prices.cpuPerHour / 3600, prices.envPerHour / 3600, prices.start],
    "golem.com.scheme": "payu",
    "golem.com.scheme.payu.debit-note.interval-sec?": PROVIDER_DEFAULTS.debitNoteIntervalSec,
    "golem.com.scheme.payu.payment-timeout-sec?": PROVIDER_DEFAULTS.paymentTimeoutSec,
    "golem.com.usage.vector": [...USAGE_VECTOR],
    "golem.inf.cpu.architecture": "x86_64",
    "golem.inf.cpu.brand": "Argus golem-devnet emulated vCPU",
    "golem.inf.cpu.capabilities": ["sse2", "sse4_1", "sse4_2", "avx", "avx2", "fma"],
    "golem.inf.cpu.cores": Math.max(1, Math.ceil(spec.threads / 2)),
    "golem.inf.cpu.threads": spec.threads,
    "golem.inf.cpu.vendor": "GenuineIntel",
    "golem.inf.mem.gib": spec.memoryGib,
    "golem.inf.storage.gib": spec.storageGib,
    "golem.node.debug.subnet": subnet,
    "golem.node.id.name": spec.name,
    "golem.node.net.is-public": false,
    "golem.runtime.capabilities": ["inet", "vpn", "manifest-support", "start-entrypoint"],
    "golem.runtime.name": "vm",
    "golem.runtime.version": RUNTIME_VERSION,
    "golem.srv.caps.multi-activity": true,
    "golem.srv.caps.payload-manifest": true,
  };
  for (const platform of PAYMENT_PLATFORMS) properties[`golem.com.payment.platform.${platform}.address`] = nodeId;
  return {
    properties,
    // An offer only matches demands expiring after it was made (provider_agent.rs build_constraints).
    constraints: `(&\n  (golem.srv.comp.expiration>${createdAtMs})\n  (golem.node.debug.subnet=${subnet})\n)`,
  };
}
