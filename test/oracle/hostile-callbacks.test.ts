/**
 * Consumers whose callback is cheap when the oracle estimates its transaction and burns
 * its whole paid limit once mined (issue 17, finding 1). The oracle must budget each
 * callback's full limit itself, and when a batch still reverts or the escrow skips an
 * item for want of gas, post the rest again without it: in a run of 100 requests, no
 * honest request may be carried by more than two settlement transactions.
 */
import { expect } from "chai";
import { join } from "node:path";
import pino from "pino";
import { type Address, decodeFunctionData, type Hex, parseEventLogs, toHex } from "viem";
import { network } from "hardhat";
import { predictionEscrowAbi } from "@argus/escrow/abi";
import { unpackFulfillment } from "@argus/escrow/request-terms";
import { imageCidToBytes } from "@argus/protocol/cid";
import { startOracle, type RunningOracle } from "@argus/oracle/oracle";
import { requireSharedData } from "../support/shared.ts";
import { assertBalanceInvariant, assertSettledOnce } from "./support/escrow-checks.ts";
import { photoVariants } from "./support/images.ts";
import { pinImage, startStack, waitForSettlements, type Stack } from "./support/stack.ts";
import { MOBILENET, type PlannedRequest, submitRequests } from "./support/workload.ts";
import type { EstimateDodgingBurner } from "../../types/ethers-contracts/index.ts";

const HONEST = 98;
const CALLBACK_GAS = 2_500_000n;
const PER_TX = 16;

/** Every settlement transaction the oracle sent, mined or reverted, with the request ids it carried. */
async function oracleSettlements(stack: Stack, oracle: Address): Promise<{ hash: Hex; ok: boolean; ids: bigint[] }[]> {
  const head = await stack.client.getBlockNumber({ cacheTime: 0 });
  const found: { hash: Hex; ok: boolean; ids: bigint[] }[] = [];
  for (let number = BigInt(stack.argus.deployBlock); number <= head; number++) {
    const block = await stack.client.getBlock({ blockNumber: number, includeTransactions: true });
    for (const tx of block.transactions) {
      if (tx.from.toLowerCase() !== oracle.toLowerCase() || tx.to?.toLowerCase() !== stack.argus.escrow.toLowerCase()) continue;
      const { functionName, args } = decodeFunctionData({ abi: predictionEscrowAbi, data: tx.input });
      if (functionName !== "fulfillBatch") continue;
      const receipt = await stack.client.getTransactionReceipt({ hash: tx.hash });
      found.push({ hash: tx.hash, ok: receipt.status === "success", ids: args[0].map((item) => unpackFulfillment(item).requestId) });
    }
  }
  return found;
}

describe("oracle: callbacks that burn their gas only when mined", function () {
  this.timeout(300_000);
  let stack: Stack;
  let oracle: RunningOracle | undefined;

  before(async function () {
    requireSharedData(this);
    stack = await startStack("hostile-callbacks");
  });

  after(async function () {
    await oracle?.stop();
    await stack?.close();
  });

  it(`delay no honest request of ${HONEST + 2} by more than one batch`, async function () {
    const modelId = stack.modelId(MOBILENET);
    const photos = await Promise.all((await photoVariants(HONEST + 1)).map((bytes) => pinImage(stack, bytes)));

    // An attacker paying for two 2.5M-gas callbacks it will burn, in one transaction
    // (so both land in the same chunk and, most likely, the same settlement batch).
    const connection = await network.create({ network: "localhost", override: { url: stack.chain.rpcUrl } });
    let attackerIds: bigint[];
    try {
      const [, , , attacker] = await connection.ethers.getSigners();
      const [, fee] = await stack.client.readContract({
        address: stack.argus.escrow,
        abi: predictionEscrowAbi,
        functionName: "quote",
        args: [modelId, Number(CALLBACK_GAS)],
      });
      const burner = (await connection.ethers.deployContract(
        "EstimateDodgingBurner",
        [stack.argus.escrow],
        attacker,
      )) as unknown as EstimateDodgingBurner;
      const receipt = await (
        await burner.requestMany(modelId, toHex(imageCidToBytes(photos[HONEST]!)), CALLBACK_GAS, 2n, { value: fee * 2n })
      ).wait();
      attackerIds = parseEventLogs({ abi: predictionEscrowAbi, logs: receipt!.logs as never, eventName: "PredictionRequested" }).map(
        (event) => event.args.requestId,
      );
    } finally {
      await connection.close();
    }

    const planned: PlannedRequest[] = photos
      .slice(0, HONEST)
      .map((imageCid, index) => ({ user: 4 + (index % 6), modelId, imageCid, expect: { kind: "fulfilled" } }));
    const honest = await submitRequests(stack, planned);

    oracle = await startOracle(
      stack.oracleConfig({
        dataDir: join(stack.workDir, "oracle"),
        maxSettlementsPerTx: PER_TX,
        settleLingerMs: 2_000,
      }),
      { log: pino({ level: process.env.ARGUS_TEST_LOG_LEVEL ?? "error" }) },
    );
    const honestIds = honest.map((request) => request.terms.requestId);
    await waitForSettlements(stack, honestIds, 120_000);
    await assertSettledOnce(stack, honestIds);

    const sent = await oracleSettlements(stack, oracle.oracleAddress);
    const carried = new Map<bigint, number>();
    for (const tx of sent) for (const id of tx.ids) carried.set(id, (carried.get(id) ?? 0) + 1);
    const reverted = sent.filter((tx) => !tx.ok).length;
    const delayed = honestIds.filter((id) => (carried.get(id) ?? 0) > 2);
    expect(delayed, `honest requests carried by more than two transactions (${reverted} reverted)`).to.deep.equal([]);
    // With each callback's whole limit budgeted, the burners' batch did not even fail once.
    expect(reverted, "reverted settlement transactions").to.equal(0);
    // The attackers' requests were answered too: they paid for the gas they burned.
    await waitForSettlements(stack, attackerIds, 60_000);
    await oracle.stop();
    oracle = undefined;
    await assertBalanceInvariant(stack);
  });
});
