/** The requestor node's payment service: its allocations and the debit notes and invoices it receives. */
import type { Network } from "../network.ts";
import type { Wallet } from "./allocations.ts";
import { Allocations } from "./allocations.ts";
import { Documents } from "./documents.ts";

export class Payments {
  readonly allocations: Allocations;
  readonly documents: Documents;

  constructor(network: Network, wallet: Wallet) {
    this.allocations = new Allocations(network, wallet);
    this.documents = new Documents(network);
  }
}
