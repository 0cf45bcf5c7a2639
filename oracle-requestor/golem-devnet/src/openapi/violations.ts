/** The record of every spec violation seen, for GET /devnet/violations and the tests. */
import type { Violation } from "./validator.ts";

export type { Violation };

export class Violations {
  readonly #list: Violation[] = [];
  readonly #limit: number;

  constructor(limit = 1000) {
    this.#limit = limit;
  }

  record(violation: Omit<Violation, "at">): void {
    this.#list.push({ at: new Date().toISOString(), ...violation });
    if (this.#list.length > this.#limit) this.#list.splice(0, this.#list.length - this.#limit);
  }

  list(): Violation[] {
    return [...this.#list];
  }

  clear(): void {
    this.#list.length = 0;
  }
}
