/**
 * Gas of the escrow's hot paths, measured from real transaction receipts on the
 * in-process Hardhat network (EDR). Run: `npm run bench:gas`. The last line is JSON:
 * {"requestGas","requestWithCallbackGas","requestWithAuthorizationGas","fulfillPerItem":{"1","16","64"},"rejectPerItem16","reclaimGas"}
 * Image CIDs are 36-byte CIDv1s; requests name the quoted fee as their `maxFee` and a
 * deadline an hour past the model's as their `latestDeadline`, as the web UI and the CLI
 * do; fulfilment items carry no callback. Fulfilment figures are steady state: the
 * oracle's and treasury's balance slots already exist. `requestWithAuthorizationGas` is
 * what a relayer pays to send a tUSDC payer's signed EIP-3009 authorization (no callback),
 * in steady state too: the escrow already holds tUSDC and the payer keeps some.
 */
import type { Log } from "ethers";
import { network } from "hardhat";
import { authorizedCall, deployAuthorizationFixture, relay, signAuthorization } from "../../test/support/authorization.ts";
import { fulfillment, request, RESPONSE_WINDOW, type EscrowFixture, type RequestTerms } from "../../test/support/escrow.ts";

const connection = await network.create();
const fixture = await deployAuthorizationFixture(connection);
const { escrow, oracle, users } = fixture;
const requester = users[0]!;

type Receipt = { gasUsed: bigint; logs: readonly Log[] };

/** Gas of a mined transaction; with `expect`, also checks it emitted that event that many times. */
async function gasOf(tx: Promise<{ wait(): Promise<Receipt | null> }>, expect?: { event: string; count: number }): Promise<number> {
  const receipt = await (await tx).wait();
  if (!receipt) throw new Error("transaction not mined");
  if (expect) {
    const emitted = receipt.logs.filter((log) => escrow.interface.parseLog(log)?.name === expect.event).length;
    // A benchmark of skipped items would measure nothing: every item must really settle.
    if (emitted !== expect.count) throw new Error(`expected ${expect.count} ${expect.event} events, got ${emitted}`);
  }
  return Number(receipt.gasUsed);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function openRequests(count: number): Promise<RequestTerms[]> {
  const terms: RequestTerms[] = [];
  for (let i = 0; i < count; i++) terms.push(await request(fixture, requester, fixture.classifierId));
  return terms;
}

async function fulfillGasPerItem(size: number, f: EscrowFixture): Promise<number> {
  const batch = (await openRequests(size)).map((terms) => fulfillment(terms));
  return Math.round((await gasOf(f.escrow.connect(oracle).fulfillBatch(batch), { event: "PredictionFulfilled", count: size })) / size);
}

const [, fee] = await escrow.quote(fixture.classifierId, 0);
const latestDeadline = BigInt(await connection.networkHelpers.time.latest()) + RESPONSE_WINDOW + 3_600n;
const cid = () => `0x01701220${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex")}`;

const requestGas = median(
  await Promise.all(
    [0, 1, 2, 3, 4].map(async () =>
      gasOf(escrow.connect(requester).requestPrediction(fixture.classifierId, cid(), fee, latestDeadline, { value: fee })),
    ),
  ),
);
const [, callbackFee] = await escrow.quote(fixture.classifierId, 100_000);
const requestWithCallbackGas = median(
  await Promise.all(
    [0, 1, 2].map(async () =>
      gasOf(
        escrow
          .connect(requester)
          .requestPredictionWithCallback(fixture.classifierId, cid(), 100_000, callbackFee, latestDeadline, { value: callbackFee }),
      ),
    ),
  ),
);

// One after the other: each authorization is signed against the latest block. The first
// is a warm-up that creates the escrow's tUSDC balance slot.
const authorizationGas: number[] = [];
for (let i = 0; i < 6; i++) {
  const call = await authorizedCall(fixture, { imageCid: cid(), latestDeadline });
  authorizationGas.push(
    await gasOf(relay(fixture, call, await signAuthorization(fixture, fixture.payer, call)), { event: "PredictionRequested", count: 1 }),
  );
}
const requestWithAuthorizationGas = median(authorizationGas.slice(1));

await fulfillGasPerItem(1, fixture); // warm-up: creates the oracle's and treasury's balance slots
const fulfillPerItem = {
  "1": await fulfillGasPerItem(1, fixture),
  "16": await fulfillGasPerItem(16, fixture),
  "64": await fulfillGasPerItem(64, fixture),
};

const toReject = (await openRequests(16)).map((terms) => ({ terms, reason: 1 }));
await (await escrow.connect(oracle).rejectBatch([{ terms: (await openRequests(1))[0]!, reason: 1 }])).wait(); // warm-up
const rejectPerItem16 = Math.round(
  (await gasOf(escrow.connect(oracle).rejectBatch(toReject), { event: "PredictionRejected", count: 16 })) / 16,
);

const [expiring] = await openRequests(1);
await connection.networkHelpers.time.increase(RESPONSE_WINDOW + 1n);
const reclaimGas = await gasOf(escrow.connect(users[5]!).reclaim(expiring!), { event: "PredictionExpired", count: 1 });

const figures = { requestGas, requestWithCallbackGas, requestWithAuthorizationGas, fulfillPerItem, rejectPerItem16, reclaimGas };
console.log("targets: request <= 55000, request with authorization <= 90000, fulfil per item <= 10000 at 16 and <= 8000 at 64");
console.log(JSON.stringify(figures));
