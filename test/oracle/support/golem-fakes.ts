/**
 * A fake Golem network for the Golem executor's tests: fakes of the services golem-js
 * talks to yagna through (market, activity and payment APIs, the storage provider and
 * the yagna client itself), handed to the executor as `GolemNetworkOptions.override`.
 * Everything else — GolemNetwork, the demand directors, proposal negotiation and pools,
 * ResourceRental(Pool), ExeUnit, ExeScript batches, transfers, payment processes — is
 * golem-js's real code.
 *
 * The market offers every configured provider whose hardware meets the demand's
 * constraints, answers counter-proposals with drafts, approves agreements and, when one
 * is terminated, has the provider send an invoice. Activities run the real provider
 * entry command on local folders (golem-fake-activity.ts).
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agreement, Allocation, Demand, Invoice, OfferProposal } from "@golem-sdk/golem-js";
import type {
  AgreementState,
  DebitNote,
  DemandSpecification,
  GolemNetworkOptions,
  IMarketApi,
  IPaymentApi,
  MarketProposalEvent,
  StorageProvider,
  YagnaApi,
} from "@golem-sdk/golem-js";
import { NEVER, Observable, Subject } from "rxjs";
import type { Subscriber } from "rxjs";
import { FakeActivityApi } from "./golem-fake-activity.ts";
import type { ProviderFault, TransferEndpoint, VmLayout } from "./golem-fake-activity.ts";

export type { ProviderFault } from "./golem-fake-activity.ts";

const REQUESTOR = "0x00000000000000000000000000000000000000aa";

export interface FakeProviderSpec {
  name: string;
  fault?: ProviderFault;
  cpuThreads?: number;
  memGib?: number;
  /** GLM: start price, and per hour of environment and of CPU thread. */
  startPrice?: number;
  envPerHour?: number;
  cpuPerHour?: number;
  /** What its invoice asks for each agreement, in GLM. */
  invoiceGlm?: string;
}

export interface FakeProvider extends Required<Omit<FakeProviderSpec, "fault">> {
  id: string;
  fault: ProviderFault | undefined;
}

interface AgreementRecord {
  id: string;
  provider: FakeProvider;
  demand: Demand;
  state: AgreementState;
  offerProperties: Record<string, unknown>;
}

type InvoiceModel = ConstructorParameters<typeof Invoice>[0];
type CounterProposal = Awaited<ReturnType<IMarketApi["counterProposal"]>>;

/** gftp-like URLs for the data golem-js publishes and receives. */
export class FakeStorageProvider implements StorageProvider, TransferEndpoint {
  readonly #published = new Map<string, Uint8Array>();
  readonly #receivers = new Map<string, (bytes: Uint8Array) => Promise<void>>();
  #ready = false;

  async init(): Promise<void> {
    this.#ready = true;
  }
  isReady(): boolean {
    return this.#ready;
  }
  async close(): Promise<void> {
    this.#ready = false;
  }
  async publishData(data: Uint8Array): Promise<string> {
    const url = `gftp://fake/${randomUUID()}`;
    this.#published.set(url, new Uint8Array(data));
    return url;
  }
  async publishFile(path: string): Promise<string> {
    return this.publishData(await readFile(path));
  }
  async receiveFile(path: string): Promise<string> {
    const url = `gftp://fake/${randomUUID()}`;
    this.#receivers.set(url, (bytes) => writeFile(path, bytes));
    return url;
  }
  async receiveData(callback: (data: Uint8Array) => void): Promise<string> {
    const url = `gftp://fake/${randomUUID()}`;
    this.#receivers.set(url, async (bytes) => callback(bytes));
    return url;
  }
  async release(urls: string[]): Promise<void> {
    for (const url of urls) {
      this.#published.delete(url);
      this.#receivers.delete(url);
    }
  }
  /** Open URLs (a leak if any remain after the tests). */
  openUrls(): number {
    return this.#published.size + this.#receivers.size;
  }

  fetch(url: string): Uint8Array {
    const bytes = this.#published.get(url);
    if (!bytes) throw new Error(`nothing is published at ${url}`);
    return bytes;
  }
  async deliver(url: string, bytes: Uint8Array): Promise<void> {
    const receiver = this.#receivers.get(url);
    if (!receiver) throw new Error(`nobody receives at ${url}`);
    await receiver(bytes);
  }
}

/**
 * Allocations, and the invoices providers send when their agreements end. As in yagna,
 * accepting an invoice spends from the allocation it is accepted against, and is refused
 * when that allocation is released or has too little left.
 */
export class FakePaymentApi implements IPaymentApi {
  readonly receivedInvoices$ = new Subject<Invoice>();
  readonly receivedDebitNotes$ = new Subject<DebitNote>();
  readonly allocations = new Map<string, { allocation: Allocation; released: boolean }>();
  readonly issued: Invoice[] = [];
  readonly accepted: Invoice[] = [];
  /** Agreement id → the allocation its invoice was accepted against. */
  readonly paidFrom = new Map<string, string>();
  readonly #models = new Map<string, InvoiceModel>();
  readonly #now: () => number;

  /** `now` is yagna's clock: allocations expire by it. */
  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  async connect(): Promise<void> {}

  async createAllocation(params: { budget: number; expirationSec: number; paymentPlatform?: string }): Promise<Allocation> {
    const allocation = new Allocation({
      allocationId: `allocation-${this.allocations.size + 1}`,
      address: REQUESTOR,
      paymentPlatform: params.paymentPlatform,
      totalAmount: String(params.budget),
      spentAmount: "0",
      remainingAmount: String(params.budget),
      timestamp: new Date(this.#now()).toISOString(),
      timeout: new Date(this.#now() + params.expirationSec * 1000).toISOString(),
    });
    this.allocations.set(allocation.id, { allocation, released: false });
    return allocation;
  }
  async getAllocation(id: string): Promise<Allocation> {
    const entry = this.allocations.get(id);
    if (!entry) throw new Error(`unknown allocation ${id}`);
    return entry.allocation;
  }
  async releaseAllocation(allocation: Allocation): Promise<void> {
    const entry = this.allocations.get(allocation.id);
    if (!entry) throw new Error(`unknown allocation ${allocation.id}`);
    entry.released = true;
  }

  /** The provider's side: an invoice for the whole agreement. */
  issueInvoice(record: AgreementRecord): void {
    const agreement = new Agreement(record.id, agreementModel(record), record.demand);
    const model: InvoiceModel = {
      invoiceId: `invoice-${this.issued.length + 1}`,
      issuerId: record.provider.id,
      recipientId: REQUESTOR,
      payeeAddr: record.provider.id,
      payerAddr: REQUESTOR,
      paymentPlatform: record.demand.paymentPlatform,
      timestamp: new Date().toISOString(),
      agreementId: record.id,
      amount: record.provider.invoiceGlm,
      paymentDueDate: new Date(Date.now() + 3_600_000).toISOString(),
      status: "RECEIVED",
    };
    const invoice = new Invoice(model, agreement.provider);
    this.#models.set(invoice.id, model);
    this.issued.push(invoice);
    this.receivedInvoices$.next(invoice);
  }

  async getInvoice(id: string): Promise<Invoice> {
    const invoice = this.issued.find((entry) => entry.id === id);
    if (!invoice) throw new Error(`unknown invoice ${id}`);
    return invoice;
  }
  async acceptInvoice(invoice: Invoice, allocation: Allocation, amount: string): Promise<Invoice> {
    const entry = this.allocations.get(allocation.id);
    if (!entry) throw new Error(`unknown allocation ${allocation.id}`);
    if (entry.released) throw new Error(`allocation ${allocation.id} is released`);
    if (Date.parse(entry.allocation.timeout!) <= this.#now()) throw new Error(`allocation ${allocation.id} has expired`);
    if (amount !== invoice.amount) throw new Error(`accepting ${amount} of an invoice for ${invoice.amount}`);
    const remaining = Number(entry.allocation.remainingAmount) - Number(amount);
    if (remaining < 0)
      throw new Error(`not enough funds in allocation ${allocation.id}: ${entry.allocation.remainingAmount} left, ${amount} asked`);
    entry.allocation = new Allocation({
      ...allocationModel(entry.allocation),
      spentAmount: decimal(Number(entry.allocation.spentAmount) + Number(amount)),
      remainingAmount: decimal(remaining),
    });
    const accepted = new Invoice({ ...this.#models.get(invoice.id)!, status: "ACCEPTED" }, invoice.provider);
    this.accepted.push(accepted);
    this.paidFrom.set(invoice.agreementId, allocation.id);
    return accepted;
  }
  async rejectInvoice(invoice: Invoice): Promise<Invoice> {
    return invoice;
  }
  async getDebitNote(id: string): Promise<DebitNote> {
    throw new Error(`the fake providers send no debit notes (${id})`);
  }
  async acceptDebitNote(debitNote: DebitNote): Promise<DebitNote> {
    return debitNote;
  }
  async rejectDebitNote(debitNote: DebitNote): Promise<DebitNote> {
    return debitNote;
  }
}

/** Offers from the configured providers, negotiation, agreements. */
export class FakeMarketApi implements IMarketApi {
  readonly demands: Demand[] = [];
  readonly agreements = new Map<string, AgreementRecord>();
  readonly #providers: FakeProvider[];
  readonly #payment: FakePaymentApi;
  readonly #channels = new Map<string, Subscriber<MarketProposalEvent>>();
  #next = 0;

  constructor(providers: FakeProvider[], payment: FakePaymentApi) {
    this.#providers = providers;
    this.#payment = payment;
  }

  async publishDemandSpecification(specification: DemandSpecification): Promise<Demand> {
    const demand = new Demand(`demand-${++this.#next}`, specification);
    this.demands.push(demand);
    return demand;
  }
  async unpublishDemand(demand: Demand): Promise<void> {
    this.#channels.get(demand.id)?.complete();
    this.#channels.delete(demand.id);
  }

  /** Demands whose offers are still being collected (the rest were withdrawn). */
  openDemands(): string[] {
    return [...this.#channels.keys()];
  }

  collectMarketProposalEvents(demand: Demand): Observable<MarketProposalEvent> {
    return new Observable<MarketProposalEvent>((subscriber) => {
      this.#channels.set(demand.id, subscriber);
      const timer = setTimeout(() => {
        for (const provider of this.#providers) {
          if (!meetsConstraints(provider, demand)) continue;
          const proposal = new OfferProposal(this.#proposalModel(provider, demand, "Initial"), demand);
          subscriber.next({ type: "ProposalReceived", proposal, timestamp: new Date() });
        }
      }, 10);
      return () => {
        clearTimeout(timer);
        this.#channels.delete(demand.id);
      };
    });
  }

  collectAgreementEvents() {
    return NEVER;
  }

  async counterProposal(received: OfferProposal, specification: DemandSpecification): Promise<CounterProposal> {
    const provider = this.#provider(received.provider.id);
    const counterId = `counter-${++this.#next}`;
    // The provider accepts the requestor's terms: it answers with a draft.
    setTimeout(() => {
      const draft = new OfferProposal(
        { ...this.#proposalModel(provider, received.demand, "Draft"), prevProposalId: counterId },
        received.demand,
      );
      this.#channels.get(received.demand.id)?.next({ type: "ProposalReceived", proposal: draft, timestamp: new Date() });
    }, 10);
    return {
      id: counterId,
      previousProposalId: received.id,
      issuer: "Requestor",
      properties: Object.fromEntries(specification.prototype.properties.map(({ key, value }) => [key, value])),
      state: "Draft",
    } as unknown as CounterProposal;
  }

  async rejectProposal(): Promise<void> {}

  async getPaymentRelatedDemandDecorations(allocationId: string) {
    const platform = (await this.#payment.getAllocation(allocationId)).paymentPlatform;
    return {
      properties: [{ key: `golem.com.payment.platform.${platform}.address`, value: REQUESTOR }],
      constraints: [`(golem.com.payment.platform.${platform}.address=*)`],
    };
  }

  async getAgreement(id: string): Promise<Agreement> {
    return this.#view(this.#record(id));
  }

  async createAgreement(proposal: OfferProposal): Promise<Agreement> {
    const provider = this.#provider(proposal.provider.id);
    const record: AgreementRecord = {
      id: `agreement-${++this.#next}`,
      provider,
      demand: proposal.demand,
      state: "Proposal",
      offerProperties: { ...proposal.properties },
    };
    this.agreements.set(record.id, record);
    return this.#view(record);
  }

  async proposeAgreement(proposal: OfferProposal): Promise<Agreement> {
    return this.confirmAgreement(await this.createAgreement(proposal));
  }

  async confirmAgreement(agreement: Agreement): Promise<Agreement> {
    const record = this.#record(agreement.id);
    record.state = "Approved";
    return this.#view(record);
  }

  async terminateAgreement(agreement: Agreement): Promise<Agreement> {
    const record = this.#record(agreement.id);
    if (record.state === "Terminated") throw new Error(`agreement ${record.id} is already terminated`);
    record.state = "Terminated";
    setTimeout(() => this.#payment.issueInvoice(record), 20);
    return this.#view(record);
  }

  async getAgreementState(id: string): Promise<AgreementState> {
    return this.#record(id).state;
  }

  scan(): never {
    throw new Error("the fake market does not scan");
  }

  #proposalModel(provider: FakeProvider, demand: Demand, state: "Initial" | "Draft") {
    return {
      proposalId: `proposal-${++this.#next}`,
      issuerId: provider.id,
      state,
      timestamp: new Date().toISOString(),
      constraints: "(&)",
      properties: offerProperties(provider, demand.paymentPlatform),
    };
  }

  #provider(id: string): FakeProvider {
    const provider = this.#providers.find((entry) => entry.id === id);
    if (!provider) throw new Error(`unknown provider ${id}`);
    return provider;
  }

  #record(id: string): AgreementRecord {
    const record = this.agreements.get(id);
    if (!record) throw new Error(`unknown agreement ${id}`);
    return record;
  }

  #view(record: AgreementRecord): Agreement {
    return new Agreement(record.id, agreementModel(record), record.demand);
  }
}

export interface FakeGolemOptions {
  /** How the VM's paths (the entry command's program and script) map onto this machine. */
  layout: VmLayout;
  /** yagna's clock (allocations expire by it); the real one unless a test moves time. */
  now?: () => number;
}

/** A whole fake network: its providers, the services to override, and what happened. */
export class FakeGolem {
  readonly providers: FakeProvider[];
  readonly storage = new FakeStorageProvider();
  readonly payment: FakePaymentApi;
  readonly market: FakeMarketApi;
  readonly activity: FakeActivityApi;
  readonly #root: string;

  static async create(specs: FakeProviderSpec[], options: FakeGolemOptions): Promise<FakeGolem> {
    return new FakeGolem(specs, options, await mkdtemp(join(tmpdir(), "argus-fake-golem-")));
  }

  private constructor(specs: FakeProviderSpec[], options: FakeGolemOptions, root: string) {
    this.#root = root;
    this.providers = specs.map((spec, index) => ({
      id: `0x${(index + 1).toString(16).padStart(40, "0")}`,
      name: spec.name,
      fault: spec.fault,
      cpuThreads: spec.cpuThreads ?? 4,
      memGib: spec.memGib ?? 8,
      startPrice: spec.startPrice ?? 0.01,
      envPerHour: spec.envPerHour ?? 0.05,
      cpuPerHour: spec.cpuPerHour ?? 0.1,
      invoiceGlm: spec.invoiceGlm ?? "0.01",
    }));
    this.payment = new FakePaymentApi(options.now);
    this.market = new FakeMarketApi(this.providers, this.payment);
    this.activity = new FakeActivityApi(root, options.layout, this.storage, (agreement) => this.providerOf(agreement.id).fault);
  }

  /** `GolemNetworkOptions.override`: every yagna-facing service replaced. */
  override(): NonNullable<GolemNetworkOptions["override"]> {
    const yagna = {
      appSessionId: "fake-session",
      yagnaOptions: { apiKey: "fake-app-key", basePath: "http://fake-yagna" },
      connect: async () => ({ identity: REQUESTOR }),
      disconnect: async () => undefined,
    } as unknown as YagnaApi;
    return { yagna, marketApi: this.market, activityApi: this.activity, paymentApi: this.payment, storageProvider: this.storage };
  }

  provider(name: string): FakeProvider {
    const provider = this.providers.find((entry) => entry.name === name);
    if (!provider) throw new Error(`no provider ${name}`);
    return provider;
  }

  providerOf(agreementId: string): FakeProvider {
    const record = this.market.agreements.get(agreementId);
    if (!record) throw new Error(`unknown agreement ${agreementId}`);
    return record.provider;
  }

  /** Agreements signed, in order, with their provider's name and state. */
  agreementLog(): { id: string; provider: string; state: AgreementState }[] {
    return [...this.market.agreements.values()].map((record) => ({ id: record.id, provider: record.provider.name, state: record.state }));
  }

  async dispose(): Promise<void> {
    await rm(this.#root, { recursive: true, force: true });
  }
}

function allocationModel(allocation: Allocation): ConstructorParameters<typeof Allocation>[0] {
  const { id, address, paymentPlatform, totalAmount, spentAmount, remainingAmount, timestamp, timeout } = allocation;
  return {
    allocationId: id,
    address,
    paymentPlatform,
    totalAmount,
    spentAmount,
    remainingAmount,
    timestamp,
    ...(timeout === undefined ? {} : { timeout }),
  };
}

/** yagna's amounts are decimal strings; this keeps binary float noise out of them. */
function decimal(amount: number): string {
  return String(Number(amount.toFixed(12)));
}

function offerProperties(provider: FakeProvider, paymentPlatform: string): Record<string, unknown> {
  return {
    "golem.node.id.name": provider.name,
    "golem.inf.cpu.threads": provider.cpuThreads,
    "golem.inf.cpu.cores": provider.cpuThreads,
    "golem.inf.mem.gib": provider.memGib,
    "golem.inf.storage.gib": 64,
    "golem.runtime.name": "vm",
    "golem.runtime.version": "0.5.2",
    "golem.activity.caps.transfer.protocol": ["gftp", "http", "https"],
    "golem.com.pricing.model": "linear",
    "golem.com.usage.vector": ["golem.usage.cpu_sec", "golem.usage.duration_sec"],
    "golem.com.pricing.model.linear.coeffs": [provider.cpuPerHour / 3600, provider.envPerHour / 3600, provider.startPrice],
    [`golem.com.payment.platform.${paymentPlatform}.address`]: provider.id,
  };
}

function agreementModel(record: AgreementRecord): ConstructorParameters<typeof Agreement>[1] {
  const now = new Date().toISOString();
  return {
    agreementId: record.id,
    demand: { properties: {}, constraints: "(&)", demandId: record.demand.id, requestorId: REQUESTOR, timestamp: now },
    offer: {
      properties: record.offerProperties,
      constraints: "(&)",
      offerId: `offer-${record.id}`,
      providerId: record.provider.id,
      timestamp: now,
    },
    validTo: new Date(Date.now() + 3_600_000).toISOString(),
    state: record.state,
    timestamp: now,
  };
}

/** The demand's `>=` constraints on the provider's hardware (what yagna's matching would enforce). */
function meetsConstraints(provider: FakeProvider, demand: Demand): boolean {
  const have: Record<string, number> = {
    "golem.inf.cpu.threads": provider.cpuThreads,
    "golem.inf.cpu.cores": provider.cpuThreads,
    "golem.inf.mem.gib": provider.memGib,
    "golem.inf.storage.gib": 64,
  };
  return demand.details.prototype.constraints.every((constraint) => {
    const match = /^\(([\w.]+)>=([\d.]+)\)$/.exec(constraint);
    if (!match || !(match[1]! in have)) return true;
    return have[match[1]!]! >= Number(match[2]);
  });
}
