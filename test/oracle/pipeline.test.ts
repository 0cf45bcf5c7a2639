import { expect } from "chai";
import { readFile } from "node:fs/promises";
import { sha256 } from "multiformats/hashes/sha2";
import { toHex } from "viem";
import pino from "pino";
import { predictionEscrowAbi } from "@argus/escrow/abi";
import { RejectReason } from "@argus/escrow/request-terms";
import { fetchResult } from "@argus/ipfs-node/client";
import { startOracle, type RunningOracle } from "@argus/oracle/oracle";
import { InferenceResultSchema, onChainSummary } from "@argus/protocol/result";
import { requireSharedData, sharedImage } from "../support/shared.ts";
import { pinImage, pinImageFile, requestPrediction, startStack, waitForSettlements, type Stack } from "./support/stack.ts";

const expected = JSON.parse(await readFile(sharedImage("expected.json"), "utf8").catch(() => "{}")) as Record<string, { accept: number[] }>;
const COCO_BUS = 5;
const COCO_PERSON = 0;

describe("oracle pipeline: paid requests → local executor → results on-chain", function () {
  let stack: Stack;
  let oracle: RunningOracle;

  before(async function () {
    requireSharedData(this);
    stack = await startStack("pipeline");
    oracle = await startOracle(stack.oracleConfig(), { log: pino({ level: "warn" }) });
  });

  after(async function () {
    await oracle?.stop();
    await stack?.close();
  });

  it("answers real photos with results whose pinned JSON hashes to the on-chain digest", async function () {
    const user = stack.user(3);
    const cases = [
      { file: "wml_cat.jpg", model: "mobilenetv2-12-int8" },
      { file: "ortx_pineapple.png", model: "squeezenet1.1-fp16" },
      { file: "wonnx_bald_eagle.jpeg", model: "mobilenetv2-12-int8" },
      { file: "detect_bus.jpg", model: "fastestdet-coco80" },
    ];
    const requests = [];
    for (const { file, model } of cases) {
      const cid = await pinImageFile(stack, sharedImage(file));
      requests.push({ file, model, terms: await requestPrediction(stack, user, stack.modelId(model), cid) });
    }
    const settled = await waitForSettlements(
      stack,
      requests.map((request) => request.terms.requestId),
      90_000,
    );

    for (const { file, model, terms } of requests) {
      const settlement = settled.get(terms.requestId)!;
      expect(settlement.kind, file).to.equal("fulfilled");
      if (settlement.kind !== "fulfilled") continue;
      const bytes = await fetchResult(stack.ipfsClient, settlement.resultDigest, { maxBytes: 1 << 20, timeoutMs: 5_000 });
      expect(toHex((await sha256.digest(bytes)).digest)).to.equal(settlement.resultDigest);
      const result = InferenceResultSchema.parse(JSON.parse(new TextDecoder().decode(bytes)));
      expect(result.requestId).to.equal(terms.requestId.toString());
      expect(result.modelId).to.equal(model);
      expect("error" in result, file).to.equal(false);
      if ("error" in result) continue;
      expect(onChainSummary(result)).to.deep.equal({ topClass: settlement.topClass, topScore: settlement.topScore });
      expect(result.computedBy, "the pinned result names who computed it").to.deep.equal({ executor: "local" });
      if (result.task === "classification") {
        expect(expected[file]!.accept, `${file} top class`).to.include(result.top5[0]!.classIndex);
      } else {
        const classes = result.detections.map((detection) => detection.classIndex);
        expect(classes).to.include(COCO_BUS);
        expect(classes.filter((index) => index === COCO_PERSON).length).to.be.at.least(2);
      }
    }
    const state = oracle.store.get(requests[0]!.terms.requestId)!;
    expect(state.state).to.equal("fulfilled");
    expect(state.resultCid).to.match(/^bafkrei/);
  });

  it("rejects unusable inputs on-chain with a reason, refunding each requester", async function () {
    const user = stack.user(4);
    const modelId = stack.modelId("mobilenetv2-12-int8");
    const html = await pinImage(stack, new TextEncoder().encode("<!doctype html><html><body>not an image</body></html>"));
    const random = await pinImage(stack, crypto.getRandomValues(new Uint8Array(4096)));
    const notACid = "0x0102030405";
    const requests = [
      { terms: await requestPrediction(stack, user, modelId, html), reason: RejectReason.NotAnImage },
      { terms: await requestPrediction(stack, user, modelId, random), reason: RejectReason.NotAnImage },
      { terms: await requestPrediction(stack, user, modelId, notACid), reason: RejectReason.InvalidCid },
    ];
    const settled = await waitForSettlements(
      stack,
      requests.map((request) => request.terms.requestId),
      60_000,
    );
    let refunded = 0n;
    for (const { terms, reason } of requests) {
      expect(settled.get(terms.requestId)).to.deep.include({ kind: "rejected", reason });
      refunded += terms.fee;
    }
    const balance = await stack.client.readContract({
      address: stack.argus.escrow,
      abi: predictionEscrowAbi,
      functionName: "balanceOf",
      args: ["0x0000000000000000000000000000000000000000", user.account.address],
    });
    expect(balance).to.equal(refunded);
  });
});
