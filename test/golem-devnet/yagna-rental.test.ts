/**
 * Unmodified golem-js 3.6 rents a provider on the devnet as on yagna: it connects
 * (version and identity), funds an allocation, publishes a demand, negotiates, signs an
 * agreement, deploys the real provider image on the real exe-unit, uploads a file over
 * the GSB WebSocket, runs a command in the sandbox, downloads the output, ends the
 * agreement and pays the invoice — and nothing it sent or received breaks the spec.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { expectClose } from "../support/close-to.ts";
import { ensureProviderImage, type Harness, order, PRICES, startHarness } from "./support/yagna-harness.ts";

describe("golem-devnet yagna: a rental through golem-js", function () {
  this.timeout(180_000);
  let harness: Harness | undefined;

  before(async function () {
    await ensureProviderImage(this);
  });

  afterEach(async function () {
    await harness?.close();
    harness = undefined;
  });

  it("signs an agreement, runs a command inside the image, and is invoiced usage × agreed prices", async function () {
    harness = await startHarness();
    const { glm, devnet, hash } = harness;
    const work = await mkdtemp(join(tmpdir(), "argus-yagna-rental-"));
    try {
      const rental = await glm.oneOf({ order: order(hash, 0.5) });
      const [agreement] = devnet.view.agreements();
      expect(agreement).to.include({ id: rental.agreement.id, state: "Approved" });
      expect(devnet.providers.map((provider) => provider.id)).to.include(rental.agreement.provider.id);
      // golem-js reads the provider's name and hoodi wallet from the offer as ya-provider writes it
      expect(rental.agreement.provider.name).to.match(/^test-provider-\d$/);
      expect(rental.agreement.provider.walletAddress).to.equal(rental.agreement.provider.id);

      const exe = await rental.getExeUnit();
      const batch = exe.beginBatch();
      batch.uploadData(new TextEncoder().encode("argus devnet\n"), "/golem/input/in.txt");
      batch.run("/bin/sh", ["-c", "tr a-z A-Z < /golem/input/in.txt > /golem/output/out.txt && cat /etc/os-release | head -1"]);
      batch.downloadFile("/golem/output/out.txt", join(work, "out.txt"));
      const results = await batch.end();
      expect(results.map((result) => result.result)).to.deep.equal(["Ok", "Ok", "Ok"]);
      expect(String(results[1]!.stdout)).to.match(/Debian/);
      expect(await readFile(join(work, "out.txt"), "utf8")).to.equal("ARGUS DEVNET\n");

      const usageBefore = devnet.view.activities()[0]!.usage;
      await rental.stopAndFinalize(30_000);
      const [invoice] = devnet.view.invoices();
      expect(invoice).to.include({ agreementId: rental.agreement.id, status: "ACCEPTED" });
      // invoice = start + cpu_sec × cpu/h ÷ 3600 + duration_sec × env/h ÷ 3600, from the final usage
      const [cpuSec, durationSec] = devnet.view.activities()[0]!.usage;
      expect(durationSec).to.be.at.least(usageBefore[1]!);
      const expected = PRICES.start + (cpuSec! * PRICES.cpuPerHour) / 3600 + (durationSec! * PRICES.envPerHour) / 3600;
      expectClose(Number(invoice!.amount), expected, 1e-12);

      const [allocation] = devnet.view.allocations();
      const spentOnInvoices = devnet.view.invoices().reduce((sum, entry) => sum + Number(entry.amount), 0);
      expectClose(Number(allocation!.spentAmount), spentOnInvoices, 1e-15);
      expect(allocation!.spentAmount).to.equal(invoice!.amount);
      expect(devnet.view.agreements()[0]).to.include({ state: "Terminated", terminator: "Requestor" });
      expect(devnet.violations()).to.deep.equal([]);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });

  it("streams a command's output as Server-Sent Events, as golem-js's runAndStream reads them", async function () {
    harness = await startHarness();
    const { glm, devnet, hash } = harness;
    const rental = await glm.oneOf({ order: order(hash, 0.5) });
    const exe = await rental.getExeUnit();
    const process = await exe.runAndStream("/bin/sh", ["-c", "echo streamed; echo complaint >&2; exit 3"]);
    const stdout: string[] = [];
    const stderr: string[] = [];
    process.stdout.subscribe((chunk) => stdout.push(String(chunk)));
    process.stderr.subscribe((chunk) => stderr.push(String(chunk)));
    const last = await process.waitForExit(30_000);
    expect(stdout.join("")).to.equal("streamed\n");
    expect(stderr.join("")).to.equal("complaint\n");
    expect(last.result).to.equal("Error");
    expect((await exe.run("echo still-usable")).stdout).to.equal("still-usable\n");
    await rental.stopAndFinalize(30_000);
    expect(devnet.violations()).to.deep.equal([]);
  });
});
