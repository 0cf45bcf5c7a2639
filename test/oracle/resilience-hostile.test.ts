/**
 * Hostile and awkward inputs through the whole pipeline (issue #8): a corpus generated
 * here (nothing copied from ../shared) of broken, oversized, exotic and merely unusual
 * images, plus a CID that never resolves and the CID of a directory. Each request ends
 * fulfilled or rejected with its reason and refunded; the oracle keeps running; the
 * reason is visible on-chain, at the oracle's /requests/<id>, and in `argus result`.
 */
import { expect } from "chai";
import { join } from "node:path";
import pino from "pino";
import sharp from "sharp";
import { predictionEscrowAbi } from "@argus/escrow/abi";
import { RejectReason } from "@argus/escrow/request-terms";
import { writeDeploymentFile } from "@argus/escrow/deployment-file";
import { startOracle, type RunningOracle } from "@argus/oracle/oracle";
import { resultCidForBytes } from "@argus/protocol/cid";
import { requireSharedData } from "../support/shared.ts";
import { argus, cleanEnv } from "../cli/support/argus.ts";
import { animatedGif, noiseBytes, pngDeclaring, readSharedImage } from "../provider-image/support/engine.ts";
import { assertBalanceInvariant, assertSettledOnce } from "./support/escrow-checks.ts";
import { requestStatus } from "./support/oracle-process.ts";
import { pinImage, startStack, waitForSettlements, type Stack } from "./support/stack.ts";
import { type Expectation, MOBILENET, submitRequests } from "./support/workload.ts";

const NATIVE = "0x0000000000000000000000000000000000000000";
const USER = 12;

interface Case {
  kind: string;
  /** Bytes to pin, or a CID to request as it is. */
  image: Uint8Array | { cid: string };
  expect: Expectation;
}

/** The corpus: at least 12 kinds of broken or unusual images (see the provider-image suite for each rule). */
async function hostileCorpus(stack: Stack): Promise<Case[]> {
  const cat = await readSharedImage("wml_cat.jpg");
  const pineapple = await readSharedImage("ortx_pineapple.png");
  const rejected = (reason: number): Expectation => ({ kind: "rejected", reason });
  const fulfilled: Expectation = { kind: "fulfilled" };
  const rotated = await sharp(await sharp(cat).rotate(270).jpeg({ quality: 90 }).toBuffer())
    .withMetadata({ orientation: 6 })
    .jpeg({ quality: 90 })
    .toBuffer();
  const big = await sharp(noiseBytes(1100 * 1100 * 3), { raw: { width: 1100, height: 1100, channels: 3 } })
    .png()
    .toBuffer();
  // A directory holding a photo: its CID names no image.
  const entries = [];
  for await (const entry of stack.ipfsClient.addAll([{ path: "album/cat.jpg", content: cat }], {
    cidVersion: 1,
    rawLeaves: true,
    pin: true,
  }))
    entries.push(entry);
  const directory = entries.find((entry) => entry.path === "album")!.cid.toString();
  // Valid CID of bytes nobody has: no node can ever provide it.
  const missing = (await resultCidForBytes(crypto.getRandomValues(new Uint8Array(64)))).toString();

  return [
    { kind: "empty file", image: new Uint8Array(), expect: rejected(RejectReason.NotAnImage) },
    { kind: "random bytes", image: noiseBytes(50_000, 7), expect: rejected(RejectReason.NotAnImage) },
    {
      kind: "HTML page",
      image: new TextEncoder().encode("<!DOCTYPE html><html><body><img src=cat.jpg></body></html>"),
      expect: rejected(RejectReason.NotAnImage),
    },
    { kind: "truncated JPEG", image: cat.subarray(0, Math.floor(cat.length / 2)), expect: rejected(RejectReason.DecodeFailed) },
    {
      kind: "JPEG signature, noise after it",
      image: Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), noiseBytes(5_000, 9)]),
      expect: rejected(RejectReason.DecodeFailed),
    },
    { kind: "PNG declaring 30,000 × 30,000 pixels", image: pngDeclaring(30_000, 30_000), expect: rejected(RejectReason.TooLarge) },
    { kind: "file over 2 MiB", image: big, expect: rejected(RejectReason.TooLarge) },
    {
      kind: "SVG",
      image: new TextEncoder().encode(
        '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64"/></svg>',
      ),
      expect: rejected(RejectReason.UnsupportedFormat),
    },
    { kind: "TIFF", image: await sharp(cat).resize(64).tiff().toBuffer(), expect: rejected(RejectReason.UnsupportedFormat) },
    { kind: "animated GIF", image: await animatedGif([cat, pineapple]), expect: fulfilled },
    { kind: "CMYK JPEG", image: await sharp(cat).toColourspace("cmyk").jpeg({ quality: 90 }).toBuffer(), expect: fulfilled },
    {
      kind: "16-bit PNG",
      image: await sharp(await sharp(cat).resize(500).png().toBuffer())
        .toColourspace("rgb16")
        .png()
        .toBuffer(),
      expect: fulfilled,
    },
    { kind: "greyscale JPEG", image: await sharp(cat).toColourspace("b-w").jpeg().toBuffer(), expect: fulfilled },
    { kind: "EXIF-rotated photo", image: rotated, expect: fulfilled },
    {
      kind: "transparent PNG",
      image: await sharp({ create: { width: 300, height: 300, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } })
        .png()
        .toBuffer(),
      expect: fulfilled,
    },
    {
      kind: "1 × 1 image",
      image: await sharp({ create: { width: 1, height: 1, channels: 3, background: "#808080" } })
        .png()
        .toBuffer(),
      expect: fulfilled,
    },
    { kind: "WebP", image: await sharp(cat).webp({ quality: 80 }).toBuffer(), expect: fulfilled },
    { kind: "CID that never resolves", image: { cid: missing }, expect: rejected(RejectReason.Unretrievable) },
    { kind: "CID of a directory", image: { cid: directory }, expect: rejected(RejectReason.NotAnImage) },
  ];
}

describe("oracle resilience: hostile inputs through the whole pipeline", function () {
  this.timeout(180_000);
  let stack: Stack;
  let oracle: RunningOracle;

  before(async function () {
    requireSharedData(this);
    stack = await startStack("hostile", { ipfsMaxUploadBytes: 16 * 1024 * 1024 });
    oracle = await startOracle(
      stack.oracleConfig({ dataDir: join(stack.workDir, "oracle-hostile"), fetchTimeoutMs: 1_500, fetchAttempts: 2 }),
      {
        log: pino({ level: process.env.ARGUS_TEST_LOG_LEVEL ?? "error" }),
      },
    );
  });

  after(async function () {
    await oracle?.stop();
    await stack?.close();
  });

  it("each request ends fulfilled, or rejected with its reason and refunded; the oracle keeps running", async function () {
    const corpus = await hostileCorpus(stack);
    expect(corpus.length).to.be.at.least(14);
    const cids: string[] = [];
    for (const item of corpus) cids.push("cid" in item.image ? item.image.cid : await pinImage(stack, item.image));
    const modelId = stack.modelId(MOBILENET);
    const requests = await submitRequests(
      stack,
      corpus.map((item, index) => ({ user: USER, modelId, imageCid: cids[index]!, expect: item.expect })),
    );
    const ids = requests.map((request) => request.terms.requestId);
    await waitForSettlements(stack, ids, 120_000);
    const onChain = await assertSettledOnce(stack, ids);

    const env = cleanEnv({ ARGUS_DEPLOYMENT_FILE: join(stack.workDir, "deployment.json"), ARGUS_ORACLE_STATUS_URL: oracle.statusUrl });
    await writeDeploymentFile(env.ARGUS_DEPLOYMENT_FILE!, {
      schemaVersion: 1,
      chain: { id: stack.argus.chainId, name: "test chain", rpcUrl: stack.chain.rpcUrl },
      contracts: { predictionEscrow: { address: stack.argus.escrow, deployBlock: stack.argus.deployBlock } },
      ipfs: { apiUrl: stack.ipfs.apiUrl, gatewayUrl: stack.ipfs.gatewayUrl },
    });

    let refunds = 0n;
    const outcomes: string[] = [];
    for (const [index, item] of corpus.entries()) {
      const id = ids[index]!;
      const settlement = onChain.get(id)!;
      outcomes.push(`${item.kind}: ${settlement.kind}${settlement.kind === "rejected" ? ` (${settlement.reason})` : ""}`);
      expect(settlement.kind, item.kind).to.equal(item.expect.kind);
      const status = await requestStatus(oracle.statusUrl, id);
      expect(status?.state, `${item.kind}: the oracle's state`).to.equal(settlement.kind);
      const shown = await argus(["result", id.toString(), "--json"], env);
      expect(shown.code, `${item.kind}: argus result\n${shown.stderr}`).to.equal(0);
      const json = shown.json<{ status: string; settlement?: { reason?: unknown } }>();
      expect(json.status, `${item.kind}: argus result`).to.equal(settlement.kind);
      if (settlement.kind === "rejected" && item.expect.kind === "rejected") {
        expect(settlement.reason, `${item.kind}: the on-chain reason`).to.equal(item.expect.reason);
        expect(status?.rejectReason, `${item.kind}: the oracle's reason`).to.equal(item.expect.reason);
        expect(status?.error, `${item.kind}: the oracle's explanation`).to.be.a("string").and.not.equal("");
        expect(JSON.stringify(json.settlement), `${item.kind}: argus result names the reason`).to.include(String(status?.rejectReasonName));
        refunds += requests[index]!.terms.fee;
      }
    }
    console.log(`      ${outcomes.join("; ")}`);
    const user = stack.user(USER);
    const balance = await stack.client.readContract({
      address: stack.argus.escrow,
      abi: predictionEscrowAbi,
      functionName: "balanceOf",
      args: [NATIVE, user.account.address],
    });
    expect(balance, "every rejected request refunded").to.equal(refunds);
    const health = (await (await fetch(`${oracle.statusUrl}/healthz`)).json()) as { ok: boolean };
    expect(health.ok, "the oracle is still running and healthy").to.equal(true);
    await assertBalanceInvariant(stack);
  });

  it("a photo right after the corpus is still answered (the oracle did not stop)", async function () {
    const cid = await pinImage(
      stack,
      await sharp(await readSharedImage("wonnx_bald_eagle.jpeg"))
        .resize(300)
        .jpeg()
        .toBuffer(),
    );
    const [request] = await submitRequests(stack, [
      { user: USER, modelId: stack.modelId(MOBILENET), imageCid: cid, expect: { kind: "fulfilled" } },
    ]);
    const settled = await waitForSettlements(stack, [request!.terms.requestId], 60_000);
    expect(settled.get(request!.terms.requestId)?.kind).to.equal("fulfilled");
  });
});
