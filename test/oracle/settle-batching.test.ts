/**
 * How the settle stage sizes and splits batches (settle-batching.ts): every callback's
 * whole limit on top of the estimate, callback gas bounded per transaction, and after a
 * failure callback items posted alone and the rest in smaller batches — without a
 * capped request holding up the ones behind it.
 */
import { expect } from "chai";
import { CALLBACK_GAS_OVERHEAD } from "@argus/escrow/request-terms";
import { BatchCaps, chooseBatch, settlementGasLimit } from "@argus/oracle/pipeline/settle-batching";

const plain = (id: number) => ({ requestId: BigInt(id), callbackGasLimit: 0 });
const withCallback = (id: number, limit = 2_500_000) => ({ requestId: BigInt(id), callbackGasLimit: limit });
const ids = (batch: { requests: { requestId: bigint }[] }) => batch.requests.map((request) => Number(request.requestId));

describe("settle batching", () => {
  it("budgets the estimate with a margin plus each callback's limit × 64/63 and the escrow's overhead", () => {
    expect(settlementGasLimit(100_000n, [plain(1), plain(2)])).to.equal(125_000n);
    expect(settlementGasLimit(100_000n, [plain(1), withCallback(2, 63_000), withCallback(3, 630)])).to.equal(
      125_000n + 64_000n + CALLBACK_GAS_OVERHEAD + 640n + CALLBACK_GAS_OVERHEAD,
    );
  });

  it("fills a batch up to maxPerTx, and up to maxCallbackGas of callback gas (a lone request always fits)", () => {
    const caps = new BatchCaps();
    const waiting = [plain(1), plain(2), plain(3)];
    expect(chooseBatch(waiting, { maxPerTx: 2, maxCallbackGas: 10n ** 9n, caps })).to.deep.include({ full: true });
    expect(ids(chooseBatch(waiting, { maxPerTx: 2, maxCallbackGas: 10n ** 9n, caps }))).to.deep.equal([1, 2]);
    expect(chooseBatch(waiting, { maxPerTx: 5, maxCallbackGas: 10n ** 9n, caps })).to.deep.include({ full: false });
    // Two 2.5M callbacks need ~5.1M: with 4M to spare the second waits, the plain ones behind it do not.
    const mixed = [withCallback(1), withCallback(2), plain(3), plain(4)];
    const batch = chooseBatch(mixed, { maxPerTx: 16, maxCallbackGas: 4_000_000n, caps });
    expect([ids(batch), batch.full]).to.deep.equal([[1, 3, 4], true]);
    expect(ids(chooseBatch([withCallback(1)], { maxPerTx: 16, maxCallbackGas: 1n, caps }))).to.deep.equal([1]);
  });

  it("after a revert posts each callback item alone and the others in batches of half the size, the rest unhindered", () => {
    const caps = new BatchCaps();
    const failed = [plain(1), withCallback(2), plain(3), plain(4), withCallback(5), plain(6)];
    caps.reverted(failed);
    const options = { maxPerTx: 16, maxCallbackGas: 10n ** 9n, caps };
    // New requests 7 and 8 join the first plain batch of the failed ones; the callback items go one by one.
    let waiting = [...failed, plain(7), plain(8)];
    const sent: number[][] = [];
    while (waiting.length > 0) {
      const batch = chooseBatch(waiting, options);
      sent.push(ids(batch));
      waiting = waiting.filter((request) => !batch.requests.includes(request));
    }
    expect(sent).to.deep.equal([[1, 3, 4], [2], [5], [6, 7, 8]]);
    // Every request of the failed batch is carried by one more transaction only.
    for (const request of failed) expect(sent.filter((batch) => batch.includes(Number(request.requestId)))).to.have.length(1);
  });

  it("isolates a request the escrow skipped for want of callback gas, and forgets caps of settled requests", () => {
    const caps = new BatchCaps();
    caps.isolate(2n);
    const options = { maxPerTx: 16, maxCallbackGas: 10n ** 9n, caps };
    expect(ids(chooseBatch([withCallback(2), plain(1)], options))).to.deep.equal([2]);
    expect(ids(chooseBatch([plain(1), withCallback(2), plain(3)], options))).to.deep.equal([1, 3]);
    caps.forget(2n);
    expect(ids(chooseBatch([plain(1), withCallback(2), plain(3)], options))).to.deep.equal([1, 2, 3]);
    // Caps only ever shrink: a second failure halves again, never widens.
    caps.reverted([plain(1), plain(3), plain(4), plain(5)]);
    caps.reverted([plain(1), plain(3), plain(4), plain(5), plain(6), plain(7), plain(8), plain(9)]);
    expect(caps.capOf(1n)).to.equal(2);
  });
});
