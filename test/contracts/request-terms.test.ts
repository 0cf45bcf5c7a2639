/**
 * The TypeScript side of the packed fulfilment layout: every field survives a round
 * trip at its extremes, and a value wider than its field is refused, not truncated.
 * (That the contract reads the same layout is settlement.test.ts's business.)
 */
import { expect } from "chai";
import { packFulfillment, type RequestTerms, unpackFulfillment } from "@argus/escrow/request-terms";

const DIGEST = `0x${"ab".repeat(32)}` as const;
const WIDEST: RequestTerms = {
  requestId: (1n << 256n) - 1n,
  requester: "0xFFfFfFffFFfffFFfFFfFFFFFffFFFffffFfFFFfF",
  modelId: 0xffff_ffff,
  fee: (1n << 96n) - 1n,
  deadline: (1n << 40n) - 1n,
  callbackGasLimit: 0xffff_ffff,
};

describe("request terms: the packed fulfilment layout", function () {
  it("round-trips every field at its largest and smallest", function () {
    for (const [terms, top] of [
      [WIDEST, { topClass: 0xffff, topScore: 10_000 }],
      [
        { ...WIDEST, requester: "0x0000000000000000000000000000000000000001", modelId: 0, fee: 0n, deadline: 0n, callbackGasLimit: 0 },
        { topClass: 0, topScore: 0 },
      ],
    ] as const) {
      const unpacked = unpackFulfillment(packFulfillment(terms, DIGEST, top));
      expect(unpacked).to.deep.equal({ ...terms, requester: terms.requester.toLowerCase(), ...top, resultDigest: DIGEST });
    }
  });

  it("keeps the fields apart: the widest terms leave the 120 unused bits of details empty", function () {
    const { details } = packFulfillment(WIDEST, DIGEST, { topClass: 0xffff, topScore: 10_000 });
    expect((details >> 32n) & ((1n << 120n) - 1n)).to.equal(0n);
  });

  it("refuses what does not fit rather than truncating it", function () {
    const top = { topClass: 1, topScore: 1 };
    expect(() => packFulfillment({ ...WIDEST, fee: 1n << 96n }, DIGEST, top)).to.throw(RangeError, /fee/);
    expect(() => packFulfillment({ ...WIDEST, deadline: 1n << 40n }, DIGEST, top)).to.throw(RangeError, /deadline/);
    expect(() => packFulfillment(WIDEST, DIGEST, { topClass: 0x10000, topScore: 1 })).to.throw(RangeError, /topClass/);
    expect(() => packFulfillment(WIDEST, DIGEST, { topClass: 1, topScore: 10_001 })).to.throw(RangeError, /basis points/);
  });
});
