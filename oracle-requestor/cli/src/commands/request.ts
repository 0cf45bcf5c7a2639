/**
 * `argus request --model <id|name> --image <file|cid> [--wait] [--timeout T] [--json]`:
 * the terminal's `curl -F image=@kitten.jpg …/requestPrediction/<model>`. Pins the
 * file, quotes and pays the fee, and with --wait follows the request to its verified
 * answer.
 */
import type { ImageLimits } from "@argus/provider-image/image-limits";
import { readFile, stat } from "node:fs/promises";
import { basename } from "node:path";
import { type Address, type Hex, erc20Abi, zeroAddress } from "viem";
import { inspectImage } from "@argus/provider-image/decode-image";
import { isValidImageCid } from "@argus/protocol/cid";
import { formatBytes, MAX_IMAGE_BYTES } from "@argus/protocol/limits";
import type { ModelInfo, RequestRecord } from "@argus/escrow/escrow-reads";
import { quote } from "@argus/escrow/quote";
import { requestFromTransaction, requestPrediction } from "@argus/escrow/request-prediction";
import { noPositionals, parseCommand, parseSeconds, UsageError } from "../args.ts";
import { type Command, EXIT } from "../command.ts";
import { type CliContext, openContext } from "../context.ts";
import { formatAmount } from "@argus/escrow/format";
import { currencyOf, resolveModel } from "../escrow-reads.ts";
import { payOverHttp } from "../pay-over-http.ts";
import { Output } from "../output.ts";
import { printStatus, statusJson } from "../present.ts";
import { type RequestStatus, waitForSettlement } from "../request-status.ts";

const USAGE = `usage: argus request --model <id|name> --image <file|cid> [--pay-over-http <url>] [--wait] [--timeout <duration>] [--no-check] [--json] [--deployment <file>]

Pins the image file to IPFS (or takes the CID of an image already pinned), pays the
model's quoted fee to the escrow and prints the request id. The request names that fee
as the most it pays, and the deadline the model's response window promises (plus an
hour) as the latest it accepts: if the model's terms change first, it reverts and costs
nothing. With --wait it follows the request until the oracle answers and prints the
result, verified against the digest recorded on-chain.

  --model <id|name>     registry id or name (see \`argus models list\`)
  --image <file|cid>    an image file (JPEG, PNG, WebP, GIF, AVIF; at most ${formatBytes(MAX_IMAGE_BYTES)}) or its CID
  --pay-over-http <url> pay through an Argus HTTP gateway (e.g. http://127.0.0.1:8402) with x402: the
                        account signs an EIP-3009 authorization of the model's token fee and needs no
                        ETH; the gateway pins the image and relays it (token-priced models only)
  --wait                wait for the answer (exit 3 if the request is rejected or expires)
  --timeout <duration>  give up waiting after this long: 90, 90s, 15m, 2h (default 10m)
  --no-check            skip the local check that the file is an image the oracle accepts
  --json                print one JSON object instead of text

Signs with ARGUS_PRIVATE_KEY, or ARGUS_KEYSTORE and ARGUS_KEYSTORE_PASSWORD.`;

export const requestCommand: Command = {
  usage: USAGE,
  async run(argv, io, settings) {
    const { values, positionals } = parseCommand(argv, {
      model: { type: "string" },
      image: { type: "string" },
      wait: { type: "boolean", default: false },
      timeout: { type: "string" },
      "no-check": { type: "boolean", default: false },
      "pay-over-http": { type: "string" },
    });
    noPositionals(positionals);
    if (values.model === undefined) throw new UsageError("--model is required");
    if (values.image === undefined) throw new UsageError("--image is required");
    const timeoutMs = parseSeconds(values.timeout, "--timeout", 600) * 1000;
    const image = await readImageArgument(values.image);

    const out = new Output(io, values.json);
    const ctx = await openContext(values, settings);
    const wallet = await ctx.wallet();
    const model = await resolveModel(ctx, values.model);
    if (!model.active) throw new Error(`model ${model.id} ${model.name} is not active: it takes no requests`);

    const gatewayUrl = values["pay-over-http"];
    if (gatewayUrl !== undefined) {
      if (!URL.canParse(gatewayUrl)) throw new UsageError(`--pay-over-http "${gatewayUrl}" is not a URL such as http://127.0.0.1:8402`);
      if (image.kind !== "file") throw new UsageError("--pay-over-http uploads the image to the gateway: give --image a file, not a CID");
      if (!values["no-check"])
        await checkImage(image.bytes, image.path, { maxBytes: settings.maxImageBytes, maxPixels: settings.maxImagePixels });
      out.spin(`paying ${model.name} through ${gatewayUrl} (x402, signed authorization)…`);
      const paid = await payOverHttp(ctx, gatewayUrl, await ctx.account(), model, { bytes: image.bytes, name: basename(image.path) });
      const request = await requestFromTransaction(ctx, paid.transaction);
      out.done(
        `request ${paid.requestId} paid through the gateway in block ${request.blockNumber} (tx ${paid.transaction}; status ${paid.statusUrl})`,
      );
      return finish(ctx, out, values, { request, model, hash: paid.transaction, timeoutMs });
    }

    let imageCid: string;
    if (image.kind === "file") {
      if (!values["no-check"])
        await checkImage(image.bytes, image.path, { maxBytes: settings.maxImageBytes, maxPixels: settings.maxImagePixels });
      imageCid = await pinImage(ctx, out, image.bytes, image.path);
    } else {
      imageCid = image.cid;
    }

    const { token: feeToken, fee } = await quote(ctx, model.id);
    const currency = await currencyOf(ctx, feeToken);
    await ensureFunds(ctx, wallet.account.address, feeToken, fee, currency, out);
    out.spin(`paying ${formatAmount(fee, currency)} for ${model.name}…`);
    const request = await requestPrediction({ ...ctx, wallet }, { modelId: model.id, imageCid, fee });
    const hash = request.transactionHash;
    out.done(`request ${request.terms.requestId} paid ${formatAmount(fee, currency)} in block ${request.blockNumber} (tx ${hash})`);
    return finish(ctx, out, values, { request, model, hash, timeoutMs });
  },
};

/** Prints the paid request (or, with --wait, follows it to its answer) and returns the exit code. */
async function finish(
  ctx: CliContext,
  out: Output,
  values: { wait?: boolean },
  paid: { request: RequestRecord; model: ModelInfo; hash: Hex; timeoutMs: number },
): Promise<number> {
  const { request, model, hash } = paid;
  if (!values.wait) {
    const summary = {
      requestId: request.terms.requestId,
      status: "pending",
      model: { id: model.id, name: model.name },
      imageCid: request.imageCid,
      fee: request.terms.fee,
      feeToken: model.feeToken,
      requester: request.terms.requester,
      deadline: Number(request.terms.deadline),
      requestBlock: Number(request.blockNumber),
      requestTransaction: hash,
    };
    if (out.json) out.data(summary);
    else {
      out.text(request.terms.requestId.toString());
      out.note(`follow it with: npx argus result ${request.terms.requestId} --wait`);
    }
    return EXIT.ok;
  }

  const status = await waitWithProgress(ctx, out, { request, model }, paid.timeoutMs);
  if (status === undefined) return EXIT.interrupted;
  if (out.json) out.data(statusJson(status));
  else printStatus(out, status, await currencyOf(ctx, model.feeToken));
  return exitCodeOf(status);
}

type ImageArgument = { kind: "file"; path: string; bytes: Uint8Array } | { kind: "cid"; cid: string };

async function readImageArgument(text: string): Promise<ImageArgument> {
  const info = await stat(text).catch(() => undefined);
  if (info?.isFile()) return { kind: "file", path: text, bytes: new Uint8Array(await readFile(text)) };
  if (info?.isDirectory()) throw new UsageError(`--image ${text} is a folder, not an image file`);
  if (isValidImageCid(text)) return { kind: "cid", cid: text.trim() };
  throw new UsageError(`--image "${text}" is neither a readable file nor an image CID`);
}

/** The checks the oracle makes before it works on an image, so a bad file is refused before it is paid for. */
async function checkImage(bytes: Uint8Array, path: string, limits: ImageLimits): Promise<void> {
  try {
    await inspectImage(bytes, limits);
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new Error(
      `${path} would be rejected by the oracle${code ? ` (${code})` : ""}: ${(error as Error).message} (--no-check sends it anyway)`,
    );
  }
}

async function pinImage(ctx: CliContext, out: Output, bytes: Uint8Array, path: string): Promise<string> {
  const name = basename(path);
  const size = bytes.byteLength;
  const activity = `pinning ${name} (${kib(size)}) to ${ctx.ipfsApiUrl}…`;
  out.spin(activity);
  try {
    const added = await ctx.ipfs().add(bytes, {
      cidVersion: 1,
      rawLeaves: true,
      pin: true,
      progress: (sent: number) =>
        out.spin(`pinning ${name}: ${Math.min(100, Math.round((sent / Math.max(size, 1)) * 100))}% of ${kib(size)}`, activity),
    });
    const cid = added.cid.toString();
    out.done(`pinned ${name} as ${cid}`);
    return cid;
  } catch (error) {
    out.done();
    throw new Error(`cannot pin ${name} to the IPFS node at ${ctx.ipfsApiUrl}: ${(error as Error).message}`);
  }
}

function kib(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KiB`;
}

/** A clear message instead of a node's "insufficient funds"; approves a token fee when the allowance is short. */
async function ensureFunds(
  ctx: CliContext,
  payer: Address,
  feeToken: Address,
  fee: bigint,
  currency: { symbol: string; decimals: number; token: Address },
  out: Output,
): Promise<void> {
  if (feeToken === zeroAddress) {
    const balance = await ctx.client.getBalance({ address: payer });
    if (balance <= fee)
      throw new Error(`${payer} has ${formatAmount(balance, currency)}; the fee is ${formatAmount(fee, currency)} plus gas`);
    return;
  }
  const [balance, allowance] = await Promise.all([
    ctx.client.readContract({ address: feeToken, abi: erc20Abi, functionName: "balanceOf", args: [payer] }),
    ctx.client.readContract({ address: feeToken, abi: erc20Abi, functionName: "allowance", args: [payer, ctx.escrow] }),
  ]);
  if (balance < fee) throw new Error(`${payer} has ${formatAmount(balance, currency)}; the fee is ${formatAmount(fee, currency)}`);
  if (allowance >= fee) return;
  out.spin(`approving ${formatAmount(fee, currency)} for the escrow…`);
  const wallet = await ctx.wallet();
  const hash = await wallet.writeContract({ address: feeToken, abi: erc20Abi, functionName: "approve", args: [ctx.escrow, fee] });
  const receipt = await ctx.client.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success") throw new Error(`the approval ${hash} reverted`);
  out.done(`approved ${formatAmount(fee, currency)} (tx ${hash})`);
}

/** Waits with a spinner; Ctrl-C stops waiting (the request stays paid) and says how to come back. Undefined when interrupted. */
export async function waitWithProgress(
  ctx: CliContext,
  out: Output,
  loaded: Parameters<typeof waitForSettlement>[1],
  timeoutMs: number,
): Promise<RequestStatus | undefined> {
  const interrupt = new AbortController();
  const onSigint = () => interrupt.abort(new Error("interrupted"));
  process.once("SIGINT", onSigint);
  const id = loaded.request.terms.requestId;
  out.spin("waiting for the oracle…", "waiting for the oracle");
  try {
    const status = await waitForSettlement(ctx, loaded, {
      timeoutMs,
      signal: interrupt.signal,
      onTick: (pending, waitedMs) => {
        const oracle = pending.oracle ? ` — oracle: ${pending.oracle.state}` : "";
        out.spin(`waiting for the oracle… ${Math.round(waitedMs / 1000)} s${oracle}`, `waiting for the oracle${oracle}`);
      },
    });
    out.done();
    return status;
  } catch (error) {
    out.done();
    if (interrupt.signal.aborted) {
      out.warn(`stopped waiting; request ${id} stays paid — \`npx argus result ${id} --wait\` picks it up again`);
      return undefined;
    }
    throw error;
  } finally {
    process.removeListener("SIGINT", onSigint);
  }
}

export function exitCodeOf(status: RequestStatus): number {
  if (status.phase === "rejected" || status.phase === "expired") return EXIT.refused;
  if (status.phase === "fulfilled" && status.verified === false) return EXIT.failure;
  return EXIT.ok;
}
