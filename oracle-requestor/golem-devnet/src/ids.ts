/**
 * Identifiers and timestamps in the shapes yagna gives them: node ids are 0x-prefixed
 * 20-byte addresses, subscription ids `<32 hex>-<64 hex>`, proposal and agreement ids 64
 * hex digits, activity, batch, debit-note, invoice and allocation ids UUID-like hex.
 *
 * Event timestamps have microseconds (yagna's chrono timestamps do) and each event log
 * hands out strictly increasing ones: golem-js polls with `afterTimestamp` set to the
 * last event's date, so two events sharing a timestamp across two polls would lose one.
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";

export const randomHex = (bytes: number): string => randomBytes(bytes).toString("hex");

/** A node id derived from a name, so providers keep their ids across restarts. */
export function nodeIdOf(name: string): string {
  return `0x${createHash("sha256").update(`argus-golem-devnet:${name}`).digest("hex").slice(0, 40)}`;
}

export const subscriptionId = (): string => `${randomHex(16)}-${randomHex(32)}`;
export const proposalId = (): string => randomHex(32);
export const agreementId = (): string => randomHex(32);
export const activityId = (): string => randomHex(16);
export const batchId = (): string => randomHex(16);
export const documentId = (): string => randomUUID();

/** Microseconds since the epoch as an RFC 3339 string with six fractional digits. */
export function isoMicros(micros: number): string {
  const ms = Math.floor(micros / 1000);
  const fraction = String(micros % 1000).padStart(3, "0");
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, `.$1${fraction}Z`);
}

/** An RFC 3339 timestamp as microseconds since the epoch (fractions beyond µs dropped); NaN if unreadable. */
export function parseMicros(text: string): number {
  const match = /^(.*T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})$/i.exec(text.trim());
  if (!match) return Number.NaN;
  const seconds = Date.parse(`${match[1]}${match[3]!.toUpperCase()}`);
  if (Number.isNaN(seconds)) return Number.NaN;
  const fraction = (match[2] ?? "").slice(0, 6).padEnd(6, "0");
  return seconds * 1000 + Number(fraction);
}

/** Hands out strictly increasing microsecond timestamps that follow a millisecond clock. */
export class MonotonicMicros {
  #last = 0;
  readonly #nowMs: () => number;

  constructor(nowMs: () => number) {
    this.#nowMs = nowMs;
  }

  next(): number {
    this.#last = Math.max(this.#nowMs() * 1000, this.#last + 1);
    return this.#last;
  }
}
