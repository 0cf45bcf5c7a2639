/**
 * `npm run bench:gateway`: the HTTP gateway under load on this machine. A Hardhat node
 * with the escrow and tUSDC, the embedded IPFS node and the gateway as a child process
 * of its own (so its memory is its own); 200 clients at once, each its own account
 * holding tUSDC and no ETH, each making exactly 5 paid requests in turn: upload → 402,
 * sign the authorization (@x402/core's client with the gateway's Argus scheme), upload
 * again with the payment → { requestId }, then GET /v1/predictions/:id.
 *
 * Measured: p50/p95 of the 402 round trip (upload, CID, quote), of the paid round trip
 * (upload, pin, simulation, relay until mined) and of the status read; the gateway's
 * peak RSS (VmHWM from /proc); and, read back from the chain, that every request the
 * gateway accepted is on-chain exactly once, for its payer, and that each payer paid
 * exactly 5 fees — nothing lost, nothing paid twice. No oracle runs: the statuses read
 * are pending requests (the status path without a result to fetch).
 *
 *   npm run bench:gateway    (ARGUS_BENCH_CLIENTS, ARGUS_BENCH_REQUESTS_PER_CLIENT to change the load)
 *
 * The per-IP rate limits are raised for the run (every client is 127.0.0.1); the
 * concurrency gate keeps its defaults. The last line is JSON:
 * {"clients","requestsPerClient","accepted","onChain","lost","paidTwice","p50_402Ms","p95_402Ms",
 *  "p95PaidMs","p50StatusMs","p95StatusMs","gatewayPeakRssMb","seconds"}.
 */
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { type Address, erc20Abi, keccak256, parseEventLogs, toHex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { x402Client } from "@x402/core/client";
import { decodePaymentRequiredHeader, encodePaymentSignatureHeader } from "@x402/core/http";
import { predictionEscrowAbi } from "@argus/escrow/abi";
import { hardhatAccountKey, TEST_TOKEN_GRANT, TEST_TOKEN_MODEL_TERMS } from "@argus/devchain";
import { GATEWAY_NODE_FLAGS } from "@argus/gateway/config";
import { registerArgusScheme } from "@argus/gateway/x402-client";
import { startStack } from "../../test/oracle/support/stack.ts";
import { requireSharedDataOrExit } from "../../test/oracle/support/workload.ts";
import { REPO_ROOT, sharedImage, withoutArgusSettings } from "../../test/support/shared.ts";

const CLIENTS = Number(process.env.ARGUS_BENCH_CLIENTS ?? 200);
const PER_CLIENT = Number(process.env.ARGUS_BENCH_REQUESTS_PER_CLIENT ?? 5);

requireSharedDataOrExit("bench:gateway");
const payers = Array.from({ length: CLIENTS }, (_, index) => privateKeyToAccount(keccak256(toHex(`argus bench:gateway payer ${index}`))));
console.log(`starting the chain (minting tUSDC to ${CLIENTS} payers) and the IPFS node…`);
const stack = await startStack("bench-gateway", { testTokenHolders: payers.map((payer) => payer.address) });
const token = stack.argus.testToken!;
const modelId = Number(token.model!.modelId);
const photo = new Uint8Array(await readFile(sharedImage("wml_kitten.jpg")));

const child = spawn(process.execPath, [...GATEWAY_NODE_FLAGS, join(REPO_ROOT, "oracle-requestor/gateway/src/main.ts")], {
  cwd: REPO_ROOT,
  env: {
    ...withoutArgusSettings(),
    ARGUS_RPC_URL: stack.chain.rpcUrl,
    ARGUS_ESCROW_ADDRESS: stack.argus.escrow,
    ARGUS_DEPLOYMENT_FILE: join(stack.workDir, "no-deployment.json"),
    ARGUS_IPFS_API: stack.ipfs.apiUrl,
    ARGUS_GATEWAY_PORT: "0",
    ARGUS_GATEWAY_RELAYER_KEY: hardhatAccountKey(9),
    ARGUS_GATEWAY_RATE_LIMIT: "1000000",
    ARGUS_GATEWAY_READ_RATE_LIMIT: "1000000",
  },
  stdio: ["ignore", "pipe", "inherit"],
  detached: false,
});
const gatewayUrl = await new Promise<string>((resolve, reject) => {
  createInterface({ input: child.stdout! }).on("line", (line) => {
    if (line.startsWith('{"event":"ready"')) resolve((JSON.parse(line) as { url: string }).url);
  });
  child.once("exit", (code) => reject(new Error(`the gateway exited (${code}) before it was ready`)));
});

const timings = { required: [] as number[], paid: [] as number[], status: [] as number[] };
const accepted: { requestId: string; payer: Address }[] = [];
const failures: string[] = [];
let retried = 0;

/** One client: its own account, PER_CLIENT requests one after the other (a bounded loop). */
async function client(index: number): Promise<void> {
  const payer = payers[index]!;
  const x402 = registerArgusScheme(new x402Client(), payer, {
    chainId: stack.argus.chainId,
    token: token.address,
    maxAmountPerPayment: 10n ** 6n,
  });
  for (let round = 0; round < PER_CLIENT; round++) {
    // A distinct image per request (JPEG decoders ignore what follows the image's end).
    const image = new Uint8Array([...photo, ...new TextEncoder().encode(`client ${index} round ${round}`)]);
    const form = () => {
      const body = new FormData();
      body.set("image", new Blob([image]), "photo.jpg");
      body.set("model", String(modelId));
      return body;
    };
    let started = performance.now();
    const first = await politely(() => fetch(`${gatewayUrl}/v1/predictions`, { method: "POST", body: form() }));
    timings.required.push(performance.now() - started);
    if (first.status !== 402) {
      failures.push(`402 expected, got ${first.status}: ${await first.text()}`);
      continue;
    }
    const payment = await x402.createPaymentPayload(decodePaymentRequiredHeader(first.headers.get("PAYMENT-REQUIRED")!));
    started = performance.now();
    const paid = await politely(() =>
      fetch(`${gatewayUrl}/v1/predictions`, {
        method: "POST",
        body: form(),
        headers: { "PAYMENT-SIGNATURE": encodePaymentSignatureHeader(payment) },
      }),
    );
    timings.paid.push(performance.now() - started);
    const answer = (await paid.json()) as { requestId?: string; message?: string };
    if (paid.status !== 200 || !answer.requestId) {
      failures.push(`paid upload: ${paid.status} ${answer.message}`);
      continue;
    }
    accepted.push({ requestId: answer.requestId, payer: payer.address });
    started = performance.now();
    const status = await fetch(`${gatewayUrl}/v1/predictions/${answer.requestId}`);
    timings.status.push(performance.now() - started);
    const body = (await status.json()) as { status?: string };
    if (status.status !== 200 || body.status !== "pending") failures.push(`status: ${status.status} ${JSON.stringify(body)}`);
  }
}

console.log(`gateway at ${gatewayUrl}: ${CLIENTS} clients × ${PER_CLIENT} requests…`);
const began = performance.now();
await Promise.all(
  payers.map((_, index) =>
    client(index).catch((error: Error) =>
      failures.push(`client ${index} stopped: ${error.message} ${(error.cause as Error)?.message ?? ""}`),
    ),
  ),
);
const seconds = (performance.now() - began) / 1000;
const peakRssMb = await gatewayPeakRssMb(child.pid!);

// Read back from the chain: every accepted request exactly once, for its payer; every payer charged PER_CLIENT fees.
const logs = await stack.client.getLogs({ address: stack.argus.escrow, fromBlock: BigInt(stack.argus.deployBlock) });
const requested = parseEventLogs({ abi: predictionEscrowAbi, logs, eventName: "PredictionRequested" });
const onChain = new Map<string, Address>();
let duplicates = 0;
for (const event of requested) {
  const id = event.args.requestId.toString();
  if (onChain.has(id)) duplicates++;
  onChain.set(id, event.args.requester);
}
const lost = accepted.filter((request) => onChain.get(request.requestId) !== request.payer).length;
const fee = TEST_TOKEN_MODEL_TERMS.fee;
let overcharged = 0;
for (const payer of payers) {
  const balance = await stack.client.readContract({
    address: token.address,
    abi: erc20Abi,
    functionName: "balanceOf",
    args: [payer.address],
  });
  const paidFor = accepted.filter((request) => request.payer === payer.address).length;
  if (balance !== TEST_TOKEN_GRANT - BigInt(paidFor) * fee) overcharged++;
}

child.kill("SIGTERM");
await stack.close();
if (failures.length > 0) console.log(`${failures.length} failures, first: ${failures.slice(0, 3).join(" | ")}`);
const figures = {
  clients: CLIENTS,
  requestsPerClient: PER_CLIENT,
  accepted: accepted.length,
  onChain: requested.length,
  failures: failures.length,
  retried503: retried,
  lost,
  paidTwice: duplicates + overcharged + Math.max(0, requested.length - accepted.length),
  p50_402Ms: percentile(timings.required, 0.5),
  p95_402Ms: percentile(timings.required, 0.95),
  p50PaidMs: percentile(timings.paid, 0.5),
  p95PaidMs: percentile(timings.paid, 0.95),
  p50StatusMs: percentile(timings.status, 0.5),
  p95StatusMs: percentile(timings.status, 0.95),
  gatewayPeakRssMb: peakRssMb,
  seconds: Math.round(seconds * 10) / 10,
};
console.log(JSON.stringify(figures));
process.exit(figures.lost === 0 && figures.paidTwice === 0 && figures.accepted === CLIENTS * PER_CLIENT ? 0 : 1);

/**
 * A well-behaved client: a 503 (busy, or the chain or IPFS node not answering — nothing
 * was paid) is retried after its Retry-After, at most 5 times; the time counts.
 */
async function politely(send: () => Promise<Response>): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    const response = await send();
    if (response.status !== 503 || attempt === 5) return response;
    retried++;
    await response.body?.cancel();
    await new Promise((resolve) => setTimeout(resolve, Number(response.headers.get("retry-after") ?? 1) * 1000));
  }
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!);
}

/** VmHWM: the most resident memory the process ever had. */
async function gatewayPeakRssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kib = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1]);
  return Math.round((kib / 1024) * 10) / 10;
}
