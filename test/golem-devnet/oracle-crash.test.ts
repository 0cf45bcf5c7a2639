/**
 * Issue 15, finding 5's acceptance, with the whole oracle: a Hardhat chain with the
 * escrow, the embedded IPFS node, the devnet (3 providers) and the real oracle process
 * (`oracle-requestor/src/main.ts`, ARGUS_EXECUTOR=golem, its preflight included). 100
 * paid requests arrive in four waves; in each of the first three lives the oracle is
 * SIGKILLed while a chunk runs on a provider, then restarted on the same data folder.
 * The fourth life finishes and stops gracefully. Afterwards, from the chain: every
 * request settled exactly once, as expected, and the oracle's records agree; from the
 * devnet's own books: no allocation left reserved (each released by the requestor),
 * every agreement ended and its invoice accepted, nothing owed; and the oracle's
 * journal of open allocations and agreements is empty. `argus oracle doctor` passes on the
 * stack first. The moment of each kill within the chunk is seeded (ARGUS_CHAOS_SEED).
 *
 * Skipped (saying why) without the shared photos and models, the built image, or
 * bubblewrap/squashfs-tools.
 */
import { join } from "node:path";
import { expect } from "chai";
import { modelAdminContext } from "@argus/devchain";
import { DEFAULT_MODEL_TERMS, providerImageHashWord, registerManifests } from "@argus/escrow/model-registration";
import { openDatabase } from "@argus/oracle/store/database";
import { SqliteGolemJournal } from "@argus/oracle/store/golem-journal";
import { BUILTIN_MANIFESTS_DIR, listManifests } from "@argus/provider-image/catalog";
import { argus, cleanEnv } from "../cli/support/argus.ts";
import { assertBalanceInvariant, assertSettledOnce } from "../oracle/support/escrow-checks.ts";
import { chaosSeed, seededRandom } from "../oracle/support/images.ts";
import { type OracleProcess, queueCounts, requestStatus, spawnOracle } from "../oracle/support/oracle-process.ts";
import { type Stack, startStack, waitForSettlements } from "../oracle/support/stack.ts";
import { planWorkload, type SubmittedRequest, submitRequests } from "../oracle/support/workload.ts";
import { requireSharedData } from "../support/shared.ts";
import { type DevnetHandle, ensureProviderImage, eventually, providerSpecs, startDevnet } from "./support/yagna-harness.ts";

const REQUESTS = 100;
const KILLS = 3;

describe("golem-devnet: the whole oracle SIGKILLed mid-chunk", function () {
  this.timeout(10 * 60_000);
  let stack: Stack | undefined;
  let handle: DevnetHandle | undefined;
  let oracle: OracleProcess | undefined;

  before(async function () {
    requireSharedData(this);
    await ensureProviderImage(this);
  });

  after(async function () {
    await oracle?.kill();
    await handle?.close();
    await stack?.close();
  });

  it(`settles ${REQUESTS} requests once each and leaves nothing reserved or owed on yagna after ${KILLS} kills`, async function () {
    const started = Date.now();
    const random = seededRandom(chaosSeed("golem crash run"));
    stack = await startStack("golem-crash");
    handle = await startDevnet({ providers: providerSpecs(3, { threads: 2, memoryGib: 4 }) });
    const { devnet } = handle;
    await registerManifests(modelAdminContext(stack.chain.rpcUrl, stack.argus.escrow), await listManifests([BUILTIN_MANIFESTS_DIR]), {
      ...DEFAULT_MODEL_TERMS,
      providerImageHash: providerImageHashWord(handle.hash),
    });
    const config = stack.oracleConfig({
      executor: "golem",
      golem: {
        apiUrl: devnet.url,
        apiKey: devnet.appKey,
        paymentNetwork: "hoodi",
        minCpuThreads: 2,
        minMemGib: 2,
        minStorageGib: 4,
        poolSize: 3,
        // Cross-checks have their own suites; this one is about crashes.
        auditRate: 0,
        auditFirstChunks: 0,
        finalizeTimeoutMs: 30_000,
      },
    });
    const env = { GOLEM_REGISTRY_URL: devnet.registryUrl };

    // The doctor passes on this stack before anything runs.
    const doctor = await argus(
      ["oracle", "doctor", "--offer-wait", "20"],
      cleanEnv({
        ...env,
        ARGUS_RPC_URL: stack.chain.rpcUrl,
        ARGUS_ESCROW_ADDRESS: stack.argus.escrow,
        YAGNA_API_URL: devnet.url,
        YAGNA_APPKEY: devnet.appKey,
      }),
    );
    expect(doctor.code, doctor.stdout + doctor.stderr).to.equal(0);
    expect(doctor.stdout.match(/golem preflight: ok /g)).to.have.length(4);

    const planned = await planWorkload(stack, { count: REQUESTS, users: [3, 4, 5, 6, 7, 8], badEvery: 10 });
    const waves = Array.from({ length: KILLS + 1 }, (_, wave) =>
      planned.slice(Math.floor((wave * REQUESTS) / (KILLS + 1)), Math.floor(((wave + 1) * REQUESTS) / (KILLS + 1))),
    );
    const submitted: SubmittedRequest[] = [];
    const runningAtKill: number[] = [];
    const killedAt: string[] = [];
    const batchesRunning = () => devnet.view.activities().reduce((sum, activity) => sum + activity.batches, 0);
    for (const [life, wave] of waves.entries()) {
      oracle = await spawnOracle(config, { env, readyTimeoutMs: 120_000 });
      const batchesBefore = batchesRunning();
      submitted.push(...(await submitRequests(stack, wave)));
      if (life === KILLS) break;
      // Mid-chunk: the oracle holds requests in `running` and has sent a provider a batch in this life.
      const current = oracle;
      await eventually(() => batchesRunning() > batchesBefore, 120_000, `a chunk on a provider in life ${life + 1}`);
      const counts = await queueCounts(current.statusUrl);
      await new Promise((resolve) => setTimeout(resolve, 100 + Math.floor(random() * 400)));
      runningAtKill.push(counts.running ?? 0);
      killedAt.push(new Date().toISOString());
      await current.kill();
    }
    expect(
      runningAtKill.every((running) => running > 0),
      `requests running at each kill: ${runningAtKill}`,
    ).to.equal(true);

    const ids = submitted.map((request) => request.terms.requestId);
    await waitForSettlements(stack, ids, 150_000).catch((error: Error) => {
      throw new Error(`${error.message}\noracle log tail:\n${oracle?.tail()}`);
    });
    // Exactly once on the chain (settlements() throws on a second), as expected, and the oracle agrees.
    const onChain = await assertSettledOnce(stack, ids);
    let fulfilled = 0;
    for (const request of submitted) {
      const settlement = onChain.get(request.terms.requestId)!;
      expect(settlement.kind, `request ${request.terms.requestId}`).to.equal(request.expect.kind);
      if (settlement.kind === "fulfilled") fulfilled++;
      const status = await requestStatus(oracle!.statusUrl, request.terms.requestId);
      expect(status?.state, `the oracle's record of ${request.terms.requestId}`).to.equal(settlement.kind);
    }
    expect((await assertBalanceInvariant(stack)).pending, "requests still pending").to.equal(0);

    // The last life stops gracefully: its own agreements end and their invoices are accepted.
    expect(await oracle!.stop(), `graceful stop\n${oracle!.tail()}`).to.equal(0);
    oracle = undefined;

    // The devnet's own books: nothing reserved, nothing owed, nothing running.
    const allocations = devnet.view.allocations();
    expect(
      allocations.filter((allocation) => !allocation.released).map((allocation) => allocation.allocationId),
      "allocations still reserved",
    ).to.deep.equal([]);
    expect(
      allocations.filter((allocation) => allocation.releasedBy !== "requestor").map((allocation) => allocation.allocationId),
      "allocations that ended by timeout, not released",
    ).to.deep.equal([]);
    const agreements = devnet.view.agreements();
    expect(
      agreements.filter((agreement) => agreement.state === "Approved"),
      `agreements running (kills at ${killedAt.join(", ")})`,
    ).to.deep.equal([]);
    const invoices = devnet.view.invoices();
    const unsettled = invoices.filter((invoice) => invoice.status !== "ACCEPTED");
    expect(unsettled, "invoices not accepted").to.deep.equal([]);
    const signed = agreements.filter((agreement) => agreement.approvedAt !== undefined);
    const invoiced = new Set(invoices.map((invoice) => invoice.agreementId));
    expect(
      signed.filter((agreement) => !invoiced.has(agreement.id)).map((agreement) => agreement.id),
      "signed agreements without an invoice",
    ).to.deep.equal([]);

    // And the oracle's journal of what it had open on yagna is empty.
    const db = openDatabase(join(config.dataDir, `queue-${stack.argus.chainId}-${stack.argus.escrow.toLowerCase()}.sqlite`));
    try {
      expect(new SqliteGolemJournal(db).open()).to.deep.equal({ allocationIds: [], agreements: [] });
    } finally {
      db.close();
    }

    console.log(
      `      ${JSON.stringify({
        requests: REQUESTS,
        kills: runningAtKill.length,
        runningAtKill,
        fulfilled,
        rejected: REQUESTS - fulfilled,
        duplicates: 0,
        agreements: signed.length,
        invoices: invoices.length,
        invoicesAccepted: invoices.length - unsettled.length,
        allocations: allocations.length,
        allocationsLeftReserved: allocations.filter((allocation) => !allocation.released).length,
        seconds: Math.round((Date.now() - started) / 1000),
      })}`,
    );
  });
});
