/**
 * The web UI end to end, in headless Chromium: the production build served with its
 * deployment record, a local chain, the embedded IPFS node, and a test wallet injected
 * over EIP-6963 that signs with a funded Hardhat account. Each flow ends with a
 * screenshot of what the user sees, under test-output/frontend/.
 *
 * Answers come from the real oracle (support/stack.ts starts it in this process, local
 * executor, shared models), and the page follows it through the oracle's status server
 * ("picked up", "computing", …) before the answer is on-chain. Flows whose request must
 * stay unanswered pause the oracle's execution: it still picks the request up.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { expect } from "chai";
import type { Page } from "playwright-core";
import { erc20Abi, zeroAddress } from "viem";
import { predictionEscrowAbi } from "@argus/escrow/abi";
import { sharedImage, requireSharedData } from "../support/shared.ts";
import { assertChromium, DESKTOP, openSession, PHONE, type Session } from "./support/browser.ts";
import {
  account,
  ensureScreenshotsDir,
  SCREENSHOTS_DIR,
  startFrontendStack,
  TOKEN_FEE,
  TOKEN_MODEL,
  type FrontendStack,
} from "./support/stack.ts";
import { TestWallet } from "./support/wallet.ts";

const USER = account(3);
const CAT_LABELS = /tabby|tiger cat|Egyptian cat/i; // ImageNet 281, 282, 285: shared/images/expected.json accepts these

describe("web UI end to end (headless Chromium)", function () {
  this.timeout(180_000);
  let e2e: FrontendStack;
  let session: Session | undefined;
  let wallet: TestWallet;

  before(async function () {
    requireSharedData(this);
    assertChromium();
    await ensureScreenshotsDir();
    e2e = await startFrontendStack();
  });

  after(async function () {
    await e2e?.close();
  });

  /** Whether the oracle runs models now; it keeps picking requests up (and fetching their images) either way. */
  const oracleAnswers = (answers: boolean) => e2e.oracle.pauseExecution(!answers);

  async function open(viewport = DESKTOP, startChainId?: number): Promise<Page> {
    wallet = new TestWallet(USER, e2e.chain, e2e.stack.chain.rpcUrl, startChainId === undefined ? {} : { startChainId });
    session = await openSession(viewport, (context) => wallet.install(context));
    await session.page.goto(e2e.appUrl);
    await session.page.getByRole("heading", { name: "Choose a model" }).waitFor();
    return session.page;
  }

  /** Console errors a flow provokes on purpose (e.g. the browser logging a refused request). */
  let expectedErrors: RegExp | undefined;

  afterEach(async function () {
    const errors = (session?.errors ?? []).filter((error) => !expectedErrors?.test(error));
    expectedErrors = undefined;
    if (this.currentTest?.state === "failed" && session) {
      // What the user would have seen, and what the page logged: the first thing to look at.
      const name = this.currentTest.title.replace(/[^a-z0-9]+/gi, "-").slice(0, 60);
      await session.page.screenshot({ path: join(SCREENSHOTS_DIR, `FAILED-${name}.png`), fullPage: true }).catch(() => {});
      if (errors.length > 0) console.error(`page errors during "${this.currentTest.title}":\n  ${errors.join("\n  ")}`);
    }
    await session?.close();
    session = undefined;
    if (this.currentTest?.state === "passed") expect(errors, "console errors").to.deep.equal([]);
  });

  async function screenshot(page: Page, name: string): Promise<void> {
    await page.screenshot({ path: join(SCREENSHOTS_DIR, `${name}.png`), fullPage: true });
  }

  async function connect(page: Page): Promise<void> {
    await page.getByRole("button", { name: "Connect wallet" }).click();
    await page.getByRole("button", { name: "Argus Test Wallet" }).click();
    await page
      .getByText(`${USER.address.slice(0, 6)}`, { exact: false })
      .first()
      .waitFor();
  }

  async function pickModel(page: Page, name: string): Promise<void> {
    await page.getByRole("radio", { name, exact: true }).check();
  }

  async function uploadImage(page: Page, path: string): Promise<string> {
    await page.locator('input[type="file"]').setInputFiles(path);
    await page.getByRole("button", { name: "Upload & pin to IPFS" }).click();
    return (await page.getByTestId("image-cid").textContent({ timeout: 20_000 }))!;
  }

  async function pay(page: Page, label: RegExp): Promise<void> {
    await page.getByRole("button", { name: label }).click();
    await page.getByTestId("tx-confirmed").waitFor({ timeout: 30_000 });
  }

  const tracker = (page: Page) => page.locator('section[aria-labelledby="step-follow"] [data-testid="request-tracker"]');

  /** Waits for the oracle's answer to be shown and checked; a "Not verified" fails at once with the page's reason. */
  async function verifiedAnswer(page: Page) {
    const verified = tracker(page).getByTestId("verified");
    const refused = tracker(page).getByTestId("not-verified");
    await verified.or(refused).waitFor({ timeout: 90_000 });
    if (await refused.isVisible()) expect.fail(`the page did not verify the answer: ${await refused.textContent()}`);
    return verified;
  }

  /** Waits until the page shows the oracle holding the request (its model run paused) and returns the oracle's record of it. */
  async function pickedUp(page: Page) {
    await tracker(page)
      .and(page.locator('[data-phase="picked-up"]'))
      .getByText("The oracle has fetched your image")
      .waitFor({ timeout: 20_000 });
    const requestId = BigInt((await tracker(page).getByTestId("request-id").getAttribute("title"))!);
    const held = e2e.oracle.store.get(requestId);
    expect(held?.state).to.equal("ready");
    return held!;
  }

  it("prompts a switch when the wallet is on another network, and switches", async function () {
    const page = await open(DESKTOP, 1);
    await connect(page);
    const banner = page.getByRole("alert").filter({ hasText: "Wrong network" });
    await banner.waitFor();
    expect(await banner.textContent()).to.match(/on chain 1\. Argus runs on Hardhat local \(chain 31337\)/);
    await pickModel(page, "mobilenetv2-12-int8");
    expect(await page.getByText("Switch your wallet to Hardhat local to pay.").isVisible()).to.equal(true);
    await screenshot(page, "wrong-network");
    await banner.getByRole("button", { name: "Switch to Hardhat local" }).click();
    await banner.waitFor({ state: "detached" });
    expect(wallet.chainId).to.equal(31337);
    expect(wallet.calls).to.include("wallet_switchEthereumChain");
  });

  it("refuses an oversized file before uploading anything", async function () {
    const page = await open(PHONE);
    const uploads: string[] = [];
    page.on("request", (request) => {
      if (request.url().startsWith(e2e.stack.ipfs.apiUrl)) uploads.push(request.url());
    });
    // A real JPEG header on 2 MiB + 1 byte: refused for its size alone.
    const big = Buffer.alloc(2 * 1024 * 1024 + 1);
    (await readFile(sharedImage("wml_cat.jpg"))).copy(big);
    const path = join(SCREENSHOTS_DIR, "..", "oversized.jpg");
    await writeFile(path, big);
    await page.locator('input[type="file"]').setInputFiles(path);
    const alert = page.getByRole("alert").filter({ hasText: "Image refused" });
    await alert.waitFor();
    expect(await alert.textContent()).to.match(/2,097,153 bytes\); images can be at most 2 MiB \(2,097,152 bytes\).*Nothing was uploaded/);
    expect(await page.getByRole("button", { name: "Upload & pin to IPFS" }).count()).to.equal(0);
    await screenshot(page, "oversized-refused");
    expect(uploads).to.deep.equal([]);
  });

  it("explains an unreachable IPFS endpoint and lets the user retry", async function () {
    const page = await open(PHONE);
    await page.route(`${e2e.stack.ipfs.apiUrl}/**`, (route) => route.abort("connectionrefused"));
    expectedErrors = /Failed to load resource: net::ERR_CONNECTION_REFUSED/;
    await page.locator('input[type="file"]').setInputFiles(sharedImage("ortx_cat_224x224.jpg"));
    await page.getByRole("button", { name: "Upload & pin to IPFS" }).click();
    const alert = page.getByRole("alert").filter({ hasText: "IPFS endpoint down" });
    await alert.waitFor();
    expect(await alert.textContent()).to.contain(`${e2e.stack.ipfs.apiUrl} is not reachable`);
    await screenshot(page, "ipfs-down");
    await page.unroute(`${e2e.stack.ipfs.apiUrl}/**`);
    await alert.getByRole("button", { name: "Retry upload" }).click();
    expect(await page.getByTestId("image-cid").textContent({ timeout: 20_000 })).to.match(/^bafk/);
  });

  it("works with the keyboard alone up to payment", async function () {
    const page = await open(DESKTOP);
    await page.keyboard.press("Tab");
    expect(
      await page.evaluate(
        () => (globalThis as unknown as { document: { activeElement: { textContent: string } } }).document.activeElement.textContent,
      ),
    ).to.equal("Skip to content");
    const connectButton = page.getByRole("button", { name: "Connect wallet" });
    while (
      !(await connectButton.evaluate(
        (element) => element === (globalThis as unknown as { document: { activeElement: unknown } }).document.activeElement,
      ))
    ) {
      await page.keyboard.press("Tab");
    }
    await page.keyboard.press("Enter");
    await page.keyboard.press("Tab"); // into the wallet list
    await page.keyboard.press("Enter");
    await page.getByRole("button", { name: "Disconnect" }).waitFor();
    const radio = page.getByRole("radio", { name: "fastestdet-coco80", exact: true });
    await radio.focus();
    await page.keyboard.press("ArrowDown");
    expect(await page.getByRole("radio", { name: "mobilenetv2-12-int8", exact: true }).isChecked()).to.equal(true);
    expect(await feeQuote(page)).to.equal("0.001 ETH");
  });

  it("pays for MobileNetV2 on the cat photo, shows the oracle picking it up, then a verified cat (phone width)", async function () {
    oracleAnswers(false); // held after pick-up, so the page is seen showing it
    const page = await open(PHONE);
    await connect(page);
    await pickModel(page, "mobilenetv2-12-int8");
    const cid = await uploadImage(page, sharedImage("wml_cat.jpg"));
    expect(cid).to.match(/^bafk/);
    expect(await feeQuote(page)).to.equal("0.001 ETH");
    await pay(page, /^Pay 0\.001 ETH$/);
    const held = await pickedUp(page);
    expect(held.imageCid).to.equal(cid);
    expect(await tracker(page).getByRole("list", { name: "Request progress" }).getByRole("listitem").allTextContents()).to.deep.equal([
      "✓Pinned",
      "✓Requested",
      "✓Picked up",
      "●Running the model",
    ]);
    await screenshot(page, "cat-picked-up");

    oracleAnswers(true);
    const verified = await verifiedAnswer(page);
    const top = await tracker(page).locator('[data-testid="top5"] li').first().textContent();
    expect(top).to.match(CAT_LABELS);
    expect(await tracker(page).getAttribute("data-phase")).to.equal("fulfilled");
    await verified.scrollIntoViewIfNeeded();
    await screenshot(page, "cat-verified");
  });

  it("draws the detector's bus box over the photo", async function () {
    const page = await open(DESKTOP);
    await connect(page);
    await pickModel(page, "fastestdet-coco80");
    await uploadImage(page, sharedImage("detect_bus.jpg"));
    oracleAnswers(true);
    await pay(page, /^Pay 0\.001 ETH$/);
    await verifiedAnswer(page);
    const bus = tracker(page).locator('[data-testid="boxes"] g[data-label="bus"] rect');
    await bus.waitFor();
    const box = await bus.boundingBox();
    expect(box!.width).to.be.greaterThan(100);
    expect(await tracker(page).locator('[data-testid="boxes"] g[data-label="person"]').count()).to.be.greaterThan(0);
    await tracker(page).getByTestId("boxes").scrollIntoViewIfNeeded();
    await screenshot(page, "bus-detected");
  });

  it("pays a token-priced model with a permit signature, after explaining a declined one", async function () {
    oracleAnswers(false); // its engine knows no manifest of this copy: it would only fail at it
    const page = await open(DESKTOP);
    await connect(page);
    await pickModel(page, TOKEN_MODEL);
    await uploadImage(page, sharedImage("wml_kitten.jpg"));
    const before = await e2e.stack.client.readContract({
      address: e2e.token,
      abi: erc20Abi,
      functionName: "balanceOf",
      args: [USER.address],
    });

    wallet.declineNext.add("eth_signTypedData_v4");
    await page.getByRole("button", { name: "Sign permit & pay 1 tGLM" }).click();
    const declined = page.getByRole("alert").filter({ hasText: "Rejected in the wallet" });
    await declined.waitFor();
    await screenshot(page, "permit-declined");
    await declined.getByRole("button", { name: "Dismiss" }).click();

    await pay(page, /^Sign permit & pay 1 tGLM$/);
    await pickedUp(page);
    const after = await e2e.stack.client.readContract({
      address: e2e.token,
      abi: erc20Abi,
      functionName: "balanceOf",
      args: [USER.address],
    });
    expect(before - after).to.equal(TOKEN_FEE);
    expect(wallet.calls).to.include("eth_signTypedData_v4");
    await screenshot(page, "permit-paid");
  });

  it("lets the user reclaim a request the oracle did not answer in time, and withdraw the refund", async function () {
    oracleAnswers(false);
    const page = await open(DESKTOP);
    await connect(page);
    await pickModel(page, "squeezenet1.1-fp16");
    await uploadImage(page, sharedImage("glow_dog_207.png"));
    await pay(page, /^Pay 0\.001 ETH$/);
    await pickedUp(page);

    await rpc(e2e.stack.chain.rpcUrl, "evm_increaseTime", [3601]);
    await rpc(e2e.stack.chain.rpcUrl, "evm_mine", []);
    const reclaim = tracker(page).getByRole("button", { name: "Reclaim the fee" });
    await reclaim.waitFor({ timeout: 15_000 });
    await screenshot(page, "expired-reclaimable");
    await reclaim.click();
    await tracker(page).and(page.locator('[data-phase="expired"]')).waitFor({ timeout: 15_000 });

    const refunds = page.getByTestId("refunds");
    await refunds.waitFor({ timeout: 15_000 });
    // Every request of this account still unanswered was expired by the time travel; this one is refunded.
    const owed = await e2e.stack.client.readContract({
      address: e2e.stack.argus.escrow,
      abi: predictionEscrowAbi,
      functionName: "balanceOf",
      args: [zeroAddress, USER.address],
    });
    expect(owed).to.equal(10n ** 15n);
    await screenshot(page, "expired-reclaimed");
    await refunds.getByRole("button", { name: /^Withdraw 0\.001 ETH$/ }).click();
    await refunds.waitFor({ state: "detached", timeout: 15_000 });
  });
});

/** The fee shown for the selected model, once its quote (a contract read started by the selection) has arrived. */
async function feeQuote(page: Page): Promise<string | null> {
  const quote = page.getByTestId("fee-quote");
  await quote.filter({ hasNotText: "quoting…" }).waitFor({ timeout: 10_000 });
  return quote.textContent();
}

async function rpc(url: string, method: string, params: unknown[]): Promise<unknown> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = (await response.json()) as { result?: unknown; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}
