/**
 * The Golem providers' records survive a restart in the oracle's SQLite queue: a provider
 * caught giving wrong answers stays a liar, and one that fails often is worth less to
 * the offer choice than its price says.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { MIN_ATTEMPTS_FOR_RATE, ProviderReputation } from "@argus/oracle/executors/golem/reputation";
import { openDatabase } from "@argus/oracle/store/database";
import { SqliteReputationStore } from "@argus/oracle/store/provider-reputation";

describe("Golem executor: provider records across restarts", function () {
  let dir: string;

  before(async function () {
    dir = await mkdtemp(join(tmpdir(), "argus-reputation-"));
  });

  after(async function () {
    await rm(dir, { recursive: true, force: true });
  });

  it("saves what changed and reads it back in the next process: liars stay liars", function () {
    const file = join(dir, "queue.sqlite");
    const first = new ProviderReputation(new SqliteReputationStore(openDatabase(file)));
    const liar = first.record({ id: "0xliar", name: "liar" });
    liar.chunks++;
    liar.audited++;
    liar.disagreed++;
    liar.outvoted++;
    const honest = first.record({ id: "0xhonest", name: "honest" });
    honest.chunks += 5;
    honest.totalMs += 1234.5;
    first.failed({ id: "0xhonest", name: "honest" });
    first.persist();

    const second = new ProviderReputation(new SqliteReputationStore(openDatabase(file)));
    expect(second.liars()).to.deep.equal(["0xliar"]);
    expect(second.all()).to.deep.equal([
      { id: "0xhonest", name: "honest", chunks: 5, audited: 0, agreed: 0, disagreed: 0, outvoted: 0, failures: 1, totalMs: 1235 },
      { id: "0xliar", name: "liar", chunks: 1, audited: 1, agreed: 0, disagreed: 1, outvoted: 1, failures: 0, totalMs: 0 },
    ]);
  });

  it("counts a provider's success share once it has made enough attempts", function () {
    const reputation = new ProviderReputation();
    expect(reputation.successShare("0xnew")).to.equal(1);
    const provider = { id: "0xflaky", name: "flaky" };
    reputation.record(provider).chunks = 1;
    reputation.failed(provider);
    expect(MIN_ATTEMPTS_FOR_RATE).to.equal(3);
    expect(reputation.successShare(provider.id), "2 attempts: too few to judge").to.equal(1);
    reputation.failed(provider);
    reputation.failed(provider);
    expect(reputation.successShare(provider.id)).to.equal(0.25);
    for (let index = 0; index < 50; index++) reputation.failed(provider);
    expect(reputation.successShare(provider.id), "never below 0.1").to.equal(0.1);
  });
});
