import { expect } from "chai";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import {
  createPublicClient,
  createTestClient,
  createWalletClient,
  custom,
  type EIP1193RequestFn,
  type Hex,
  http,
  type PublicClient,
  RpcRequestError,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { hardhat } from "viem/chains";
import { predictionEscrowAbi } from "@argus/escrow/abi";
import { type EventReader, findRequests, isRangeRefusal, queryEvents } from "@argus/escrow/escrow-reads";
import { BUILTIN_MANIFESTS_DIR } from "@argus/provider-image/catalog";
import { requestWithRawImage } from "../support/raw-request.ts";
import { deployArgus, type DeployedArgus, hardhatAccountKey, IGNITION_DEPLOYMENTS_DIR, type LocalChain, startChain } from "@argus/devchain";
import { fetchRequests } from "@argus/frontend/chain/escrow";
import { RequestIntake } from "@argus/oracle/intake/request-events";
import { openDatabase } from "@argus/oracle/store/database";
import { RequestStore } from "@argus/oracle/store/request-store";

/** The widest eth_getLogs range the endpoint below accepts, as public endpoints cap it. */
const ENDPOINT_MAX_BLOCKS = 500n;

/**
 * A client for `rpcUrl` that refuses eth_getLogs over more than `maxBlocks` blocks the way
 * public endpoints do, and records the ranges it was asked.
 */
function cappedClient(rpcUrl: string, maxBlocks: bigint) {
  const upstream = http(rpcUrl)({ chain: hardhat });
  const asked: { from: bigint; to: bigint; refused: boolean }[] = [];
  const request = (async (args: { method: string; params?: unknown }) => {
    if (args.method === "eth_getLogs") {
      const [filter] = args.params as [{ fromBlock: Hex; toBlock: Hex }];
      const range = { from: BigInt(filter.fromBlock), to: BigInt(filter.toBlock) };
      const refused = range.to - range.from + 1n > maxBlocks;
      asked.push({ ...range, refused });
      if (refused) {
        throw new RpcRequestError({
          body: args,
          url: rpcUrl,
          error: { code: -32600, message: `query exceeds max block range ${maxBlocks}` },
        });
      }
    }
    return upstream.request(args as never);
  }) as EIP1193RequestFn;
  const client = createPublicClient({ chain: hardhat, transport: custom({ request }, { retryCount: 0 }) }) as PublicClient;
  return { client, asked };
}

/**
 * The UI's and the CLI's event readers against a chain whose history is longer than
 * its endpoint lets one eth_getLogs span: requests thousands of blocks apart.
 */
describe("event history over an endpoint that caps eth_getLogs ranges", function () {
  this.timeout(120_000);
  let chain: LocalChain;
  let deployed: DeployedArgus;
  const deploymentId = `test-log-ranges-${process.pid}`;
  const user = privateKeyToAccount(hardhatAccountKey(5));
  let requestIds: bigint[] = [];

  async function request(): Promise<bigint> {
    const imageCid = `0x01701220${(requestIds.length + 1).toString(16).padStart(64, "0")}` as Hex;
    return requestWithRawImage(chain.rpcUrl, deployed, user, imageCid);
  }

  async function mine(blocks: number): Promise<void> {
    await createTestClient({ chain: hardhat, mode: "hardhat", transport: http(chain.rpcUrl) }).mine({ blocks });
  }

  before(async function () {
    chain = await startChain();
    deployed = await deployArgus({ rpcUrl: chain.rpcUrl, deploymentId, fresh: true, manifestsDirs: [BUILTIN_MANIFESTS_DIR] });
    for (const gap of [3_000, 4_500, 1_200]) {
      await mine(gap);
      requestIds.push(await request());
    }
  });

  after(async function () {
    await chain?.close();
    await rm(join(IGNITION_DEPLOYMENTS_DIR, deploymentId), { recursive: true, force: true });
  });

  function reader(client: PublicClient, logRangeBlocks?: bigint): EventReader {
    return { client, escrow: deployed.escrow, deployBlock: BigInt(deployed.deployBlock), logRangeBlocks };
  }

  it("the web UI reads the whole history, splitting ranges the endpoint refuses", async function () {
    const { client, asked } = cappedClient(chain.rpcUrl, ENDPOINT_MAX_BLOCKS);
    const history = await fetchRequests(reader(client, 2_000n), user.address);
    expect(history.requests.map((record) => record.terms.requestId)).to.deep.equal([...requestIds].reverse());
    expect(asked.some((range) => range.refused)).to.equal(true);
    expect(asked.filter((range) => !range.refused).every((range) => range.to - range.from < ENDPOINT_MAX_BLOCKS)).to.equal(true);
  });

  it("the web UI's next poll reads only the blocks after the last one it read", async function () {
    const { client, asked } = cappedClient(chain.rpcUrl, ENDPOINT_MAX_BLOCKS);
    const known = await fetchRequests(reader(client, 2_000n), user.address);
    asked.length = 0;
    await mine(10);
    const newest = await request();
    const history = await fetchRequests(reader(client, 2_000n), user.address, known);
    expect(history.requests.map((record) => record.terms.requestId)).to.deep.equal([
      newest,
      ...known.requests.map((record) => record.terms.requestId),
    ]);
    expect(asked.length).to.be.greaterThan(0);
    expect(asked.every((range) => range.from > known.readTo)).to.equal(true);
    requestIds = [...requestIds, newest];
  });

  it("a request settled since the last poll gets its settlement on the next", async function () {
    const { client } = cappedClient(chain.rpcUrl, ENDPOINT_MAX_BLOCKS);
    const known = await fetchRequests(reader(client, 2_000n), user.address);
    const oldest = known.requests.at(-1)!;
    const testClient = createTestClient({ chain: hardhat, mode: "hardhat", transport: http(chain.rpcUrl) });
    await testClient.increaseTime({ seconds: 2 * 86_400 });
    await mine(1);
    const wallet = createWalletClient({ account: user, chain: hardhat, transport: http(chain.rpcUrl) });
    const hash = await wallet.writeContract({
      address: deployed.escrow,
      abi: predictionEscrowAbi,
      functionName: "reclaim",
      args: [{ ...oldest.terms, deadline: Number(oldest.terms.deadline) }],
    });
    await client.waitForTransactionReceipt({ hash });
    const history = await fetchRequests(reader(client, 2_000n), user.address, known);
    expect(history.requests.at(-1)!.settlement).to.deep.include({ kind: "expired", transactionHash: hash });
    expect(history.requests.filter((record) => record.settlement !== undefined)).to.have.length(1);
  });

  it("the CLI's readers (its logRangeBlocks, or none) return the full history too", async function () {
    const { client } = cappedClient(chain.rpcUrl, ENDPOINT_MAX_BLOCKS);
    const toBlock = await client.getBlockNumber();
    for (const logRangeBlocks of [2_000n, undefined]) {
      const events = await queryEvents(reader(client, logRangeBlocks), {
        fromBlock: BigInt(deployed.deployBlock),
        toBlock,
        requester: user.address,
      });
      expect(events.map((event) => event.event === "PredictionRequested" && event.requestId)).to.deep.equal(requestIds);
      expect(
        (await findRequests(reader(client, logRangeBlocks), { requester: user.address })).map((record) => record.terms.requestId),
      ).to.deep.equal(requestIds);
    }
  });

  it("the oracle's intake reads every request, then asks no more than the endpoint allows", async function () {
    const { client, asked } = cappedClient(chain.rpcUrl, ENDPOINT_MAX_BLOCKS);
    const store = new RequestStore(openDatabase(":memory:"));
    const intake = new RequestIntake(client, store, {
      escrow: deployed.escrow,
      confirmations: 0,
      logRangeBlocks: 2_000,
      startBlock: BigInt(deployed.deployBlock),
    });
    const first = await intake.poll();
    expect(first.added).to.equal(requestIds.length);
    for (const id of requestIds) expect(store.get(id)?.state).to.equal("received");
    // Halved until accepted (2,000 → 1,000 → 500 blocks), and never refused after that.
    const firstAccepted = asked.findIndex((range) => !range.refused);
    expect(firstAccepted).to.be.greaterThan(0);
    expect(asked.slice(firstAccepted).every((range) => !range.refused)).to.equal(true);
    // Later polls start from the smaller range instead of being refused again.
    asked.length = 0;
    await mine(Number(ENDPOINT_MAX_BLOCKS) * 3);
    await intake.poll();
    expect(asked.length).to.be.greaterThan(1);
    expect(asked.every((range) => !range.refused)).to.equal(true);
  });

  it("a throttled or failed call is not taken for a refused range", function () {
    const refusal = (message: string) => new RpcRequestError({ body: {}, url: "http://rpc", error: { code: -32005, message } });
    expect(isRangeRefusal(refusal("query returned more than 10000 results"))).to.equal(true);
    expect(isRangeRefusal(refusal("Log response size exceeded. You can make eth_getLogs requests with up to a 2K block range"))).to.equal(
      true,
    );
    expect(isRangeRefusal(refusal("exceed maximum block range: 50000"))).to.equal(true);
    expect(isRangeRefusal(refusal("daily request count exceeded, request rate limited"))).to.equal(false);
    expect(isRangeRefusal(new Error("fetch failed"))).to.equal(false);
  });
});
