/**
 * The shared protocol: canonical JSON (same object → same bytes → same sha256), the
 * result schema the oracle applies to untrusted providers, the on-chain summary, the
 * check of a recorded result, the batch files, and the manifest schema. No model or
 * image needed.
 */
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { expect } from "chai";
import { BUILTIN_MANIFESTS_DIR } from "@argus/provider-image/catalog";
import { type BatchDescription, parseBatchDescription, parseResultsFile, resultsFileBytes } from "@argus/protocol/batch";
import { canonicalJson, canonicalJsonBytes, NonCanonicalValueError } from "@argus/protocol/canonical-json";
import { resultCidFromDigest } from "@argus/protocol/cid";
import { parseLabels, parseManifest } from "@argus/protocol/manifest";
import {
  type ClassificationResult,
  type DetectionResult,
  type ErrorResult,
  InferenceResultSchema,
  NO_CLASS,
  RESULT_SCHEMA_VERSION,
  onChainSummary,
  resultBytes,
  resultSha256,
  resultSha256Hex,
  scoreToBasisPoints,
  ComputedBySchema,
  describeComputedBy,
  withComputedBy,
} from "@argus/protocol/result";
import { type RecordedAnswer, type RequestedInference, verifyResult } from "@argus/protocol/verify-result";
import { SOME_CID } from "../provider-image/support/engine.ts";

const WEIGHTS = "cc028fe6cae7bc11a4ff53cfc9b79c920e8be65ce33a904ec3e2a8f66d77f95f";
const RUNTIME = {
  engine: "0.1.0",
  node: "24.21.0",
  onnxruntime: "1.30.0",
  sharp: "0.35.5",
  libvips: "8.18.7",
  inferencePath: "native-int8" as const,
};
const TIMINGS = { decodeMs: 9.5, inferenceMs: 3.25, batchSize: 16 };

function classification(overrides: Partial<ClassificationResult> = {}): ClassificationResult {
  return {
    schemaVersion: 3,
    requestId: "115792089237316195423570985008687907853269984665640564039457584007913129639935", // 2^256 − 1
    imageCid: SOME_CID,
    modelId: "mobilenetv2-12-int8",
    task: "classification",
    weightsSha256: WEIGHTS,
    manifestCid: SOME_CID,
    image: { width: 1000, height: 800, format: "jpeg" },
    top5: [
      { classIndex: 285, label: "Egyptian cat", score: 0.622638 },
      { classIndex: 282, label: "tiger cat", score: 0.202949 },
    ],
    timings: TIMINGS,
    runtime: RUNTIME,
    ...overrides,
  };
}

function detection(detections: DetectionResult["detections"]): DetectionResult {
  return {
    schemaVersion: 3,
    requestId: "7",
    imageCid: SOME_CID,
    modelId: "fastestdet-coco80",
    task: "detection",
    weightsSha256: WEIGHTS,
    manifestCid: SOME_CID,
    image: { width: 810, height: 1080, format: "jpeg" },
    detections,
    timings: TIMINGS,
    runtime: RUNTIME,
  };
}

const box = { x: 1, y: 2, width: 3, height: 4 };

/** The same value with every object's keys in reverse insertion order. */
function reverseKeysDeeply(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reverseKeysDeeply);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value)
      .reverse()
      .map(([key, member]) => [key, reverseKeysDeeply(member)]),
  );
}

describe("provider-image: protocol", function () {
  describe("canonical JSON", function () {
    it("sorts keys at every depth and writes no whitespace", function () {
      expect(canonicalJson({ b: 1, a: [{ d: true, c: null }, "x"], é: "ü" })).to.equal('{"a":[{"c":null,"d":true},"x"],"b":1,"é":"ü"}');
    });

    it("gives the same bytes for the same object built in any key order", function () {
      const one = classification();
      const reversed = reverseKeysDeeply(one);
      expect(JSON.stringify(reversed)).to.not.equal(JSON.stringify(one));
      expect(Buffer.from(canonicalJsonBytes(reversed)).equals(Buffer.from(canonicalJsonBytes(one)))).to.equal(true);
    });

    it("orders keys by UTF-16 code units, as RFC 8785 does", function () {
      expect(canonicalJson({ "\u20ac": 1, "\r": 2, "1": 3, "\ud83d\ude00": 4, "\u0080": 5, "\u00f6": 6 })).to.equal(
        '{"\\r":2,"1":3,"\u0080":5,"\u00f6":6,"\u20ac":1,"\ud83d\ude00":4}',
      );
    });

    it("writes numbers in their shortest round-trip form", function () {
      expect(canonicalJson([0.1 + 0.2, 1e21, 1e-7, -0, 5, 0.5])).to.equal("[0.30000000000000004,1e+21,1e-7,0,5,0.5]");
    });

    it("leaves out undefined properties but rejects what JSON cannot carry", function () {
      expect(canonicalJson({ a: undefined, b: 1 })).to.equal('{"b":1}');
      for (const bad of [NaN, Infinity, 1n, [undefined], new Date(0), new Uint8Array(2), () => 1, { nested: { x: -Infinity } }]) {
        expect(() => canonicalJson(bad), String(bad)).to.throw(NonCanonicalValueError);
      }
    });
  });

  describe("results", function () {
    it("accepts a classification, a detection and an error entry", function () {
      const error: ErrorResult = {
        schemaVersion: 3,
        requestId: "3",
        imageCid: SOME_CID,
        modelId: "squeezenet1.1-fp16",
        error: { code: "EMPTY", message: "the image file is empty" },
      };
      for (const result of [classification(), detection([{ classIndex: 5, label: "bus", score: 0.75, box }]), detection([]), error]) {
        expect(InferenceResultSchema.parse(result)).to.deep.equal(result);
      }
    });

    it("rejects what an honest provider never sends", function () {
      const bad: unknown[] = [
        classification({ requestId: "007" }),
        classification({ requestId: "115792089237316195423570985008687907853269984665640564039457584007913129639936" }), // 2^256
        classification({ imageCid: "not-a-cid" }),
        classification({ weightsSha256: WEIGHTS.toUpperCase() }),
        classification({ top5: [] }),
        classification({ top5: [{ classIndex: 65535, label: "x", score: 0.5 }] }), // 65535 is reserved for "no class"
        classification({ top5: [{ classIndex: 1, label: "x", score: 1.5 }] }),
        { ...classification(), extra: "field" },
        { ...classification(), schemaVersion: 1 }, // version 1 results carried no inference path
        { ...classification(), runtime: { ...RUNTIME, inferencePath: "gpu" } },
        { schemaVersion: 3, requestId: "1", imageCid: SOME_CID, modelId: "m", error: { code: "OOPS", message: "" } },
        detection([{ classIndex: 5, label: "bus", score: 0.75, box: { ...box, x: -1 } }]),
      ];
      for (const result of bad) expect(InferenceResultSchema.safeParse(result).success, JSON.stringify(result)).to.equal(false);
    });

    it("hashes the canonical bytes, in the form the result CID is derived from", async function () {
      const result = classification();
      const bytes = resultBytes(result);
      expect(new TextDecoder().decode(bytes)).to.equal(canonicalJson(result));
      const expected = createHash("sha256").update(bytes).digest("hex");
      expect(await resultSha256Hex(result)).to.equal(expected);
      expect(await resultSha256Hex(reverseKeysDeeply(result) as ClassificationResult)).to.equal(expected);
      expect(resultCidFromDigest(await resultSha256(result)).toString()).to.match(/^bafkrei/);
    });

    it("a different prediction hashes differently", async function () {
      const changed = classification({ top5: [{ classIndex: 285, label: "Egyptian cat", score: 0.622639 }] });
      expect(await resultSha256Hex(changed)).to.not.equal(await resultSha256Hex(classification()));
    });
  });

  describe("on-chain summary", function () {
    it("classification: the top-1 class and its probability in basis points", function () {
      expect(onChainSummary(classification())).to.deep.equal({ topClass: 285, topScore: 6226 });
    });

    it("detection: the highest-scoring detection, whatever the list order", function () {
      const result = detection([
        { classIndex: 0, label: "person", score: 0.55, box },
        { classIndex: 5, label: "bus", score: 0.75005, box },
      ]);
      expect(onChainSummary(result)).to.deep.equal({ topClass: 5, topScore: 7501 });
    });

    it("detection with nothing found: class 65535, score 0", function () {
      expect(onChainSummary(detection([]))).to.deep.equal({ topClass: NO_CLASS, topScore: 0 });
      expect(NO_CLASS).to.equal(65535);
    });

    it("scores map onto 0…10000 and no further", function () {
      expect([0, 0.00004, 0.00005, 0.5, 0.99996, 1].map(scoreToBasisPoints)).to.deep.equal([0, 0, 1, 5000, 10000, 10000]);
      expect(() => scoreToBasisPoints(NaN)).to.throw(RangeError);
    });

    it("an error entry has no summary", function () {
      const error = { schemaVersion: 3, requestId: "1", imageCid: SOME_CID, modelId: "m", error: { code: "EMPTY", message: "" } };
      expect(() => onChainSummary(error as never)).to.throw(TypeError);
    });
  });

  describe("verifying a recorded result", function () {
    const requested = (result: ClassificationResult | DetectionResult | ErrorResult): RequestedInference => ({
      requestId: BigInt(result.requestId),
      modelName: result.modelId,
      imageCid: result.imageCid,
    });
    /** What the escrow records for `bytes`, with the summary the oracle posted (omitted: not readable). */
    const recorded = (bytes: Uint8Array, top?: { topClass: number; topScore: number }): RecordedAnswer => ({
      resultDigest: createHash("sha256").update(bytes).digest(),
      ...top,
    });

    it("accepts the canonical bytes of this request's result with the posted summary", async function () {
      const result = classification();
      expect(
        await verifyResult(resultBytes(result), requested(result), recorded(resultBytes(result), { topClass: 285, topScore: 6226 })),
      ).to.deep.equal({ verified: true, result });
      const detected = detection([
        { classIndex: 0, label: "person", score: 0.55, box },
        { classIndex: 5, label: "bus", score: 0.75, box },
      ]);
      const outcome = await verifyResult(
        resultBytes(detected),
        requested(detected),
        recorded(resultBytes(detected), { topClass: 5, topScore: 7500 }),
      );
      expect(outcome.verified, "the best detection is the detector's summary").to.equal(true);
    });

    it("binds by the digest alone when the summary could not be read, and for an error entry", async function () {
      const result = classification();
      expect((await verifyResult(resultBytes(result), requested(result), recorded(resultBytes(result)))).verified).to.equal(true);
      const error: ErrorResult = {
        schemaVersion: 3,
        requestId: "3",
        imageCid: SOME_CID,
        modelId: "squeezenet1.1-fp16",
        error: { code: "DECODE_FAILED", message: "truncated" },
      };
      expect(
        (await verifyResult(resultBytes(error), requested(error), recorded(resultBytes(error), { topClass: NO_CLASS, topScore: 0 })))
          .verified,
      ).to.equal(true);
    });

    it("refuses bytes that are not the recorded ones, or not a result", async function () {
      const result = classification();
      const tampered = resultBytes(classification({ top5: [{ classIndex: 285, label: "Egyptian cat", score: 0.622639 }] }));
      expect(await verifyResult(tampered, requested(result), recorded(resultBytes(result)))).to.deep.include({
        verified: false,
        failed: "digest",
      });
      const latin1 = new Uint8Array([0x7b, 0xe9, 0x7d]); // "{é}" in Latin-1: not UTF-8
      expect(await verifyResult(latin1, requested(result), recorded(latin1))).to.deep.include({ verified: false, failed: "json" });
      const other = new TextEncoder().encode('{"hello":"world"}');
      expect(await verifyResult(other, requested(result), recorded(other))).to.deep.include({ verified: false, failed: "schema" });
    });

    it("refuses a genuine result that is not this request's answer: another request, model or image, or another summary", async function () {
      const result = classification();
      const bytes = resultBytes(result);
      const answer = recorded(bytes, { topClass: 285, topScore: 6226 });
      const cases = [
        [{ ...requested(result), requestId: 42n }, answer, "requestId", /about request \d+, not this one \(42\)/],
        [
          { ...requested(result), modelName: "squeezenet1.1-fp16" },
          answer,
          "modelId",
          /from model mobilenetv2-12-int8, not the requested squeezenet1\.1-fp16/,
        ],
        [
          { ...requested(result), imageCid: "bafkreidxv53ywunl2sr4khc53wlsasu4hltbj26mw5nga3b3nbs25vtujy" },
          answer,
          "imageCid",
          /about image bafkrei\w+, not the requested bafkreidxv5/,
        ],
        [
          requested(result),
          { ...answer, topClass: 282 },
          "summary",
          /top prediction \(class 285, 6226 bp\) differs .* \(class 282, 6226 bp\)/,
        ],
      ] as const;
      for (const [request, posted, failed, problem] of cases) {
        const outcome = await verifyResult(bytes, request, posted);
        expect(outcome, failed).to.deep.include({ verified: false, failed, result });
        expect(outcome.verified ? "" : outcome.problem, failed).to.match(problem);
      }
    });
  });

  describe("batch files", function () {
    const batch: BatchDescription = {
      batchVersion: 1,
      modelId: "mobilenetv2-12-int8",
      requests: [
        { requestId: "1", imageCid: SOME_CID, imageFile: "1.jpg" },
        { requestId: "2", imageCid: "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG", imageFile: "2.png" },
      ],
    };

    it("accepts a batch of up to 16 requests", function () {
      expect(parseBatchDescription(batch)).to.deep.equal(batch);
      const full = {
        ...batch,
        requests: Array.from({ length: 16 }, (_, index) => ({ requestId: String(index), imageCid: SOME_CID, imageFile: `${index}.jpg` })),
      };
      expect(parseBatchDescription(full).requests).to.have.length(16);
      expect(() =>
        parseBatchDescription({ ...full, requests: [...full.requests, { requestId: "99", imageCid: SOME_CID, imageFile: "x.jpg" }] }),
      ).to.throw(/batch.json is invalid/);
    });

    it("refuses file names that leave the input folder, duplicate request ids and empty batches", function () {
      for (const imageFile of ["../etc/passwd", "/etc/passwd", "a/b.jpg", ".hidden", ""]) {
        expect(
          () => parseBatchDescription({ ...batch, requests: [{ requestId: "1", imageCid: SOME_CID, imageFile }] }),
          imageFile,
        ).to.throw();
      }
      expect(() => parseBatchDescription({ ...batch, requests: [batch.requests[0], batch.requests[0]] })).to.throw(/appears twice/);
      expect(() => parseBatchDescription({ ...batch, requests: [] })).to.throw();
    });

    it("checks that a results file answers its batch: count, order, ids, model and weights", function () {
      const answer = (requestId: string, imageCid: string) => classification({ requestId, imageCid });
      const good = [answer("1", SOME_CID), answer("2", batch.requests[1]!.imageCid)];
      expect(
        parseResultsFile(JSON.parse(new TextDecoder().decode(resultsFileBytes(good))), batch, { weightsSha256: WEIGHTS }),
      ).to.deep.equal(good);
      expect(() => parseResultsFile([good[1], good[0]], batch)).to.throw(/result 0 is for request 2, expected 1/);
      expect(() => parseResultsFile([good[0]], batch)).to.throw(/1 results for 2 requests/);
      expect(() => parseResultsFile([good[0], { ...good[1], modelId: "squeezenet1.1-fp16" }], batch)).to.throw(/names model squeezenet/);
      expect(() => parseResultsFile(good, batch, { weightsSha256: "0".repeat(64) })).to.throw(/ran weights/);
      expect(() => parseResultsFile([good[0], { ...good[1], top5: "cat" }], batch)).to.throw(/results.json is invalid/);
    });

    it("refuses a results file whose entries name who computed them: only the oracle records that", function () {
      const claimed = classification({
        requestId: "1",
        imageCid: SOME_CID,
        computedBy: { executor: "golem", provider: { id: "0x1", name: "me" } },
      });
      const honest = classification({ requestId: "2", imageCid: batch.requests[1]!.imageCid });
      expect(() => parseResultsFile([claimed, honest], batch)).to.throw(/result 0 names who computed it/);
    });
  });

  describe("who computed a result", function () {
    const provider = { id: "0x7ddb5e8d2d9a4f1e8c0e6b1a2f3c4d5e6f708192", name: "devnet-provider-2" };

    it("the oracle adds it to predictions, where it is part of the pinned bytes and their digest; error entries stay as they are", async function () {
      const plain = classification();
      const recorded = withComputedBy(plain, { executor: "golem", provider });
      expect(InferenceResultSchema.parse(JSON.parse(new TextDecoder().decode(resultBytes(recorded))))).to.deep.equal(recorded);
      expect(await resultSha256Hex(recorded)).not.to.equal(await resultSha256Hex(plain));
      expect(await resultSha256Hex(withComputedBy(plain, { executor: "golem", provider: { ...provider, name: "other" } }))).not.to.equal(
        await resultSha256Hex(recorded),
      );
      const error: ErrorResult = {
        schemaVersion: RESULT_SCHEMA_VERSION,
        requestId: "1",
        imageCid: SOME_CID,
        modelId: "m",
        error: { code: "EMPTY", message: "" },
      };
      expect(withComputedBy(error, { executor: "local" })).to.equal(error);
      // A result recorded before the field existed still parses.
      expect(InferenceResultSchema.parse(plain)).to.deep.equal(plain);
      expect(() =>
        InferenceResultSchema.parse({ ...plain, computedBy: { executor: "golem", provider: { id: "", name: "x" } } }),
      ).to.throw();
    });

    it("reads as words for the CLI and the web UI", function () {
      expect(describeComputedBy({ executor: "golem", provider })).to.equal(`Golem provider devnet-provider-2 (${provider.id})`);
      expect(describeComputedBy({ executor: "local" })).to.equal("the oracle's local executor");
      expect(describeComputedBy(undefined)).to.equal("not recorded");
      expect(describeComputedBy({ executor: "golem", provider, audit: "unaudited" })).to.match(/, not cross-checked$/);
      expect(describeComputedBy({ executor: "golem", provider, audit: { providers: 2, agreed: true } })).to.match(
        /, confirmed by a second provider$/,
      );
      const outvoted = { providers: 3, agreed: false, outvoted: "0xbad" } as const;
      expect(describeComputedBy({ executor: "golem", provider, audit: outvoted })).to.match(
        /, confirmed by a third provider, which outvoted 0xbad$/,
      );
    });

    it("records how a Golem answer was cross-checked, and nothing looser", function () {
      const audited = { executor: "golem", provider, audit: { providers: 2, agreed: true } };
      expect(ComputedBySchema.parse(audited)).to.deep.equal(audited);
      for (const audit of [{ providers: 2, agreed: false }, { providers: 3, agreed: false }, { providers: 1, agreed: true }, "checked"]) {
        expect(() => ComputedBySchema.parse({ ...audited, audit }), JSON.stringify(audit)).to.throw();
      }
    });
  });

  describe("manifests", function () {
    it("every manifest in provider-image/manifests is valid and named after its id", async function () {
      const files = (await readdir(BUILTIN_MANIFESTS_DIR)).filter((name) => name.endsWith(".json"));
      expect(files.sort()).to.deep.equal(["fastestdet-coco80.json", "mobilenetv2-12-int8.json", "squeezenet1.1-fp16.json"]);
      for (const file of files) {
        const manifest = parseManifest(JSON.parse(await readFile(join(BUILTIN_MANIFESTS_DIR, file), "utf8")), file);
        expect(`${manifest.id}.json`).to.equal(file);
      }
    });

    it("reports every problem of an invalid manifest with its path", async function () {
      const manifest = JSON.parse(await readFile(join(BUILTIN_MANIFESTS_DIR, "squeezenet1.1-fp16.json"), "utf8"));
      manifest.preprocess.colorOrder = "BRG";
      manifest.preprocess.resize.shortSide = 200; // below the 224 input: nothing left to crop
      manifest.weights.file = "../escape.onnx";
      expect(() => parseManifest(manifest, "broken.json")).to.throw(/^broken.json[\s\S]*weights.file[\s\S]*preprocess.colorOrder/);
      manifest.preprocess.colorOrder = "BGR";
      manifest.weights.file = "squeezenet1.1-fp16.onnx";
      expect(() => parseManifest(manifest)).to.throw(/shortSide 200 must be at least/);
    });

    it("requires a self-test on the reference set of the model's task, with a score that cannot exceed its items", async function () {
      const manifest = JSON.parse(await readFile(join(BUILTIN_MANIFESTS_DIR, "mobilenetv2-12-int8.json"), "utf8"));
      const { selfTest, ...untested } = manifest;
      expect(() => parseManifest(untested, "untested.json")).to.throw(/selfTest/);
      expect(() => parseManifest({ ...manifest, selfTest: { ...selfTest, referenceSet: "coco-objects-v1" } })).to.throw(
        /a classification model is tested on "imagenet-photos-v1"/,
      );
      expect(() => parseManifest({ ...manifest, selfTest: { ...selfTest, measured: { correct: 7, total: 6 } } })).to.throw(
        /cannot exceed measured.total/,
      );
      expect(() => parseManifest({ ...manifest, selfTest: { ...selfTest, minimumCorrect: 0 } })).to.throw(/minimumCorrect/);
    });

    it("expresses the catalogue's preprocessing: no crop, NHWC, a background class, unnamed tensors, an unverified note", async function () {
      const manifest = JSON.parse(await readFile(join(BUILTIN_MANIFESTS_DIR, "mobilenetv2-12-int8.json"), "utf8"));
      const { name: _input, ...unnamedInput } = manifest.input;
      const parsed = parseManifest({
        ...manifest,
        unverified: "an automated export that may carry random weights",
        input: { ...unnamedInput, layout: "NHWC", width: 299, height: 299 },
        preprocess: { ...manifest.preprocess, resize: { policy: "resize" } },
        output: { kind: "probabilities", backgroundClass: true },
      });
      expect(parsed.input.name).to.equal(undefined);
      expect(parsed.preprocess.resize).to.deep.equal({ policy: "resize" });
      expect(parsed.output).to.deep.equal({ kind: "probabilities", backgroundClass: true });
      expect(() =>
        parseManifest({ ...manifest, preprocess: { ...manifest.preprocess, resize: { policy: "resize", shortSide: 256 } } }),
      ).to.throw();
    });

    it("reads the three label formats", function () {
      expect(parseLabels("n01440764 tench, Tinca tinca\nn01443537 goldfish, Carassius auratus\n", "synset-lines")).to.deep.equal([
        "tench, Tinca tinca",
        "goldfish, Carassius auratus",
      ]);
      expect(parseLabels("cat\r\ndog\r\n", "lines")).to.deep.equal(["cat", "dog"]);
      expect(parseLabels('["person","bicycle"]', "json-array")).to.deep.equal(["person", "bicycle"]);
      expect(() => parseLabels("tench\n", "synset-lines")).to.throw(/line 1/);
    });
  });
});
