/**
 * Allocations on the requestor's node (core/payment/src/api/allocations/mod.rs and the
 * payment service's ValidateAllocation):
 *
 * - created for a payment platform `driver-network-token` the devnet's wallet has
 *   (erc20-hoodi-tglm, erc20-polygon-glm) and the node's own address, with a positive
 *   amount the wallet still covers next to the other live allocations, and a timeout in
 *   the future; otherwise 400 with the reason;
 * - released by DELETE, or automatically when their timeout passes
 *   (schedule_release_allocation); a released one answers 410 Gone;
 * - spent by accepted debit notes and invoices; spending more than remains is refused
 *   (400 "Not enough funds"), spending from a released one is 410.
 */
import type { Amount } from "../decimal.ts";
import { AmountError, formatAmount, parseAmount } from "../decimal.ts";
import { ApiError, badRequest, gone, notFound } from "../http.ts";
import { documentId, isoMicros, parseMicros } from "../ids.ts";
import type { Network } from "../network.ts";

export interface AllocationRecord {
  id: string;
  address: string;
  paymentPlatform: string;
  totalAmount: Amount;
  spentAmount: Amount;
  timestamp: string;
  timeoutMs?: number;
  makeDeposit: boolean;
  released: boolean;
  /** Why it ended: released by the requestor, or its timeout passed. */
  releasedBy?: "requestor" | "timeout";
}

/** An allocation as the payment API answers it (payment-api.yaml Allocation). */
export interface AllocationJson {
  allocationId: string;
  address: string;
  paymentPlatform: string;
  totalAmount: string;
  spentAmount: string;
  remainingAmount: string;
  timestamp: string;
  timeout?: string;
  makeDeposit: boolean;
}

export interface Wallet {
  /** Payment platforms the requestor's node has an account on. */
  platforms: readonly string[];
  /** GLM each platform's account holds. */
  balanceGlm: number;
}

export class Allocations {
  readonly records = new Map<string, AllocationRecord>();
  readonly #network: Network;
  readonly #wallet: Wallet;

  constructor(network: Network, wallet: Wallet) {
    this.#network = network;
    this.#wallet = wallet;
  }

  create(body: Record<string, unknown>): AllocationRecord {
    const platform = this.#platform(body.paymentPlatform);
    const address = typeof body.address === "string" && body.address !== "" ? body.address : this.#network.requestorId;
    if (address.toLowerCase() !== this.#network.requestorId.toLowerCase()) {
      throw badRequest(`Account ${address} not registered on platform ${platform}`);
    }
    let total: Amount;
    try {
      total = parseAmount(String(body.totalAmount ?? ""));
    } catch (error) {
      if (error instanceof AmountError) throw badRequest(`totalAmount: ${error.message}`);
      throw error;
    }
    if (total <= 0n) throw badRequest("totalAmount must be positive");
    const now = this.#network.clock.now();
    let timeoutMs: number | undefined;
    if (typeof body.timeout === "string" && body.timeout !== "") {
      const micros = parseMicros(body.timeout);
      if (Number.isNaN(micros)) throw badRequest(`timeout ${body.timeout} is not a date-time`);
      timeoutMs = Math.floor(micros / 1000);
      if (timeoutMs <= now) throw badRequest(`Allocation timeout ${body.timeout} is in the past`);
    }
    const reserved = [...this.records.values()]
      .filter((record) => !record.released && record.paymentPlatform === platform)
      .reduce((sum, record) => sum + record.totalAmount - record.spentAmount, 0n);
    const balance = parseAmount(this.#wallet.balanceGlm);
    if (reserved + total > balance) {
      throw badRequest(
        `Insufficient funds to make allocation. Top up your account or release all existing allocations to unlock the funds: requested ${formatAmount(total)}, available ${formatAmount(balance - reserved)}`,
      );
    }
    const record: AllocationRecord = {
      id: documentId(),
      address,
      paymentPlatform: platform,
      totalAmount: total,
      spentAmount: 0n,
      timestamp: isoMicros(now * 1000),
      timeoutMs,
      makeDeposit: body.makeDeposit === true,
      released: false,
    };
    this.records.set(record.id, record);
    if (timeoutMs !== undefined)
      this.#network.scheduler.at(timeoutMs, `allocation ${record.id} timeout`, () => this.#release(record, "timeout"));
    this.#network.log("info", "allocation created", { allocationId: record.id, totalAmount: formatAmount(total), platform });
    return record;
  }

  /**
   * The node's sending accounts (`GET /requestorAccounts`, payment-api.yaml Account): one
   * per platform its wallet is on, `driver-network-token`, all at the node's own address.
   */
  accounts(): { platform: string; address: string; driver: string; network: string; token: string; send: boolean; receive: boolean }[] {
    return this.#wallet.platforms.map((platform) => {
      const [driver = "", network = "", token = ""] = platform.split("-");
      return { platform, address: this.#network.requestorId, driver, network, token, send: true, receive: false };
    });
  }

  json(record: AllocationRecord): AllocationJson {
    return {
      allocationId: record.id,
      address: record.address,
      paymentPlatform: record.paymentPlatform,
      totalAmount: formatAmount(record.totalAmount),
      spentAmount: formatAmount(record.spentAmount),
      remainingAmount: formatAmount(record.totalAmount - record.spentAmount),
      timestamp: record.timestamp,
      ...(record.timeoutMs !== undefined ? { timeout: isoMicros(record.timeoutMs * 1000) } : {}),
      makeDeposit: record.makeDeposit,
    };
  }

  /** A live allocation; 410 once released, 404 if it never existed. */
  get(id: string): AllocationRecord {
    const record = this.records.get(id);
    if (!record) throw notFound(`Allocation ${id} not found`);
    if (record.released) throw gone(`Allocation ${id} has been already released`);
    return record;
  }

  live(): AllocationRecord[] {
    return [...this.records.values()].filter((record) => !record.released);
  }

  release(id: string): void {
    const record = this.records.get(id);
    if (!record) throw notFound(`Allocation ${id} not found`);
    if (record.released) throw gone(`Allocation ${id} has been already released`);
    this.#release(record, "requestor");
  }

  /** Spends `amount` for an accepted document; a missing allocation is 400, a released one 410 (as yagna's accept endpoints). */
  spend(id: string, amount: Amount): AllocationRecord {
    const record = this.records.get(id);
    if (!record) throw badRequest(`Allocation ${id} not found`);
    if (record.released) throw gone(`Allocation ${id} has been already released`);
    const remaining = record.totalAmount - record.spentAmount;
    if (amount > remaining) throw badRequest(`Not enough funds. Allocated: ${formatAmount(remaining)} Needed: ${formatAmount(amount)}`);
    record.spentAmount += amount;
    return record;
  }

  /** The market properties and constraints that make offers pay on these allocations' platforms. */
  demandDecorations(ids: readonly string[]): { properties: { key: string; value: unknown }[]; constraints: string[] } {
    const allocations = ids.map((id) => this.records.get(id));
    if (allocations.some((record) => record === undefined || record.released)) throw notFound(`Allocation not found: ${ids.join(", ")}`);
    const properties = (allocations as AllocationRecord[]).map((record) => ({
      key: `golem.com.payment.platform.${record.paymentPlatform}.address`,
      value: record.address,
    }));
    // ya-agreement-utils prints a one-element clause as the element, a longer one as "(|\n  (…)\n)".
    const presence = properties.map((property) => `(${property.key}=*)`);
    const platformClause = presence.length === 1 ? presence[0]! : `(|\n${presence.map((item) => `  ${item}\n`).join("")})`;
    properties.push({ key: "golem.com.payment.protocol.version", value: "3" });
    return { properties, constraints: [platformClause, "(golem.com.payment.protocol.version>1)"] };
  }

  #platform(value: unknown): string {
    if (typeof value === "object" && value !== null) {
      const { driver = "erc20", network = "hoodi", token } = value as { driver?: string; network?: string; token?: string };
      return this.#platform(`${driver}-${network}-${token ?? (network === "polygon" || network === "mainnet" ? "glm" : "tglm")}`);
    }
    const platform = typeof value === "string" && value !== "" ? value : "erc20-hoodi-tglm";
    if (!/^[a-z0-9]+-[a-z0-9]+-[a-z0-9]+$/.test(platform)) throw badRequest(`Payment platform ${platform} is not driver-network-token`);
    if (!this.#wallet.platforms.includes(platform)) {
      throw new ApiError(400, `Payment platform ${platform} not supported by this node (accounts: ${this.#wallet.platforms.join(", ")})`);
    }
    return platform;
  }

  #release(record: AllocationRecord, by: "requestor" | "timeout"): void {
    if (record.released) return;
    record.released = true;
    record.releasedBy = by;
    this.#network.log("info", "allocation released", { allocationId: record.id, by, spent: formatAmount(record.spentAmount) });
  }
}
