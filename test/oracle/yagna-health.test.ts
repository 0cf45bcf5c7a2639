/**
 * The watchdog in front of golem-js's event polls and the proposal-cache pruning, on
 * stand-ins of the two golem-js services they touch (the devnet suite runs them against
 * yagna answering 500: test/golem-devnet/executor-faults.test.ts).
 */
import { expect } from "chai";
import type { GolemNetwork } from "@golem-sdk/golem-js";
import { PROPOSAL_KEEP_MS, pruneProposalCache, watchEventPolls } from "@argus/oracle/executors/golem/yagna-health";

type Poll = Promise<unknown[]> & { cancel(): void };

function failingPoll(calls: number[]): () => Poll {
  return () => {
    calls.push(Date.now());
    const poll = Promise.reject(new Error("500 Internal Server Error")) as Poll;
    poll.cancel = () => {};
    return poll;
  };
}

describe("Golem executor: yagna's event polls and golem-js's caches", function () {
  it("waits longer before each poll while they fail, and logs yagna's going once", async function () {
    const calls: number[] = [];
    const market = { collectAgreementEvents: failingPoll(calls) };
    const payment = { getDebitNoteEvents: failingPoll([]), getInvoiceEvents: failingPoll([]) };
    const logs: string[] = [];
    const logger = { debug: () => {}, info: () => {}, warn: (_: object, message?: string) => logs.push(message ?? ""), error: () => {} };
    const health = watchEventPolls({ services: { yagna: { market, payment } } } as unknown as GolemNetwork, logger);
    const started = Date.now();
    for (let poll = 0; poll < 3; poll++) await (market.collectAgreementEvents() as Poll).catch(() => undefined);
    // Immediately, then after 1 s, then after 2 s more.
    expect(calls.length).to.equal(3);
    expect(calls[1]! - calls[0]!).to.be.at.least(950);
    expect(calls[2]! - calls[1]!).to.be.at.least(1_950);
    expect(Date.now() - started).to.be.below(6_000);
    expect(health.failures).to.equal(3);
    expect(logs.filter((message) => message.startsWith("yagna does not answer event polls"))).to.have.length(1);
  });

  it("a poll cancelled while it waits rejects as golem-js expects a cancelled poll to", async function () {
    const market = { collectAgreementEvents: failingPoll([]) };
    const logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
    watchEventPolls({ services: { yagna: { market, payment: {} } } } as unknown as GolemNetwork, logger);
    await (market.collectAgreementEvents() as Poll).catch(() => undefined); // one failure: the next waits 1 s
    const waiting = market.collectAgreementEvents() as Poll;
    waiting.cancel();
    const error = await waiting.then(
      () => undefined,
      (reason: Error) => reason,
    );
    expect(error?.name).to.equal("CancelError");
  });

  it("drops cached proposals older than half an hour, keeps the recent ones", function () {
    const now = Date.parse("2026-12-02T12:00:00Z");
    const entries = new Map(
      [
        ["old", now - PROPOSAL_KEEP_MS - 1],
        ["recent", now - 60_000],
      ].map(([id, at]) => [id as string, { id: id as string, timestamp: new Date(at as number) }]),
    );
    const proposalCache = { getAll: () => [...entries.values()], delete: (id: string) => entries.delete(id) };
    expect(pruneProposalCache({ services: { proposalCache } } as unknown as GolemNetwork, now)).to.equal(1);
    expect([...entries.keys()]).to.deep.equal(["recent"]);
  });
});
