/**
 * Payments between golem-js and the devnet's providers: debit notes at the negotiated
 * interval accepted in time, a provider ending the agreement when one is not, invoices
 * equal to the activities' usage × the agreed prices and paid from the allocation, an
 * overcharging provider's invoice rejected, and allocations that refuse spending when
 * short, released or expired.
 */
import { expect } from "chai";
import { formatAmount } from "@argus/golem-devnet/decimal";
import { activityCost, paymentTerms } from "@argus/golem-devnet/provider-billing";
import { ensureProviderImage, eventually, type Harness, order, providerSpecs, startHarness } from "./support/yagna-harness.ts";

describe("golem-devnet yagna: debit notes, invoices and allocations", function () {
  this.timeout(180_000);
  let harness: Harness | undefined;

  before(async function () {
    await ensureProviderImage(this);
  });

  afterEach(async function () {
    await harness?.close();
    harness = undefined;
  });

  async function api(path: string, init: RequestInit = {}): Promise<{ status: number; body: unknown }> {
    const { devnet } = harness!;
    const response = await fetch(`${devnet.url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${devnet.appKey}`, "content-type": "application/json", ...init.headers },
    });
    const text = await response.text();
    return { status: response.status, body: text === "" ? undefined : JSON.parse(text) };
  }

  it("debit notes come at the negotiated interval and are accepted within their deadline; the allocation pays the invoice", async function () {
    harness = await startHarness();
    const { glm, devnet, hash } = harness;
    const rental = await glm.oneOf({ order: order(hash, 0.5) });
    await rental.getExeUnit();
    // golem-js asks for 120 s notes accepted within 120 s and mid-agreement payments every 12 h; ya-provider agrees
    const offer = devnet.network.agreements.get(rental.agreement.id).offer.properties;
    expect(offer).to.include({
      "golem.com.scheme.payu.debit-note.interval-sec?": 120,
      "golem.com.payment.debit-notes.accept-timeout?": 120,
      "golem.com.scheme.payu.payment-timeout-sec?": 43_200,
    });

    // notes fall on whole intervals counted from the approval (the deploy took some real seconds already)
    const approvedAt = Date.parse(devnet.view.agreements()[0]!.approvedAt!);
    devnet.advanceClock((approvedAt + 120_000 - devnet.network.clock.now()) / 1000 - 0.5);
    expect(devnet.view.debitNotes()).to.have.length(0);
    for (const expected of [1, 2, 3]) {
      devnet.advanceClock(expected === 1 ? 1 : 120);
      await eventually(
        () => devnet.view.debitNotes().length === expected && devnet.view.debitNotes().every((note) => note.acceptedAt),
        10_000,
        `debit note ${expected} accepted`,
      );
    }
    const notes = devnet.view.debitNotes();
    expect(notes.map((note) => note.acceptedInTime)).to.deep.equal([true, true, true]);
    const lateBy = notes.map((note, index) => Date.parse(note.receivedAt!) - approvedAt - (index + 1) * 120_000);
    for (const late of lateBy) expect(late).to.be.within(0, 5_000);
    expect(notes.map((note) => Number(note.amount))).to.satisfy(
      (amounts: number[]) => amounts[0]! < amounts[1]! && amounts[1]! < amounts[2]!,
    );
    expect(devnet.view.agreements()[0]!.state).to.equal("Approved");

    await rental.stopAndFinalize(30_000);
    const [invoice] = devnet.view.invoices();
    const lastNote = devnet.view.debitNotes().at(-1)!;
    expect(invoice!.amount).to.equal(lastNote.amount); // the final debit note's total is the one activity's cost
    const [allocation] = devnet.view.allocations();
    expect(allocation!.spentAmount).to.equal(invoice!.amount);
    expect(devnet.status().debitNotes.acceptedLate).to.equal(0);
    expect(devnet.violations()).to.deep.equal([]);
  });

  it("a debit note not accepted by its deadline makes the provider end the agreement", async function () {
    harness = await startHarness();
    const { glm, devnet, hash } = harness;
    const rental = await glm.oneOf({ order: order(hash, 0.5, { payment: { debitNoteFilter: () => false } }) });
    await rental.getExeUnit();
    devnet.advanceClock(120);
    await eventually(() => devnet.view.debitNotes().length === 1, 5_000, "the first debit note");
    await new Promise((resolve) => setTimeout(resolve, 500)); // golem-js sees it and declines
    expect(devnet.view.debitNotes()[0]!.status).to.equal("RECEIVED");

    devnet.advanceClock(119);
    expect(devnet.view.agreements()[0]!.state).to.equal("Approved");
    devnet.advanceClock(2);
    const [ended] = devnet.view.agreements();
    expect(ended).to.deep.include({ state: "Terminated", terminator: "Provider" });
    expect(ended!.reason).to.deep.equal({
      message: "Requestor isn't accepting DebitNotes in time (2m)",
      "golem.provider.code": "DebitNotesDeadline",
    });
    const invoice = await eventually(
      () => devnet.view.invoices().find((entry) => entry.status === "ACCEPTED"),
      10_000,
      "the invoice accepted",
    );
    expect(devnet.view.allocations()[0]!.spentAmount).to.equal(invoice.amount);
    await rental.stopAndFinalize(10_000);
    expect(devnet.violations()).to.deep.equal([]);
  });

  it("an overcharging provider bills 3× the agreed prices; its invoice rejected through the payment API stays REJECTED", async function () {
    harness = await startHarness({ providers: providerSpecs(1) });
    const { glm, devnet, hash } = harness;
    const faults = (body: unknown) => api("/devnet/providers/test-provider-1/faults", { method: "PUT", body: JSON.stringify(body) });
    expect(await faults({ overchargeFactor: 0.5 })).to.deep.equal({
      status: 400,
      body: { message: "overchargeFactor must be a number ≥ 1" },
    });
    expect((await faults({ overchargeFactor: 3 })).body).to.deep.include({ faults: { overchargeFactor: 3 } });
    expect(devnet.network.providers.all()[0]!.exeUnitFaults()).to.deep.equal({}); // a billing fault, not the exe-unit's

    // golem-js declines both documents through its filters, as a requestor checking amounts would
    const rental = await glm.oneOf({ order: order(hash, 0.5, { payment: { debitNoteFilter: () => false, invoiceFilter: () => false } }) });
    await rental.getExeUnit();
    const terms = paymentTerms(devnet.network.agreements.get(rental.agreement.id).offer.properties);
    const notes = () => [...devnet.network.payments.documents.debitNotes.values()];
    devnet.advanceClock(120);
    const [note] = await eventually(() => notes().length === 1 && notes(), 5_000, "the first debit note");
    const cost = activityCost(terms, note!.usageCounterVector);
    expect(cost > 0n).to.equal(true);
    expect(note!.totalAmountDue).to.equal(3n * cost);

    // yagna cannot reject a debit note (501, golem-js does not try): it stays RECEIVED, unpaid
    const rejectNote = await api(`/payment-api/v1/debitNotes/${note!.id}/reject`, {
      method: "POST",
      body: JSON.stringify({ rejectionReason: "INCORRECT_AMOUNT", totalAmountAccepted: formatAmount(cost) }),
    });
    expect(rejectNote.status).to.equal(501);
    expect(devnet.view.debitNotes()[0]!.status).to.equal("RECEIVED");

    await rental.stopAndFinalize(5_000).catch(() => undefined);
    const rejected = await eventually(
      () => devnet.view.invoices().find((entry) => entry.status === "REJECTED"),
      10_000,
      "golem-js to reject the invoice",
    );
    const activityCosts = [...new Set(notes().map((entry) => entry.activityId))].map((activityId) =>
      activityCost(
        terms,
        notes()
          .filter((entry) => entry.activityId === activityId)
          .at(-1)!.usageCounterVector,
      ),
    );
    const linear = activityCosts.reduce((sum, entry) => sum + entry, 0n);
    expect(rejected.amount).to.equal(formatAmount(3n * linear));
    expect(rejected.rejection).to.deep.include({ rejectionReason: "BAD_SERVICE", totalAmountAccepted: "0.00" });
    const listed = (await api("/devnet/invoices")).body as { id: string; status: string; amount: string }[];
    expect(listed).to.have.length(1);
    expect(listed[0]).to.include({ id: rejected.id, status: "REJECTED", amount: formatAmount(3n * linear) });
    expect(devnet.status().invoices.accepted).to.equal(0);
    expect(devnet.view.allocations().map((allocation) => allocation.spentAmount)).to.deep.equal(["0"]);

    // as on yagna: rejecting again is a no-op, a rejected invoice may still be accepted, an accepted one not rejected
    const rejection = JSON.stringify({ rejectionReason: "INCORRECT_AMOUNT", totalAmountAccepted: formatAmount(linear) });
    expect(await api(`/payment-api/v1/invoices/${rejected.id}/reject`, { method: "POST", body: rejection })).to.deep.include({
      status: 200,
    });
    const allocation = await glm.payment.createAllocation({ budget: 1, expirationSec: 600 });
    const accept = { totalAmountAccepted: rejected.amount, allocationId: allocation.id };
    expect(await api(`/payment-api/v1/invoices/${rejected.id}/accept`, { method: "POST", body: JSON.stringify(accept) })).to.deep.include({
      status: 200,
    });
    expect(await api(`/payment-api/v1/invoices/${rejected.id}/reject`, { method: "POST", body: rejection })).to.deep.equal({
      status: 400,
      body: { message: "Invoice accepted" },
    });
    expect(devnet.violations()).to.deep.equal([]);
  });

  it("an allocation refuses spending more than it has left, and once released answers 410 Gone", async function () {
    harness = await startHarness();
    const { glm, devnet, hash } = harness;
    const allocation = await glm.payment.createAllocation({ budget: 0.005, expirationSec: 3_600 });
    const refused: string[] = [];
    glm.payment.events.on("errorAcceptingInvoice", ({ error }) => refused.push(String((error as Error).message)));
    const rental = await glm.oneOf({ order: order(hash, 0.5, { payment: { allocation } }) });
    await rental.getExeUnit();
    await rental.stopAndFinalize(5_000).catch(() => undefined); // the invoice (0.01 GLM start price and more) is never paid
    await eventually(() => refused.length > 0, 10_000, "golem-js to fail accepting the invoice");
    expect(refused[0]).to.match(/Not enough funds\. Allocated: 0\.005 Needed: 0\.01/);
    const [invoice] = devnet.view.invoices();
    expect(invoice!.status).to.equal("RECEIVED");
    expect(devnet.view.allocations()[0]!.spentAmount).to.equal("0");

    // the same acceptance against a released allocation is Gone; the allocation too
    await glm.payment.releaseAllocation(allocation);
    const accept = await api(`/payment-api/v1/invoices/${invoice!.id}/accept`, {
      method: "POST",
      body: JSON.stringify({ totalAmountAccepted: invoice!.amount, allocationId: allocation.id }),
    });
    expect(accept).to.deep.equal({ status: 410, body: { message: `Allocation ${allocation.id} has been already released` } });
    expect(await api(`/payment-api/v1/allocations/${allocation.id}`)).to.deep.include({ status: 410 });
    expect(await api(`/payment-api/v1/allocations/${allocation.id}`, { method: "DELETE" })).to.deep.include({ status: 410 });
    expect(await api("/payment-api/v1/allocations/no-such-allocation")).to.deep.include({ status: 404 });
    await glm.payment.getAllocation(allocation.id).then(
      () => expect.fail("a released allocation cannot be read"),
      (error: Error) => expect(error.message).to.match(/410|released/),
    );
    expect(devnet.violations()).to.deep.equal([]);
  });

  it("an allocation is released when its timeout passes", async function () {
    harness = await startHarness();
    const { glm, devnet } = harness;
    const allocation = await glm.payment.createAllocation({ budget: 1, expirationSec: 60 });
    devnet.advanceClock(59);
    expect((await glm.payment.getAllocation(allocation.id)).remainingAmount).to.equal("1");
    devnet.advanceClock(2);
    expect(await api(`/payment-api/v1/allocations/${allocation.id}`)).to.deep.equal({
      status: 410,
      body: { message: `Allocation ${allocation.id} has been already released` },
    });
    expect(devnet.view.allocations()[0]).to.include({ released: true, releasedBy: "timeout" });
    // and a new one cannot take more than the wallet holds
    const tooMuch = await api("/payment-api/v1/allocations", {
      method: "POST",
      body: JSON.stringify({
        totalAmount: "1000.5",
        paymentPlatform: "erc20-hoodi-tglm",
        address: devnet.requestorId,
        timeout: new Date(Date.now() + 3_600_000).toISOString(),
      }),
    });
    expect(tooMuch.status).to.equal(400);
    expect((tooMuch.body as { message: string }).message).to.match(/^Insufficient funds/);
    expect(devnet.violations()).to.deep.equal([]);
  });
});
