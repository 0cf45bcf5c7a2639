/**
 * Randomized model-based test of the escrow. Each sequence starts from the same
 * snapshot and takes 6–10 random steps: requests (native and tGLM, with and without
 * callbacks, approve and permit paths, from EOAs and from consumer contracts, each
 * bounded by a maxFee and a latestDeadline that sometimes refuse the price or the
 * deadline), fulfilment and rejection batches (with duplicates, settled, unknown and
 * tampered items, by a model's operators or by accounts that do not operate it),
 * reclaims by anyone, time jumps to and past deadlines, withdrawals, pause and
 * unpause, model updates and (de)activation, operators added and removed, protocol fee
 * changes, and replays of earlier batches. A JS model predicts every outcome: the exact
 * events of each settlement, every revert, every balance. After every step, for ETH and for tGLM:
 *
 *   contract balance == Σ fees of pending requests (JS model) + Σ withdrawable balances (chain)
 *
 * the chain's withdrawable balance of every account that could hold one equals the
 * model's, every request's pending flag and `statusOf` equal the model's, and no
 * request was settled more than once.
 *
 * Reproduce a failure with the seed it prints:
 *   ARGUS_PROPERTY_SEED=<seed> [ARGUS_PROPERTY_SEQUENCE=<index>] npx hardhat test mocha test/contracts/invariant.property.test.ts
 * ARGUS_PROPERTY_SEQUENCES sets how many sequences run (default 1000).
 */
import { expect } from "chai";
import { network } from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { NetworkConnection } from "hardhat/types/network";
import {
  CALLBACK_GAS_PRICE,
  deployEscrowFixture,
  eventsOf,
  fulfillment,
  modelConfig,
  NATIVE,
  NO_PERMIT,
  NATIVE_FEE,
  protocolCut,
  rejection,
  RESPONSE_WINDOW,
  SKIP,
  STATUS,
  TASK,
  termsFromReceipt,
  TOKEN_FEE,
  type EventTuple,
  type RequestTerms,
  ANY_FEE,
  ANY_DEADLINE,
} from "../support/escrow.ts";
import type { ContractTransactionResponse } from "ethers";
import type { RecordingConsumer } from "../../types/ethers-contracts/index.ts";

const connection = await network.create();
const { networkHelpers } = connection;

const SEQUENCES = Number(process.env.ARGUS_PROPERTY_SEQUENCES ?? 1_000);
const SEED = process.env.ARGUS_PROPERTY_SEED ?? String(Date.now());
const ONLY = process.env.ARGUS_PROPERTY_SEQUENCE === undefined ? undefined : Number(process.env.ARGUS_PROPERTY_SEQUENCE);
/** How often each outcome occurred over the whole run: shows what the generator reached. */
const OUTCOMES: Record<string, number> = {};
function count(outcome: string): void {
  OUTCOMES[outcome] = (OUTCOMES[outcome] ?? 0) + 1;
}
const SKIP_NAMES = Object.fromEntries(Object.entries(SKIP).map(([name, value]) => [String(value), name]));
const MIN_STEPS = 6;
const MAX_STEPS = 10;
const GAS = { gasLimit: 5_000_000n };

// ---------------------------------------------------------------------------- PRNG

/** A small seeded PRNG (xmur3 seeding, mulberry32 stream): one independent stream per sequence. */
class Random {
  #state: number;

  constructor(seed: string) {
    let h = 1779033703 ^ seed.length;
    for (let i = 0; i < seed.length; i++) {
      h = Math.imul(h ^ seed.charCodeAt(i), 3432918353);
      h = (h << 13) | (h >>> 19);
    }
    h = Math.imul(h ^ (h >>> 16), 2246822507);
    h = Math.imul(h ^ (h >>> 13), 3266489909);
    this.#state = (h ^ (h >>> 16)) >>> 0;
  }

  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(below: number): number {
    return Math.floor(this.next() * below);
  }

  between(low: number, high: number): number {
    return low + this.int(high - low + 1);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error("pick from an empty list");
    return items[this.int(items.length)]!;
  }

  big(below: bigint): bigint {
    let value = 0n;
    for (let i = 0; i < 8; i++) value = (value << 32n) | BigInt(this.int(2 ** 32));
    return value % below;
  }

  hex(bytes: number): string {
    let out = "0x";
    for (let i = 0; i < bytes; i++) out += this.int(256).toString(16).padStart(2, "0");
    return out;
  }

  /** Picks a key by weight. */
  weighted<K extends string>(weights: Record<K, number>): K {
    const entries = Object.entries(weights) as [K, number][];
    let roll = this.next() * entries.reduce((sum, [, w]) => sum + w, 0);
    for (const [key, weight] of entries) {
      roll -= weight;
      if (roll < 0) return key;
    }
    return entries[entries.length - 1]![0];
  }
}

// ------------------------------------------------------------------------- fixture

/** Fees and a protocol rate that do not divide evenly, so that every rounding shows. */
const ODD = { nativeFee: NATIVE_FEE + 7n, tokenFee: TOKEN_FEE + 13n, bps: 333n };

async function propertyFixture(c: NetworkConnection) {
  const f = await deployEscrowFixture(c);
  const { ethers, escrow } = f;
  const token = await f.token.getAddress();
  await (await escrow.updateModel(f.classifierId, modelConfig({ fee: ODD.nativeFee }))).wait();
  await (
    await escrow.updateModel(f.detectorId, modelConfig({ name: "fastestdet-coco80", task: TASK.Detection, fee: ODD.nativeFee }))
  ).wait();
  await (await escrow.updateModel(f.tokenModelId, modelConfig({ name: "squeezenet1.1-fp16", feeToken: token, fee: ODD.tokenFee }))).wait();
  await (await escrow.setProtocolFee(f.treasury.address, ODD.bps)).wait();
  // A second operator runs the classifier and the token model; a third account runs nothing.
  const secondOracle = f.users[6]!;
  const stranger = f.users[7]!;
  for (const modelId of [f.classifierId, f.tokenModelId]) await (await escrow.setModelOperator(modelId, secondOracle.address, true)).wait();
  const recording = await ethers.deployContract("RecordingConsumer", [escrow]);
  const rejecting = await ethers.deployContract("EthRejectingRequester", [escrow]);
  const reverting = await ethers.deployContract("RevertingConsumer", [escrow]);
  const probe = await ethers.deployContract("EscrowProbe");
  const latest = await ethers.provider.getBlock("latest");
  const addresses = {
    escrow: await escrow.getAddress(),
    token: await f.token.getAddress(),
    probe: await probe.getAddress(),
    recording: await recording.getAddress(),
    rejecting: await rejecting.getAddress(),
    reverting: await reverting.getAddress(),
  };
  return { ...f, secondOracle, stranger, recording, rejecting, reverting, probe, addresses, startTime: BigInt(latest!.timestamp) };
}

type Fixture = Awaited<ReturnType<typeof propertyFixture>>;
type Currency = "native" | "token";

interface ModelState {
  id: bigint;
  currency: Currency;
  task: number;
  name: string;
  fee: bigint;
  callbackGasPrice: bigint;
  responseWindow: bigint;
  active: boolean;
}

interface RequestState {
  terms: RequestTerms;
  currency: Currency;
  pending: boolean;
  /** How it was settled, once it was: what `statusOf` must say. */
  status: bigint;
  settlements: number;
}

/** A requester: an EOA, or a test consumer contract (native models only, via `request`). */
interface Requester {
  label: string;
  address: string;
  eoa?: HardhatEthersSigner;
  consumer?: Pick<RecordingConsumer, "request" | "withdrawTo">;
  /** The consumer's callback reverts. */
  callbackFails: boolean;
  /** The consumer cannot receive ETH. */
  rejectsEth: boolean;
  /** Callback gas limits this requester uses (a recording consumer needs enough for its writes). */
  callbackLimits: readonly bigint[];
}

// ------------------------------------------------------------------------ the model

class Sequence {
  readonly log: string[] = [];
  readonly #f: Fixture;
  readonly #rng: Random;
  readonly #tokenAddress: string;
  readonly #models: ModelState[];
  readonly #requests: RequestState[] = [];
  readonly #credits: Record<Currency, Map<string, bigint>> = { native: new Map(), token: new Map() };
  readonly #requesters: Requester[];
  readonly #oracles: HardhatEthersSigner[];
  /** Which accounts operate each model (by model id). */
  readonly #operators = new Map<bigint, Set<string>>();
  readonly #treasuries: string[];
  readonly #accounts: string[];
  readonly #payees: HardhatEthersSigner[];
  readonly #batches: { kind: "fulfil" | "reject"; items: RequestTerms[]; extra: bigint[] }[] = [];
  #paused = false;
  #protocol: { treasury: string; bps: bigint };
  #now: bigint;

  constructor(f: Fixture, rng: Random) {
    this.#f = f;
    this.#rng = rng;
    this.#tokenAddress = f.addresses.token;
    this.#now = f.startTime;
    this.#protocol = { treasury: f.treasury.address, bps: ODD.bps };
    // The fixture's three models (test/support/escrow.ts), at the odd fees.
    const base = { callbackGasPrice: CALLBACK_GAS_PRICE, responseWindow: RESPONSE_WINDOW, active: true };
    this.#models = [
      { ...base, id: f.classifierId, currency: "native", task: TASK.Classification, name: "mobilenetv2-12-int8", fee: ODD.nativeFee },
      { ...base, id: f.detectorId, currency: "native", task: TASK.Detection, name: "fastestdet-coco80", fee: ODD.nativeFee },
      { ...base, id: f.tokenModelId, currency: "token", task: TASK.Classification, name: "squeezenet1.1-fp16", fee: ODD.tokenFee },
    ];
    const { recording, rejecting, reverting } = f.addresses;
    this.#requesters = [
      ...f.users.slice(0, 4).map((eoa, i) => ({
        label: `user${i}`,
        address: eoa.address,
        eoa,
        callbackFails: false,
        rejectsEth: false,
        callbackLimits: [0n, 0n, 1n, 50_000n, 2_500_000n],
      })),
      {
        label: "recording",
        address: recording,
        consumer: f.recording,
        callbackFails: false,
        rejectsEth: false,
        callbackLimits: [0n, 150_000n],
      },
      {
        label: "ethRejecting",
        address: rejecting,
        consumer: f.rejecting,
        callbackFails: false,
        rejectsEth: true,
        callbackLimits: [0n, 30_000n],
      },
      {
        label: "reverting",
        address: reverting,
        consumer: f.reverting,
        callbackFails: true,
        rejectsEth: false,
        callbackLimits: [0n, 60_000n],
      },
    ];
    this.#oracles = [f.oracle, f.secondOracle, f.stranger];
    this.#operators.set(f.classifierId, new Set([f.oracle.address, f.secondOracle.address]));
    this.#operators.set(f.detectorId, new Set([f.oracle.address]));
    this.#operators.set(f.tokenModelId, new Set([f.oracle.address, f.secondOracle.address]));
    this.#treasuries = [f.treasury.address, f.users[4]!.address];
    this.#payees = [f.users[10]!, f.users[11]!];
    this.#accounts = [
      ...this.#requesters.map((r) => r.address),
      ...this.#oracles.map((o) => o.address),
      ...this.#treasuries,
      f.admin.address,
      ...this.#payees.map((p) => p.address),
    ];
  }

  // ------------------------------------------------------------------- bookkeeping

  #credit(currency: Currency, account: string, amount: bigint): void {
    const book = this.#credits[currency];
    book.set(account, (book.get(account) ?? 0n) + amount);
  }

  #creditOf(currency: Currency, account: string): bigint {
    return this.#credits[currency].get(account) ?? 0n;
  }

  #tokenOf(currency: Currency): string {
    return currency === "native" ? NATIVE : this.#tokenAddress;
  }

  /** Pins the next block's timestamp: the model knows the time of every transaction. */
  async #tick(seconds = 1n): Promise<void> {
    this.#now += seconds;
    await connection.provider.request({ method: "evm_setNextBlockTimestamp", params: [Number(this.#now)] });
  }

  async #send(tx: Promise<ContractTransactionResponse>) {
    const receipt = await (await tx).wait();
    if (receipt?.status !== 1) throw new Error("transaction failed");
    return receipt;
  }

  // ----------------------------------------------------------------------- steps

  async step(index: number): Promise<void> {
    const action = this.#rng.weighted({
      request: 30,
      fulfil: 16,
      reject: 8,
      reclaim: 10,
      replay: 3,
      time: 10,
      withdraw: 10,
      pause: 6,
      model: 7,
      operator: 4,
      protocolFee: 2,
    });
    this.log.push(`#${index} ${action}`);
    await this[`${action}Step`]();
    await this.check();
  }

  async requestStep(): Promise<void> {
    const rng = this.#rng;
    const requester = rng.pick(this.#requesters);
    const model = requester.consumer ? rng.pick(this.#models.filter((m) => m.currency === "native")) : rng.pick(this.#models);
    const limit = rng.pick(requester.callbackLimits);
    const cid = rng.hex(rng.pick([2, 34, 36, 128]));
    const fee = model.fee + limit * model.callbackGasPrice;
    const usePermit = model.currency === "token" && rng.chance(0.5);
    const wrongValue = model.currency === "native" && rng.chance(0.05);
    const value = model.currency === "native" ? (wrongValue ? fee + 1n : fee) : 0n;
    // The bounds: mostly exactly the quote and the promised deadline, sometimes one unit
    // short (refused), sometimes none. Test consumers bound by what they pay, any deadline.
    const deadline = this.#now + 1n + model.responseWindow; // the next block's time + the window
    const feeBound = requester.consumer ? "value" : rng.weighted({ exact: 8, short: fee === 0n ? 0 : 1, none: 1 });
    const deadlineBound = requester.consumer ? "none" : rng.weighted({ exact: 8, short: 1, none: 1 });
    const maxFee = feeBound === "value" ? value : feeBound === "exact" ? fee : feeBound === "short" ? fee - 1n : ANY_FEE;
    const latestDeadline = deadlineBound === "exact" ? deadline : deadlineBound === "short" ? deadline - 1n : ANY_DEADLINE;
    this.log.push(
      `  ${requester.label} model ${model.id} limit ${limit} fee ${fee}${usePermit ? " permit" : ""}${wrongValue ? " wrong value" : ""} bounds ${feeBound}/${deadlineBound}`,
    );

    const escrow = this.#f.escrow;
    const call = () => {
      if (requester.consumer) return requester.consumer.request(model.id, cid, limit, { value, ...GAS });
      const asUser = escrow.connect(requester.eoa!);
      if (usePermit) return asUser.requestPredictionWithPermit(model.id, cid, limit, maxFee, latestDeadline, NO_PERMIT, GAS);
      if (limit === 0n && rng.chance(0.5)) return asUser.requestPrediction(model.id, cid, maxFee, latestDeadline, { value, ...GAS });
      return asUser.requestPredictionWithCallback(model.id, cid, limit, maxFee, latestDeadline, { value, ...GAS });
    };
    // In the order the escrow checks them.
    const refusal: [string, unknown[]] | undefined = this.#paused
      ? ["EnforcedPause", []]
      : !model.active
        ? ["ModelNotActive", [model.id]]
        : limit !== 0n && model.callbackGasPrice === 0n
          ? ["CallbacksNotOffered", [model.id]]
          : fee > maxFee
            ? ["FeeAboveMax", [fee, maxFee]]
            : deadline > latestDeadline
              ? ["DeadlineTooLate", [deadline, latestDeadline]]
              : wrongValue
                ? ["IncorrectPayment", [fee, value]]
                : undefined;
    await this.#tick();
    if (refusal) {
      count(`request reverted: ${refusal[0]}`);
      await expect(call())
        .to.be.revertedWithCustomError(escrow, refusal[0])
        .withArgs(...refusal[1]);
      return;
    }
    count(
      `request: ${model.currency}${limit ? " with callback" : ""}${usePermit ? " (permit)" : ""}${requester.consumer ? " by a contract" : ""}${feeBound === "exact" && deadlineBound === "exact" ? " at its exact bounds" : ""}`,
    );
    const receipt = await this.#send(call());
    const terms = termsFromReceipt(escrow, receipt);
    expect(terms).to.have.length(1);
    expect(terms[0]).to.deep.equal({
      requestId: terms[0]!.requestId,
      requester: requester.address,
      modelId: model.id,
      fee,
      deadline,
      callbackGasLimit: limit,
    });
    expect(
      this.#requests.some((r) => r.terms.requestId === terms[0]!.requestId),
      "request id issued twice",
    ).to.equal(false);
    this.#requests.push({ terms: terms[0]!, currency: model.currency, pending: true, status: STATUS.Pending, settlements: 0 });
  }

  /** 1–5 items: known requests (pending or not, possibly twice), sometimes tampered or unknown. */
  #pickItems(): { items: RequestTerms[]; extra: bigint[] } {
    const rng = this.#rng;
    const items: RequestTerms[] = [];
    const count = rng.between(1, 5);
    for (let i = 0; i < count; i++) {
      const roll = rng.next();
      if (this.#requests.length === 0 || roll < 0.08) {
        const known = this.#requests.length ? rng.pick(this.#requests).terms : undefined;
        items.push({ ...(known ?? this.#requests[0]?.terms ?? this.#fakeTerms()), requestId: rng.big(2n ** 256n) });
      } else if (roll < 0.16) {
        const t = rng.pick(this.#requests).terms;
        items.push(rng.chance(0.5) ? { ...t, fee: t.fee + 1n } : { ...t, deadline: t.deadline + 1n });
      } else {
        const pending = this.#requests.filter((r) => r.pending);
        items.push((pending.length && rng.chance(0.8) ? rng.pick(pending) : rng.pick(this.#requests)).terms);
      }
    }
    // Result fields for fulfilments: top class and score.
    const extra = items.map(() => BigInt(rng.int(65_536)) * 65_536n + BigInt(rng.int(10_001)));
    return { items, extra };
  }

  #fakeTerms(): RequestTerms {
    return { requestId: 1n, requester: this.#f.users[0]!.address, modelId: 1n, fee: 1n, deadline: 1n, callbackGasLimit: 0n };
  }

  /** What settling `terms` at the current time does: the request it settles, or why it is skipped. */
  #classify(terms: RequestTerms, rule: "fulfil" | "reject" | "reclaim"): RequestState | bigint {
    const known = this.#requests.find((r) => r.terms.requestId === terms.requestId);
    if (!known?.pending) return SKIP.NotPending;
    const t = known.terms;
    const same =
      t.requester === terms.requester &&
      t.modelId === terms.modelId &&
      t.fee === terms.fee &&
      t.deadline === terms.deadline &&
      t.callbackGasLimit === terms.callbackGasLimit;
    if (!same) return SKIP.TermsMismatch;
    if (rule === "fulfil" && this.#now > t.deadline) return SKIP.Expired;
    if (rule === "reclaim" && this.#now <= t.deadline) return SKIP.NotExpired;
    return known;
  }

  #settle(request: RequestState, how: string, status: bigint): void {
    count(how);
    request.pending = false;
    request.status = status;
    request.settlements += 1;
    expect(request.settlements, `request ${request.terms.requestId} settled twice`).to.equal(1);
  }

  async fulfilStep(batch = this.#pickItems()): Promise<void> {
    const oracle = this.#pickSettler();
    const { items, extra } = batch;
    const packed = items.map((t, i) => fulfillment(t, Number(extra[i]! / 65_536n), Number(extra[i]! % 65_536n), this.#rng.hex(32)));
    this.log.push(`  fulfil by ${oracle.address.slice(0, 8)}: ${items.map((t) => String(t.requestId).slice(0, 8)).join(", ")}`);
    await this.#tick();
    const receipt = await this.#send(this.#f.escrow.connect(oracle).fulfillBatch(packed, GAS));

    // As the contract does: the batch runs through its items' models; when the model
    // changes to one in another currency, the run so far (native and empty to start
    // with) is credited; the last run at the end. Items of a model the caller does not
    // operate are skipped first.
    const expected: EventTuple[] = [];
    let run = { model: 0n, currency: "native" as Currency, total: 0n };
    const flush = () => {
      if (run.total === 0n) return;
      const { treasury, bps } = this.#protocol;
      const cut = protocolCut(run.total, bps);
      this.#credit(run.currency, oracle.address, run.total - cut);
      if (cut !== 0n) this.#credit(run.currency, treasury, cut);
      expected.push(["FeesCredited", oracle.address, this.#tokenOf(run.currency), run.total - cut, treasury, cut]);
    };
    items.forEach((terms, i) => {
      if (terms.modelId !== run.model) {
        const currency = this.#models.find((m) => m.id === terms.modelId)!.currency;
        if (currency !== run.currency) {
          flush();
          run = { model: terms.modelId, currency, total: 0n };
        } else run.model = terms.modelId;
      }
      const outcome = this.#operates(oracle, terms.modelId) ? this.#classify(terms, "fulfil") : SKIP.NotOperator;
      if (typeof outcome === "bigint") {
        count(`fulfil skipped: ${SKIP_NAMES[String(outcome)]}`);
        expected.push(["SettlementSkipped", terms.requestId, outcome]);
        return;
      }
      this.#settle(outcome, this.#now === outcome.terms.deadline ? "fulfilled at the deadline second" : "fulfilled", STATUS.Fulfilled);
      if (this.#callbackFails(outcome)) count("callback failed");
      expected.push(["PredictionFulfilled", terms.requestId, packed[i]!.resultDigest]);
      if (this.#callbackFails(outcome)) expected.push(["CallbackFailed", terms.requestId]);
      run.total += outcome.terms.fee;
    });
    flush();
    expect(eventsOf(this.#f.escrow, receipt)).to.deep.equal(expected);
    this.#batches.push({ kind: "fulfil", ...batch });
  }

  /** Who sends a batch: mostly the main operator, sometimes the second, now and then an account that operates nothing. */
  #pickSettler(): HardhatEthersSigner {
    const [main, second, stranger] = this.#oracles;
    return this.#rng.pick([main!, main!, main!, main!, second!, second!, stranger!]);
  }

  #operates(account: HardhatEthersSigner, modelId: bigint): boolean {
    return this.#operators.get(modelId)?.has(account.address) ?? false;
  }

  #callbackFails(request: RequestState): boolean {
    if (request.terms.callbackGasLimit === 0n) return false;
    return this.#requesters.find((r) => r.address === request.terms.requester)!.callbackFails;
  }

  async rejectStep(batch = this.#pickItems()): Promise<void> {
    const oracle = this.#pickSettler();
    const reasons = batch.extra.map((x) => x % 7n);
    this.log.push(`  reject by ${oracle.address.slice(0, 8)}: ${batch.items.map((t) => String(t.requestId).slice(0, 8)).join(", ")}`);
    await this.#tick();
    const receipt = await this.#send(
      this.#f.escrow.connect(oracle).rejectBatch(
        batch.items.map((t, i) => rejection(t, reasons[i]!)),
        GAS,
      ),
    );
    const expected: EventTuple[] = batch.items.map((terms, i) => {
      const outcome = this.#operates(oracle, terms.modelId) ? this.#classify(terms, "reject") : SKIP.NotOperator;
      if (typeof outcome === "bigint") {
        count(`reject skipped: ${SKIP_NAMES[String(outcome)]}`);
        return ["SettlementSkipped", terms.requestId, outcome];
      }
      this.#settle(outcome, this.#now > outcome.terms.deadline ? "rejected after the deadline" : "rejected", STATUS.Rejected);
      this.#credit(outcome.currency, outcome.terms.requester, outcome.terms.fee);
      return ["PredictionRejected", terms.requestId, reasons[i]!, outcome.terms.fee];
    });
    expect(eventsOf(this.#f.escrow, receipt)).to.deep.equal(expected);
    this.#batches.push({ kind: "reject", ...batch });
  }

  async reclaimStep(): Promise<void> {
    const rng = this.#rng;
    // Mostly a request that is (or is about to be) reclaimable; otherwise anything.
    const due = this.#requests.filter((r) => r.pending && r.terms.deadline <= this.#now + 1n);
    const [terms] = due.length && rng.chance(0.7) ? [rng.pick(due).terms] : this.#pickItems().items;
    const caller = rng.pick([...this.#f.users.slice(0, 5), this.#f.oracle]);
    this.log.push(`  reclaim ${String(terms!.requestId).slice(0, 8)} by ${caller.address.slice(0, 8)} at ${this.#now + 1n}`);
    await this.#tick();
    const receipt = await this.#send(this.#f.escrow.connect(caller).reclaim(terms!, GAS));
    const outcome = this.#classify(terms!, "reclaim");
    if (typeof outcome === "bigint") {
      count(`reclaim skipped: ${SKIP_NAMES[String(outcome)]}`);
      expect(eventsOf(this.#f.escrow, receipt)).to.deep.equal([["SettlementSkipped", terms!.requestId, outcome]]);
      return;
    }
    this.#settle(outcome, "reclaimed", STATUS.Expired);
    this.#credit(outcome.currency, outcome.terms.requester, outcome.terms.fee);
    expect(eventsOf(this.#f.escrow, receipt)).to.deep.equal([["PredictionExpired", terms!.requestId, outcome.terms.fee]]);
  }

  /** Sends an earlier batch again, unchanged: a retry must settle nothing twice. */
  async replayStep(): Promise<void> {
    if (this.#batches.length === 0) return this.fulfilStep();
    const batch = this.#rng.pick(this.#batches);
    count(`replayed ${batch.kind} batch`);
    this.log.push(`  replay of a ${batch.kind} batch`);
    return batch.kind === "fulfil" ? this.fulfilStep(batch) : this.rejectStep(batch);
  }

  async timeStep(): Promise<void> {
    const rng = this.#rng;
    const pending = this.#requests.filter((r) => r.pending);
    let target: bigint;
    if (pending.length && rng.chance(0.6)) {
      // To a deadline: the next transaction lands on it or just after it.
      target = rng.pick(pending).terms.deadline - 1n + BigInt(rng.int(2));
    } else {
      target = this.#now + BigInt(rng.pick([1, 30, 600, 3_601, 7_200]));
    }
    if (target > this.#now) this.#now = target;
    this.log.push(`  now ${this.#now}`);
  }

  async withdrawStep(): Promise<void> {
    const rng = this.#rng;
    const f = this.#f;
    const currency: Currency = rng.chance(0.5) ? "native" : "token";
    const withCredit = this.#accounts.filter((a) => this.#creditOf(currency, a) > 0n);
    const account = withCredit.length && rng.chance(0.85) ? rng.pick(withCredit) : rng.pick(this.#accounts);
    const amount = this.#creditOf(currency, account);
    const payee = rng.pick(this.#payees);
    const requester = this.#requesters.find((r) => r.address === account);
    this.log.push(`  withdraw ${currency} ${amount} of ${account.slice(0, 8)} to ${payee.address.slice(0, 8)}`);
    const token = this.#tokenOf(currency);

    if (requester?.consumer) {
      // Test consumers withdraw native balances only, to an address of their choice.
      if (currency === "token") return;
      if (amount === 0n) {
        count("withdraw reverted: NothingToWithdraw");
        await expect(requester.consumer.withdrawTo.staticCall(payee.address)).to.be.revertedWithCustomError(f.escrow, "NothingToWithdraw");
        return;
      }
      if (requester.rejectsEth) {
        count("withdraw to an ETH-rejecting contract reverted");
        await expect(requester.consumer.withdrawTo.staticCall(account)).to.be.revertedWith("no ETH");
      }
      await this.#payOut(currency, account, payee.address, amount, () => requester.consumer!.withdrawTo(payee.address, GAS));
      return;
    }
    const signer = [...f.users, f.oracle, f.treasury, f.admin].find((s) => s.address === account)!;
    if (amount === 0n) {
      count("withdraw reverted: NothingToWithdraw");
      await expect(f.escrow.connect(signer).withdraw.staticCall(token, payee.address)).to.be.revertedWithCustomError(
        f.escrow,
        "NothingToWithdraw",
      );
      return;
    }
    await this.#payOut(currency, account, payee.address, amount, () => f.escrow.connect(signer).withdraw(token, payee.address, GAS));
  }

  async #payOut(currency: Currency, account: string, to: string, amount: bigint, send: () => Promise<ContractTransactionResponse>) {
    const f = this.#f;
    const balance = () => (currency === "native" ? f.ethers.provider.getBalance(to) : f.token.balanceOf(to));
    const before = await balance();
    await this.#tick();
    const receipt = await this.#send(send());
    expect(eventsOf(f.escrow, receipt)).to.deep.equal([["Withdrawn", account, this.#tokenOf(currency), to, amount]]);
    expect((await balance()) - before).to.equal(amount);
    count(`withdrawn: ${currency}`);
    this.#credits[currency].set(account, 0n);
  }

  async pauseStep(): Promise<void> {
    const escrow = this.#f.escrow;
    if (this.#rng.chance(0.15)) {
      // The wrong toggle reverts.
      count("pause toggle reverted");
      if (this.#paused) await expect(escrow.pause.staticCall()).to.be.revertedWithCustomError(escrow, "EnforcedPause");
      else await expect(escrow.unpause.staticCall()).to.be.revertedWithCustomError(escrow, "ExpectedPause");
      return;
    }
    this.log.push(`  ${this.#paused ? "unpause" : "pause"}`);
    await this.#tick();
    const receipt = await this.#send(this.#paused ? escrow.unpause(GAS) : escrow.pause(GAS));
    expect(eventsOf(escrow, receipt)).to.deep.equal([[this.#paused ? "Unpaused" : "Paused", this.#f.admin.address]]);
    this.#paused = !this.#paused;
    count(this.#paused ? "paused" : "unpaused");
  }

  async modelStep(): Promise<void> {
    const rng = this.#rng;
    const escrow = this.#f.escrow;
    const model = rng.pick(this.#models);
    await this.#tick();
    if (rng.chance(0.4)) {
      const active = rng.chance(0.8) ? !model.active : model.active; // sometimes a repeat
      this.log.push(`  model ${model.id} active ${active}`);
      const receipt = await this.#send(escrow.setModelActive(model.id, active, GAS));
      expect(eventsOf(escrow, receipt)).to.deep.equal([["ModelActivationChanged", model.id, active]]);
      model.active = active;
      count(active ? "model activated" : "model deactivated");
      return;
    }
    const unit = model.currency === "native" ? 10n ** 12n : 10n ** 15n;
    const fee = rng.chance(0.1) ? 0n : unit * BigInt(rng.between(1, 5_000)) + BigInt(rng.int(10_000));
    const callbackGasPrice = BigInt(rng.pick([0, 1, 10 ** 9, 3 * 10 ** 9]));
    const responseWindow = BigInt(rng.pick([1, 5, 60, 3_600]));
    const config = modelConfig({
      name: model.name,
      task: model.task,
      feeToken: this.#tokenOf(model.currency),
      fee,
      callbackGasPrice,
      responseWindow,
    });
    this.log.push(`  model ${model.id} fee ${fee} gas price ${callbackGasPrice} window ${responseWindow}`);
    const receipt = await this.#send(escrow.updateModel(model.id, config, GAS));
    expect(eventsOf(escrow, receipt)).to.deep.equal([
      [
        "ModelConfigured",
        model.id,
        fee,
        callbackGasPrice,
        responseWindow,
        config.weightsSha256,
        config.providerImageHash,
        config.manifestCid,
        model.name,
      ],
    ]);
    Object.assign(model, { fee, callbackGasPrice, responseWindow });
    count("model updated");
  }

  /** The model admin makes an account an operator of a model, or no longer one (sometimes a repeat). */
  async operatorStep(): Promise<void> {
    const rng = this.#rng;
    const escrow = this.#f.escrow;
    const model = rng.pick(this.#models);
    // Rarely the main operator: a model nobody operates only collects NotOperator skips.
    const [main, second, stranger] = this.#oracles;
    const account = rng.pick([main!, second!, second!, stranger!, stranger!]);
    const operators = this.#operators.get(model.id)!;
    const isOperator = rng.chance(0.8) ? !operators.has(account.address) : operators.has(account.address);
    this.log.push(`  ${account.address.slice(0, 8)} ${isOperator ? "operates" : "no longer operates"} model ${model.id}`);
    await this.#tick();
    const receipt = await this.#send(escrow.setModelOperator(model.id, account.address, isOperator, GAS));
    expect(eventsOf(escrow, receipt)).to.deep.equal([["ModelOperatorChanged", model.id, account.address, isOperator]]);
    if (isOperator) operators.add(account.address);
    else operators.delete(account.address);
    count(isOperator ? "operator added" : "operator removed");
  }

  async protocolFeeStep(): Promise<void> {
    const rng = this.#rng;
    const treasury = rng.pick(this.#treasuries);
    const bps = BigInt(rng.pick([0, 1, 333, 500, 2_000]));
    this.log.push(`  protocol fee ${bps} to ${treasury.slice(0, 8)}`);
    await this.#tick();
    const receipt = await this.#send(this.#f.escrow.setProtocolFee(treasury, bps, GAS));
    expect(eventsOf(this.#f.escrow, receipt)).to.deep.equal([["ProtocolFeeChanged", treasury, bps]]);
    this.#protocol = { treasury, bps };
    count("protocol fee changed");
  }

  // ---------------------------------------------------------------------- invariant

  async check(): Promise<void> {
    const f = this.#f;
    const ids = this.#requests.map((r) => r.terms.requestId);
    // A raw eth_call: ethers' argument resolution would cost more than the call.
    const { escrow, token, probe } = f.addresses;
    const data = f.probe.interface.encodeFunctionData("read", [escrow, token, this.#accounts, ids]);
    const result = await connection.provider.request({ method: "eth_call", params: [{ to: probe, data }, "latest"] });
    const [state] = f.probe.interface.decodeFunctionResult("read", result as string) as unknown as [
      { nativeHeld: bigint; tokenHeld: bigint; nativeCredits: bigint[]; tokenCredits: bigint[]; pending: boolean[]; status: bigint[] },
    ];
    const pendingFees = (currency: Currency) =>
      this.#requests.filter((r) => r.pending && r.currency === currency).reduce((sum, r) => sum + r.terms.fee, 0n);
    const chainCredits = { native: state.nativeCredits, token: state.tokenCredits };
    for (const currency of ["native", "token"] as const) {
      const credits = chainCredits[currency];
      const held = currency === "native" ? state.nativeHeld : state.tokenHeld;
      const total = credits.reduce((sum, c) => sum + c, 0n);
      expect(held, `${currency}: balance == pending fees + withdrawable balances`).to.equal(pendingFees(currency) + total);
      expect(
        this.#accounts.map((a, i) => [a, credits[i]]),
        `${currency}: every account's withdrawable balance`,
      ).to.deep.equal(this.#accounts.map((a) => [a, this.#creditOf(currency, a)]));
    }
    expect([...state.pending], "pending flags").to.deep.equal(this.#requests.map((r) => r.pending));
    expect([...state.status], "statusOf").to.deep.equal(this.#requests.map((r) => r.status));
    for (const r of this.#requests) expect(r.settlements).to.be.at.most(1);
  }

  summary() {
    return {
      requests: this.#requests.length,
      settled: this.#requests.filter((r) => !r.pending).length,
    };
  }
}

// --------------------------------------------------------------------------- test

describe("PredictionEscrow invariant (randomized, model-based)", () => {
  it(`holds over ${ONLY === undefined ? SEQUENCES : 1} random sequences of ${MIN_STEPS}–${MAX_STEPS} steps`, async function () {
    this.timeout(0);
    const f = await networkHelpers.loadFixture(propertyFixture);
    const snapshot = await networkHelpers.takeSnapshot();
    console.log(`      property seed ${SEED} (ARGUS_PROPERTY_SEED=${SEED} reproduces this run)`);
    const started = Date.now();
    const totals = { sequences: 0, steps: 0, requests: 0, settled: 0 };
    const indexes = ONLY === undefined ? [...Array(SEQUENCES).keys()] : [ONLY];
    for (const index of indexes) {
      await snapshot.restore();
      const rng = new Random(`${SEED}:${index}`);
      const sequence = new Sequence(f, rng);
      const steps = rng.between(MIN_STEPS, MAX_STEPS);
      try {
        await sequence.check();
        for (let step = 0; step < steps; step++) await sequence.step(step);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        throw new Error(
          `property failed: ARGUS_PROPERTY_SEED=${SEED} ARGUS_PROPERTY_SEQUENCE=${index}\n` + `${sequence.log.join("\n")}\n${message}`,
          { cause: error },
        );
      }
      const { requests, settled } = sequence.summary();
      totals.sequences += 1;
      totals.steps += steps;
      totals.requests += requests;
      totals.settled += settled;
    }
    console.log(
      `      ${totals.sequences} sequences, ${totals.steps} steps, ${totals.requests} requests ` +
        `(${totals.settled} settled) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    console.log(`      outcomes: ${JSON.stringify(Object.fromEntries(Object.entries(OUTCOMES).sort()))}`);
    expect(totals.sequences).to.equal(indexes.length);
  });
});
