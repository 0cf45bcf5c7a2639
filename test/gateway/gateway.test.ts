/**
 * The HTTP gateway end to end on the real pieces: a Hardhat node with the escrow and
 * tUSDC (ArgusLocal), the embedded IPFS node, the oracle with the local executor on the
 * shared models, and the gateway relaying with its own key. A payer holding tUSDC and
 * 0 ETH pays with @x402/fetch and gets a verified prediction; a rejected image refunds
 * that payer; a replayed or redirected authorization is refused by the gateway and by
 * the chain; the original interface answers null, then the classes; hostile input gets
 * its 4xx.
 */
import { expect } from "chai";
import { execFile } from "node:child_process";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { writeDeploymentFile } from "@argus/escrow/deployment-file";
import { argus, cleanEnv } from "../cli/support/argus.ts";
import { type Address, erc20Abi, type Hex, keccak256, parseAbi, toHex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { x402Client, x402HTTPClient } from "@x402/core/client";
import { encodePaymentSignatureHeader, decodePaymentRequiredHeader } from "@x402/core/http";

import { wrapFetchWithPayment } from "@x402/fetch";
import { predictionEscrowAbi } from "@argus/escrow/abi";
import { hardhatAccountKey } from "@argus/devchain";
import { requestAuthorizationNonce } from "@argus/escrow/request-authorization";
import { loadGatewayConfig } from "@argus/gateway/config";
import { type RunningGateway, startGateway } from "@argus/gateway/gateway";
import { registerArgusScheme } from "@argus/gateway/x402-client";
import { imageCidToBytes } from "@argus/protocol/cid";
import { type OracleProcess, spawnOracle } from "../oracle/support/oracle-process.ts";
import { type Stack, startStack } from "../oracle/support/stack.ts";
import { REPO_ROOT, requireSharedData, sharedImage, withoutArgusSettings } from "../support/shared.ts";

const execFileAsync = promisify(execFile);

const PAYER_KEY = keccak256(toHex("argus: a gateway payer without ETH"));
const payer = privateKeyToAccount(PAYER_KEY);
const RELAYER_INDEX = 6;
const TOKEN_ERRORS = parseAbi(["error ERC3009UsedAuthorization(address authorizer, bytes32 nonce)"]);

describe("the HTTP gateway (x402 over EIP-3009, relayed to the escrow)", function () {
  this.timeout(120_000);
  let stack: Stack;
  let oracle: OracleProcess;
  let gateway: RunningGateway;
  let modelId: number;
  let token: Address;
  let kitten: Uint8Array;

  before(async function () {
    requireSharedData(this);
    kitten = new Uint8Array(await readFile(sharedImage("wml_kitten.jpg")));
    stack = await startStack("gateway", { testTokenHolders: [payer.address] });
    modelId = Number(stack.argus.testToken!.model!.modelId);
    token = stack.argus.testToken!.address;
    oracle = await spawnOracle(stack.oracleConfig());
    gateway = await startGateway(gatewayConfig());
  });

  after(async function () {
    await gateway?.close();
    await oracle?.stop();
    await stack?.close();
  });

  function gatewayConfig(overrides: Record<string, unknown> = {}) {
    return loadGatewayConfig(
      {},
      {
        port: 0,
        rpcUrl: stack.chain.rpcUrl,
        escrowAddress: stack.argus.escrow,
        deploymentFile: "/nonexistent/deployment.json",
        relayerPrivateKey: hardhatAccountKey(RELAYER_INDEX),
        ipfsApi: stack.ipfs.apiUrl,
        // Every test comes from 127.0.0.1: the flood test gets a gateway of its own with the real limits.
        rateLimitPerMinute: 10_000,
        ...overrides,
      },
    );
  }
  const relayer = () => privateKeyToAccount(hardhatAccountKey(RELAYER_INDEX)).address;
  const tokenBalance = (account: Address) =>
    stack.client.readContract({ address: token, abi: erc20Abi, functionName: "balanceOf", args: [account] });
  const escrowCredit = (account: Address) =>
    stack.client.readContract({ address: stack.argus.escrow, abi: predictionEscrowAbi, functionName: "balanceOf", args: [token, account] });
  const form = (image: Uint8Array, model?: number) => {
    const body = new FormData();
    body.set("image", new Blob([image], { type: "image/jpeg" }), "image.jpg");
    if (model !== undefined) body.set("model", String(model));
    return body;
  };
  const payingClient = () =>
    registerArgusScheme(new x402Client(), payer, { chainId: stack.argus.chainId, token, maxAmountPerPayment: 100_000n });

  async function waitFor<T>(read: () => Promise<T | undefined>, what: string, timeoutMs = 60_000): Promise<T> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const value = await read();
      if (value !== undefined) return value;
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}\n${oracle.tail()}`);
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  }
  const settled = (statusUrl: string) =>
    waitFor(async () => {
      const status = (await (await fetch(statusUrl)).json()) as Record<string, unknown>;
      return status.status === "pending" ? undefined : status;
    }, `the settlement of ${statusUrl}`);

  /** A paid upload through the raw 402 flow: returns the 402's terms, the payment header and the paid answer. */
  async function payByHand(path: string, image: Uint8Array, model?: number, headerName = "X-PAYMENT") {
    const first = await fetch(`${gateway.url}${path}`, { method: "POST", body: form(image, model) });
    expect(first.status).to.equal(402);
    const required = decodePaymentRequiredHeader(first.headers.get("PAYMENT-REQUIRED")!);
    const payment = await payingClient().createPaymentPayload(required);
    const header = encodePaymentSignatureHeader(payment);
    const paid = await fetch(`${gateway.url}${path}`, { method: "POST", body: form(image, model), headers: { [headerName]: header } });
    return { required, payment, header, paid };
  }

  it("lists the registry with fees, and describes itself in OpenAPI", async function () {
    const { models } = (await (await fetch(`${gateway.url}/v1/models`)).json()) as { models: Record<string, unknown>[] };
    expect(models.find((model) => model.id === modelId)).to.deep.include({ payOverHttp: true, feeToken: token, fee: "10000" });
    const openapi = (await (await fetch(`${gateway.url}/v1/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(openapi.paths)).to.include.members(["/v1/predictions", "/requestPrediction/{model}", "/readPrediction/{requestId}"]);
  });

  it("gives an account with tUSDC and 0 ETH a verified prediction, paid with @x402/fetch", async function () {
    expect(await stack.client.getBalance({ address: payer.address })).to.equal(0n);
    const before = await tokenBalance(payer.address);
    const relayerTokens = await tokenBalance(relayer());
    const fetchWithPayment = wrapFetchWithPayment(fetch, payingClient());
    const response = await fetchWithPayment(`${gateway.url}/v1/predictions`, { method: "POST", body: form(kitten, modelId) });
    expect(response.status, await response.clone().text()).to.equal(200);
    const accepted = (await response.json()) as { requestId: string; statusUrl: string; payer: string };
    expect(accepted.payer).to.equal(payer.address);
    expect(new x402HTTPClient(payingClient()).getPaymentSettleResponse((name) => response.headers.get(name))).to.include({ success: true });
    const status = await settled(accepted.statusUrl);
    expect(status).to.deep.include({ status: "fulfilled", verified: true, requester: payer.address });
    const result = status.result as { top5: { label: string }[]; requestId: string };
    expect(result.requestId).to.equal(accepted.requestId);
    expect(result.top5.map((entry) => entry.label).join(" ")).to.match(/cat|kitten|tabby/i);
    expect(await tokenBalance(payer.address)).to.equal(before - 10_000n);
    expect(await tokenBalance(relayer())).to.equal(relayerTokens);
    expect(await stack.client.getBalance({ address: payer.address })).to.equal(0n);
  });

  it("argus request --pay-over-http: a 0-ETH account pays through the gateway and gets the verified answer", async function () {
    const deploymentFile = join(stack.workDir, "deployment.json");
    await writeDeploymentFile(deploymentFile, {
      schemaVersion: 1,
      chain: { id: stack.argus.chainId, name: "test chain", rpcUrl: stack.chain.rpcUrl },
      contracts: { predictionEscrow: { address: stack.argus.escrow, deployBlock: stack.argus.deployBlock } },
      ipfs: { apiUrl: stack.ipfs.apiUrl, gatewayUrl: stack.ipfs.gatewayUrl },
    });
    const env = cleanEnv({ ARGUS_DEPLOYMENT_FILE: deploymentFile, ARGUS_PRIVATE_KEY: PAYER_KEY });
    const before = await tokenBalance(payer.address);
    const run = await argus(
      ["request", "--model", String(modelId), "--image", sharedImage("mlg_kitten.jpg"), "--pay-over-http", gateway.url, "--wait", "--json"],
      env,
    );
    expect(run.code, run.stderr).to.equal(0);
    const answer = run.json<{ status: string; verified: boolean; requester: string }>();
    expect(answer).to.deep.include({ status: "fulfilled", verified: true, requester: payer.address });
    expect(await tokenBalance(payer.address)).to.equal(before - 10_000n);
    expect(await stack.client.getBalance({ address: payer.address })).to.equal(0n);

    const native = stack.argus.models.find((model) => model.modelId !== modelId)!;
    const refused = await argus(
      ["request", "--model", String(native.modelId), "--image", sharedImage("mlg_kitten.jpg"), "--pay-over-http", gateway.url],
      env,
    );
    expect(refused.code).to.not.equal(0);
    expect(refused.stderr).to.include("native currency");
  });

  it("runs the README's @x402/fetch example: a 0-ETH payer gets a fulfilled, verified answer", async function () {
    const readme = await readFile(join(REPO_ROOT, "README.md"), "utf8");
    const code = /<!-- readme-x402-example:begin -->\n```ts\n([\s\S]*?)```\n<!-- readme-x402-example:end -->/.exec(readme)?.[1];
    expect(code, "README.md has the x402 example between its markers").to.be.a("string");
    expect(code!.trimEnd().split("\n").length).to.be.at.most(20);
    // Inside the repository, so that the example's imports resolve as they would in a project depending on them.
    const file = join(REPO_ROOT, "test-output", `readme-x402-${process.pid}.ts`);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, code!);
    try {
      const { stdout } = await execFileAsync(process.execPath, [file], {
        cwd: REPO_ROOT,
        env: { ...withoutArgusSettings(), ARGUS_GATEWAY_URL: gateway.url, PAYER_KEY, IMAGE: sharedImage("ortx_cat_224x224.jpg") },
        timeout: 60_000,
      });
      const status = JSON.parse(stdout.trim().split("\n").at(-1)!) as Record<string, unknown>;
      expect(status).to.deep.include({ status: "fulfilled", verified: true, requester: payer.address });
      expect(await stack.client.getBalance({ address: payer.address })).to.equal(0n);
    } finally {
      await rm(file, { force: true });
    }
  });

  it("answers the original interface: requestPrediction with the payment step, then readPrediction null, then the classes", async function () {
    const { paid } = await payByHand(`/requestPrediction/${modelId}`, new Uint8Array(await readFile(sharedImage("glow_dog_207.png"))));
    expect(paid.status, await paid.clone().text()).to.equal(200);
    const { requestId } = (await paid.json()) as { requestId: string };
    const read = () => fetch(`${gateway.url}/readPrediction/${requestId}`, { method: "POST" }).then((r) => r.json());
    expect(await read()).to.equal(null);
    const classes = await waitFor(async () => ((await read()) as string[] | null) ?? undefined, "the classes");
    expect(classes).to.be.an("array").with.length(5);
    expect(classes.every((label) => typeof label === "string")).to.equal(true);
  });

  it("refunds the payer, not the relayer, when the oracle rejects the image", async function () {
    const garbage = new TextEncoder().encode(`not an image ${Date.now()}`);
    const credit = await escrowCredit(payer.address);
    const { paid } = await payByHand("/v1/predictions", garbage, modelId, "PAYMENT-SIGNATURE");
    expect(paid.status, await paid.clone().text()).to.equal(200);
    const { statusUrl } = (await paid.json()) as { statusUrl: string };
    expect(await settled(statusUrl)).to.include({ status: "rejected" });
    expect(await escrowCredit(payer.address)).to.equal(credit + 10_000n);
    expect(await escrowCredit(relayer())).to.equal(0n);
  });

  it("refuses a replayed or redirected authorization, at the gateway and on-chain", async function () {
    const image = new Uint8Array(await readFile(sharedImage("ortx_pineapple.png")));
    const { payment, header, paid } = await payByHand("/v1/predictions", image, modelId);
    expect(paid.status).to.equal(200);
    const replay = await fetch(`${gateway.url}/v1/predictions`, {
      method: "POST",
      body: form(image, modelId),
      headers: { "X-PAYMENT": header },
    });
    expect(replay.status).to.equal(409);
    expect(await replay.json()).to.include({ error: "authorization_replayed" });

    // The same signed authorization, sent with another image: its nonce commits to the first.
    const other = new Uint8Array(await readFile(sharedImage("wml_cat.jpg")));
    const redirected = await fetch(`${gateway.url}/v1/predictions`, {
      method: "POST",
      body: form(other, modelId),
      headers: { "X-PAYMENT": header },
    });
    expect(redirected.status).to.equal(400);
    expect(await redirected.json()).to.include({ error: "authorization_redirected" });

    // The chain itself refuses both, whoever relays them.
    const auth = payment.payload as { authorization: { from: string; value: string; validBefore: string; nonce: string }; signature: Hex };
    const extra = payment.accepted.extra as { request: { imageCid: Hex; latestDeadline: string } };
    const { r, s, v } = splitSignature(auth.signature);
    const argument = {
      from: auth.authorization.from as Address,
      value: BigInt(auth.authorization.value),
      validAfter: 0n,
      validBefore: BigInt(auth.authorization.validBefore),
      nonce: auth.authorization.nonce as Hex,
      v,
      r,
      s,
    };
    const simulate = (imageCid: Hex) =>
      stack.client.simulateContract({
        account: relayer(),
        address: stack.argus.escrow,
        abi: [...predictionEscrowAbi, ...TOKEN_ERRORS],
        functionName: "requestPredictionWithAuthorization",
        args: [modelId, imageCid, 0, 10_000n, Number(extra.request.latestDeadline), argument],
      });
    await expectRevert(simulate(extra.request.imageCid), /ERC3009UsedAuthorization/);
    const otherCid = toHex(
      imageCidToBytes((await stack.ipfsClient.add(other, { onlyHash: true, cidVersion: 1, rawLeaves: true })).cid.toString()),
    );
    await expectRevert(simulate(otherCid), /AuthorizationNonceMismatch/);
    expect(
      requestAuthorizationNonce({
        escrow: stack.argus.escrow,
        chainId: stack.argus.chainId,
        modelId,
        imageCid: otherCid,
        maxFee: 10_000n,
        callbackGasLimit: 0,
        latestDeadline: BigInt(extra.request.latestDeadline),
      }),
    ).to.not.equal(auth.authorization.nonce);
  });

  it("refuses hostile input with a 4xx and a reason: oversize bodies, bad headers, floods", async function () {
    const big = new Uint8Array(2 * 1024 * 1024 + 1);
    const declared = await fetch(`${gateway.url}/v1/predictions`, { method: "POST", body: form(big, modelId) });
    expect(declared.status).to.equal(413);
    // A chunked body declares no length: it is cut off once the image passes the cap.
    const boundary = "argusboundary";
    const head = new TextEncoder().encode(`--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="x.jpg"\r\n\r\n`);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent === 0) controller.enqueue(head);
        if (sent > 64 * 1024 * 1024) return controller.close(); // never reached: the gateway stops reading first
        sent += 256 * 1024;
        controller.enqueue(new Uint8Array(256 * 1024));
      },
    });
    const chunked = await fetch(`${gateway.url}/v1/predictions`, {
      method: "POST",
      body: stream,
      duplex: "half",
      headers: { "content-type": `multipart/form-data; boundary=${boundary}` },
    } as RequestInit);
    expect(chunked.status).to.equal(413);
    // The gateway stops reading at the 2-MiB cap; until its 413 arrives the client may still
    // fill the kernel's socket buffers (several MiB on loopback: 8.25 MiB seen on a loaded CI
    // host), but never the 64 MiB it would send to a server that reads on.
    expect(sent).to.be.below(24 * 1024 * 1024);

    for (const header of [
      "not base64 at all!",
      Buffer.from("{}").toString("base64"),
      Buffer.from(JSON.stringify({ x402Version: 1 })).toString("base64"),
    ]) {
      const bad = await fetch(`${gateway.url}/v1/predictions`, {
        method: "POST",
        body: form(kitten, modelId),
        headers: { "X-PAYMENT": header },
      });
      expect(bad.status, header).to.equal(400);
      expect(((await bad.json()) as { message: string }).message).to.be.a("string").and.not.empty;
    }

    const limited = await startGateway(gatewayConfig({ rateLimitPerMinute: 10 }));
    try {
      const statuses: number[] = [];
      for (let index = 0; index < 3; index++) statuses.push((await fetch(`${limited.url}/v1/predictions`, { method: "POST" })).status);
      expect(statuses).to.deep.equal([415, 429, 429]);
      expect((await fetch(`${limited.url}/v1/models`)).status).to.equal(200);
    } finally {
      await limited.close();
    }
  });
});

function splitSignature(signature: Hex) {
  return {
    r: `0x${signature.slice(2, 66)}` as Hex,
    s: `0x${signature.slice(66, 130)}` as Hex,
    v: Number.parseInt(signature.slice(130, 132), 16),
  };
}

async function expectRevert(promise: Promise<unknown>, pattern: RegExp) {
  try {
    await promise;
  } catch (error) {
    expect(String((error as Error).message)).to.match(pattern);
    return;
  }
  throw new Error("expected a revert");
}
