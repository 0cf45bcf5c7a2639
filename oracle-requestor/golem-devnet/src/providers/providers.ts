/** The devnet's providers, by node id and by name. */
import type { Network } from "../network.ts";
import type { ProviderSpec } from "./offer.ts";
import type { ProviderEnvironment, ProviderFaults } from "./provider.ts";
import { EmulatedProvider } from "./provider.ts";

export class Providers {
  readonly #byId = new Map<string, EmulatedProvider>();

  constructor(network: Network, specs: readonly ProviderSpec[], environment: (spec: ProviderSpec) => ProviderEnvironment) {
    for (const spec of specs) {
      const provider = new EmulatedProvider(network, spec, environment(spec));
      if (this.#byId.has(provider.nodeId)) throw new Error(`two providers are named ${spec.name}`);
      this.#byId.set(provider.nodeId, provider);
    }
  }

  /** Publishes every provider's offer (done once the network is wired). */
  start(): void {
    for (const provider of this.#byId.values()) provider.publishOffer();
  }

  all(): EmulatedProvider[] {
    return [...this.#byId.values()];
  }

  byId(nodeId: string): EmulatedProvider | undefined {
    return this.#byId.get(nodeId.toLowerCase());
  }

  /** A provider by node id or name. */
  find(idOrName: string): EmulatedProvider | undefined {
    return this.byId(idOrName) ?? this.all().find((provider) => provider.spec.name === idOrName);
  }

  isReachable(nodeId: string): boolean {
    return this.byId(nodeId)?.reachable ?? false;
  }

  setFaults(provider: EmulatedProvider, faults: ProviderFaults): void {
    provider.faults = { ...faults };
  }
}
