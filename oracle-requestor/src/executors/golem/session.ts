/**
 * The connection to yagna: one GolemNetwork, opened on first use and opened again by
 * the next caller if connecting failed. Invoices and debit notes are accepted by
 * golem-js on its own; the session passes each verdict on. Its event polls back off
 * while yagna fails, and its proposal cache is pruned every 10 min (yagna-health.ts).
 */
import { GolemNetwork } from "@golem-sdk/golem-js";
import type { DebitNote, GolemNetworkOptions, Invoice } from "@golem-sdk/golem-js";
import type { GolemExecutorConfig } from "./config.ts";
import type { ExecutorLogger } from "./reporting.ts";
import { golemLogger } from "./reporting.ts";
import { MAX_RESULTS_BYTES } from "./attempt.ts";
import { GftpTransfers } from "./transfers.ts";
import { pruneProposalCache, watchEventPolls } from "./yagna-health.ts";

const PRUNE_EVERY_MS = 10 * 60_000;

export interface GolemSessionOptions {
  settings: Pick<GolemExecutorConfig, "apiKey" | "apiUrl" | "paymentNetwork" | "paymentDriver">;
  logger: ExecutorLogger;
  /** Replaces golem-js services (the tests' fake yagna). */
  override?: GolemNetworkOptions["override"];
  onInvoiceAccepted(invoice: Invoice): void;
  /** Rejected by the executor's own filter (spending.ts): settled, nothing is owed. */
  onInvoiceRejected(invoice: Invoice): void;
  /** golem-js failed to accept it: still owed. */
  onInvoiceRefused(invoice: Invoice, error: unknown): void;
  onDebitNoteAccepted(debitNote: DebitNote): void;
  /**
   * yagna created an agreement (not yet confirmed or approved): called before golem-js
   * goes on to confirm it, so a crash from here on cannot leave an approved agreement
   * nobody knows of.
   */
  onAgreementCreated?(agreementId: string): void;
  /** An agreement of this session was rejected or cancelled before approval: nothing will be owed. */
  onAgreementVoid?(agreementId: string): void;
}

export class GolemSession {
  readonly #options: GolemSessionOptions;
  #network: Promise<GolemNetwork> | undefined;
  #transfers: GftpTransfers | undefined;

  constructor(options: GolemSessionOptions) {
    this.#options = options;
  }

  connect(): Promise<GolemNetwork> {
    this.#network ??= this.#open().catch((error: unknown) => {
      this.#network = undefined;
      throw error;
    });
    return this.#network;
  }

  /** The open network's file transfers (undefined before connecting, or when the tests' fakes replace them). */
  transfers(): GftpTransfers | undefined {
    return this.#transfers;
  }

  /** The network a `connect` opened or is opening, undefined if none did (or it failed). */
  async opened(): Promise<GolemNetwork | undefined> {
    return this.#network?.catch(() => undefined);
  }

  /**
   * golem-js reports an agreement only once the provider approved it, and a crash in
   * between would leave it approved, billed and unknown to the journal. So yagna's
   * answer to `createAgreement` is reported as it arrives: the reaction is registered
   * before golem-js's own, and the same cancelable call is handed back.
   */
  #reportCreatedAgreements(glm: GolemNetwork): void {
    const { onAgreementCreated } = this.#options;
    if (!onAgreementCreated) return;
    const market = glm.services.yagna.market as typeof glm.services.yagna.market | undefined;
    if (typeof market?.createAgreement !== "function") return; // the tests' fake market keeps its agreements in memory
    const create = market.createAgreement.bind(market);
    market.createAgreement = (request) => {
      const call = create(request);
      call.then(
        (agreementId) => {
          if (typeof agreementId === "string") onAgreementCreated(agreementId);
        },
        () => undefined,
      );
      return call;
    };
  }

  async #open(): Promise<GolemNetwork> {
    const { settings, logger, override } = this.#options;
    // A download bigger than any results file is cut off on the way in (transfers.ts).
    const transfers = new GftpTransfers({ maxReceiveBytes: MAX_RESULTS_BYTES });
    const glm = new GolemNetwork({
      logger: golemLogger(logger, "golem-js"),
      api: { key: settings.apiKey, url: settings.apiUrl },
      payment: { network: settings.paymentNetwork, driver: settings.paymentDriver },
      dataTransferProtocol: transfers,
      override,
    });
    transfers.bind(glm.services.yagna);
    this.#reportCreatedAgreements(glm);
    watchEventPolls(glm, logger);
    this.#transfers = override?.storageProvider ? undefined : transfers;
    glm.events.on("error", (error) => logger.warn({ err: error }, "golem-js reported an error"));
    try {
      await glm.connect();
    } catch (error) {
      await glm.disconnect().catch(() => undefined);
      throw error;
    }
    const pruning = setInterval(() => {
      const dropped = pruneProposalCache(glm);
      if (dropped > 0) logger.debug({ dropped }, "pruned golem-js's proposal cache");
    }, PRUNE_EVERY_MS);
    pruning.unref();
    glm.events.on("disconnected", () => clearInterval(pruning));
    glm.payment.events.on("invoiceAccepted", ({ invoice }) => this.#options.onInvoiceAccepted(invoice));
    glm.payment.events.on("invoiceRejected", ({ invoice }) => this.#options.onInvoiceRejected(invoice));
    glm.payment.events.on("errorAcceptingInvoice", ({ invoice, error }) => this.#options.onInvoiceRefused(invoice, error));
    glm.payment.events.on("debitNoteAccepted", ({ debitNote }) => this.#options.onDebitNoteAccepted(debitNote));
    glm.market.events.on("agreementRejected", ({ agreement }) => this.#options.onAgreementVoid?.(agreement.id));
    glm.market.events.on("agreementCancelled", ({ agreement }) => this.#options.onAgreementVoid?.(agreement.id));
    logger.info({ network: settings.paymentNetwork, url: settings.apiUrl }, "connected to yagna");
    return glm;
  }
}
