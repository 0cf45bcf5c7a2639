/**
 * The oracle's health as `/healthz` reports it: healthy while intake has polled the
 * chain recently and no loop's latest step failed.
 */
import type { Address } from "viem";
import type { IntakeProgress } from "../intake/request-events.ts";
import type { Health } from "../status-server.ts";

export interface HealthSources {
  escrow: Address;
  chainId: number;
  oracle: Address;
  executorKind: string;
  pollIntervalMs: number;
  chunksRunning(): number;
  loopErrors: ReadonlyMap<string, string>;
}

export class HealthReport {
  readonly #sources: HealthSources;
  #lastIntake: (IntakeProgress & { at: number }) | undefined;

  constructor(sources: HealthSources) {
    this.#sources = sources;
  }

  intakePolled(progress: IntakeProgress): void {
    this.#lastIntake = { ...progress, at: Date.now() };
  }

  current(): Health {
    const { escrow, chainId, oracle, executorKind, pollIntervalMs, loopErrors } = this.#sources;
    const lastIntake = this.#lastIntake;
    // Ten missed polls, and never less than 30 s, before a quiet intake counts as stuck.
    const intakeFresh = lastIntake !== undefined && Date.now() - lastIntake.at < Math.max(30_000, pollIntervalMs * 10);
    return {
      ok: intakeFresh && loopErrors.size === 0,
      escrow,
      chainId,
      oracle,
      executor: executorKind,
      chunksRunning: this.#sources.chunksRunning(),
      head: lastIntake?.head,
      readUpTo: lastIntake?.readUpTo,
      lastIntakeAt: lastIntake?.at,
      errors: Object.fromEntries(loopErrors),
    };
  }
}
