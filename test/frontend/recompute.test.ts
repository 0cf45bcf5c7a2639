/**
 * "Recompute in my browser" end to end, in Debian's Chromium, on the web UI's local
 * stack (support/stack.ts: the production build served cross-origin isolated as
 * vite.config.ts serves it, the real oracle, the classifiers' weights pinned to IPFS as
 * `npm start` pins them): a request the oracle answered recomputes to "matches"; a
 * corrupted answer (right schema and summary, wrong classes) posted by a test oracle, as
 * `argus verify --recompute`'s test posts it, recomputes to "mismatch" with the classes
 * named. The WASM runtimes must load only on the click.
 */
import { mkdir, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { expect } from "chai";
import { type Browser, chromium, type Page } from "playwright-core";
import { bytesToHex, createWalletClient, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { hardhat } from "viem/chains";
import { predictionEscrowAbi } from "@argus/escrow/abi";
import { packFulfillment } from "@argus/escrow/request-terms";
import { hardhatAccountKey } from "@argus/devchain";
import { pinResult } from "@argus/ipfs-node/client";
import { compareResults } from "@argus/protocol/compare-results";
import { parseLabels } from "@argus/protocol/manifest";
import {
  type ClassificationResult,
  type ClassScore,
  type InferenceResult,
  isErrorResult,
  onChainSummary,
  resultBytes,
  resultSha256,
} from "@argus/protocol/result";
import { BUILTIN_MANIFESTS_DIR, listManifests } from "@argus/provider-image/catalog";
import { rawCidOfFile } from "@argus/provider-image/file-cid";
import { createEngine } from "@argus/provider-image/engine";
import { pinImageFile, requestPrediction, waitForSettlements } from "../oracle/support/stack.ts";
import { requireSharedData, SHARED_IMAGES_DIR, SHARED_MODELS_DIR, sharedImage } from "../support/shared.ts";
import { assertChromium, CHROMIUM } from "./support/browser.ts";
import { type FrontendStack, SCREENSHOTS_DIR, startFrontendStack } from "./support/stack.ts";

const MODEL = "mobilenetv2-12-int8";
const PHOTO = "wml_cat.jpg";
/** Another photo for the lie: the oracle would answer a repeated image from its earlier result, paused or not. */
const LIED_ABOUT = "mlg_kitten.jpg";

/**
 * Runs in the page (as source text: the test's own transpiler would wrap functions in
 * helpers the page does not have): the app's recompute modules from Vite's dev server,
 * each photo decoded by wasm-vips and classified by onnxruntime-web.
 */
const CLASSIFY_IN_PAGE = `async ({ manifest, weights, labels, photos }) => {
  const bytes = (text) => Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
  const [{ loadBrowserRuntimes }, { decodePixels }, { classifyPixels, createClassifierSession }] = await Promise.all([
    import("/src/recompute/load-runtimes.ts"),
    import("/src/recompute/decode-pixels.ts"),
    import("/src/recompute/classify-pixels.ts"),
  ]);
  const { vips, ort } = await loadBrowserRuntimes({ avif: false });
  const session = await createClassifierSession(ort, bytes(weights));
  const answers = [];
  for (const photo of photos) {
    const { pixels } = decodePixels(vips, bytes(photo), manifest, 40000000);
    answers.push(await classifyPixels(ort, session, manifest, pixels, labels));
  }
  await session.release();
  return answers;
}`;

describe("web UI end to end: recompute in the browser", function () {
  this.timeout(300_000);
  let app: FrontendStack;
  let browser: Browser;

  before(async function () {
    requireSharedData(this);
    assertChromium();
    this.timeout(600_000);
    [app, browser] = await Promise.all([
      startFrontendStack(),
      chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
      }),
    ]);
    await mkdir(SCREENSHOTS_DIR, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await app?.close();
  });

  /** Opens the request's page, waits for the verified result, clicks the button and returns the verdict element's page. */
  async function recomputeOnPage(
    requestId: bigint,
    screenshot: string,
  ): Promise<{ page: Page; verdict: string; text: string; errors: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const errors: string[] = [];
    const wasm: string[] = [];
    page.on("console", (message) => void (message.type() === "error" && errors.push(message.text())));
    page.on("pageerror", (error) => errors.push(error.message));
    page.on("request", (request) => void (request.url().endsWith(".wasm") && wasm.push(request.url())));
    await page.goto(`${app.appUrl}/r/0x${requestId.toString(16)}`);
    await page.getByTestId("verified").waitFor({ timeout: 60_000 });
    expect(await page.evaluate("crossOriginIsolated"), "the app is served cross-origin isolated").to.equal(true);
    expect(wasm, "no WASM before the click").to.deep.equal([]);
    await page.getByRole("button", { name: "Recompute in my browser" }).click();
    await page.getByTestId("recompute-progress").waitFor({ timeout: 10_000 });
    const verdict = page.getByTestId("recompute-verdict");
    await verdict.waitFor({ timeout: 180_000 });
    await page.screenshot({ path: join(SCREENSHOTS_DIR, screenshot), fullPage: true });
    expect(wasm.length, "the runtimes' WASM loads on the click").to.be.at.least(2);
    return { page, verdict: (await verdict.getAttribute("data-verdict")) ?? "", text: (await verdict.textContent()) ?? "", errors };
  }

  it("a request the oracle answered: recomputed, matches", async function () {
    const stack = app.stack;
    const imageCid = await pinImageFile(stack, sharedImage(PHOTO));
    const terms = await requestPrediction(stack, stack.user(3), stack.modelId(MODEL), imageCid);
    const settled = await waitForSettlements(stack, [terms.requestId], 120_000);
    expect(settled.get(terms.requestId)?.kind).to.equal("fulfilled");
    const { page, verdict, text, errors } = await recomputeOnPage(terms.requestId, "recompute-match.png");
    expect(verdict, text).to.equal("match");
    expect(text).to.match(/Recomputed: matches/);
    expect(errors).to.deep.equal([]);
    await page.context().close();
  });

  it("a corrupted answer posted by a test oracle (right schema, wrong classes): recomputed, mismatch", async function () {
    const stack = app.stack;
    app.oracle.pauseExecution(true); // the real oracle picks the request up but leaves the answering to this test
    try {
      const imageCid = await pinImageFile(stack, sharedImage(LIED_ABOUT));
      const terms = await requestPrediction(stack, stack.user(3), stack.modelId(MODEL), imageCid);
      const engine = createEngine({ referencePhotosDir: SHARED_IMAGES_DIR, modelsDir: SHARED_MODELS_DIR });
      const [honest] = await engine.run(MODEL, [
        { requestId: terms.requestId.toString(), imageCid, image: { bytes: await readFile(sharedImage(LIED_ABOUT)) } },
      ]);
      const lie = (result: InferenceResult): InferenceResult =>
        "top5" in result
          ? { ...result, top5: result.top5.map((entry, index) => ({ ...entry, classIndex: 900 + index, label: `not ${entry.label}` })) }
          : result;
      const corrupted = lie(honest!);
      if (isErrorResult(corrupted)) throw new Error("the kitten must be classified");
      await pinResult(stack.ipfsClient, resultBytes(corrupted));
      // Account 1 is the models' operator (the oracle's key): a lying operator posts it.
      const operator = createWalletClient({
        account: privateKeyToAccount(hardhatAccountKey(1)),
        chain: hardhat,
        transport: http(stack.chain.rpcUrl),
      });
      const hash = await operator.writeContract({
        address: stack.argus.escrow,
        abi: predictionEscrowAbi,
        functionName: "fulfillBatch",
        args: [[packFulfillment(terms, bytesToHex(await resultSha256(corrupted)), onChainSummary(corrupted))]],
      });
      expect((await stack.client.waitForTransactionReceipt({ hash })).status).to.equal("success");
      const settled = (await waitForSettlements(stack, [terms.requestId], 10_000)).get(terms.requestId);
      expect(settled, "the corrupted answer is the one on-chain").to.deep.include({
        kind: "fulfilled",
        resultDigest: bytesToHex(await resultSha256(corrupted)),
      });

      const { page, verdict, text, errors } = await recomputeOnPage(terms.requestId, "recompute-mismatch.png");
      expect(verdict, text).to.equal("mismatch");
      expect(text).to.match(/Recomputed: mismatch/);
      expect(text, "names the recorded classes").to.match(/900,901,902,903,904/);
      expect(errors).to.deep.equal([]);
      await page.context().close();
    } finally {
      app.oracle.pauseExecution(false);
    }
  });
  it("in Chromium, every shared photo and every registered classifier: the browser's pipeline gives the engine's answers", async function () {
    // The app's own modules, as Vite's dev server serves them to a cross-origin isolated page.
    const page = await (await browser.newContext()).newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await page.goto(await app.startDevServer());
    expect(await page.evaluate("crossOriginIsolated"), "the dev server is cross-origin isolated").to.equal(true);
    const photos = (await readdir(SHARED_IMAGES_DIR)).filter((name) => !name.endsWith(".json")).sort();
    const base64 = async (path: string) => (await readFile(path)).toString("base64");
    const photoBytes = await Promise.all(photos.map((photo) => base64(join(SHARED_IMAGES_DIR, photo))));
    const engine = createEngine({ referencePhotosDir: SHARED_IMAGES_DIR, modelsDir: SHARED_MODELS_DIR });
    const requests = await Promise.all(
      photos.map(async (photo, index) => ({
        requestId: String(index + 1),
        imageCid: await rawCidOfFile(join(SHARED_IMAGES_DIR, photo)),
        image: { path: join(SHARED_IMAGES_DIR, photo) },
      })),
    );
    const classifiers = (await listManifests([BUILTIN_MANIFESTS_DIR])).filter((manifest) => manifest.task === "classification");
    expect(classifiers.length).to.be.at.least(2);
    for (const manifest of classifiers) {
      const labels = parseLabels(await readFile(join(SHARED_MODELS_DIR, manifest.labels.file), "utf8"), manifest.labels.format);
      const args = { manifest, weights: await base64(join(SHARED_MODELS_DIR, manifest.weights.file)), labels, photos: photoBytes };
      const inBrowser = (await page.evaluate(`(${CLASSIFY_IN_PAGE})(${JSON.stringify(args)})`)) as ClassScore[][];
      const recorded = (await engine.run(manifest.id, requests)) as ClassificationResult[];
      for (const [index, photo] of photos.entries()) {
        const expected = recorded[index]!;
        const browserResult: ClassificationResult = { ...expected, top5: inBrowser[index]! };
        expect(compareResults(browserResult, expected).differences, `${manifest.id} ${photo}`).to.deep.equal([]);
        // The int8 network's answers are exact here, as in Node (browser-recompute.test.ts).
        if (expected.runtime.inferencePath !== "native-float")
          expect(inBrowser[index], `${manifest.id} ${photo}`).to.deep.equal(expected.top5);
      }
      console.log(`      ${manifest.id}: ${photos.length} photos recomputed in Chromium, all agree with the engine`);
    }
    expect(errors).to.deep.equal([]);
    await page.context().close();
  });
});
