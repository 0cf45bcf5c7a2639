import { expect } from "chai";

/**
 * `actual` is within `delta` of `expected`. Not chai's `closeTo`: once Hardhat's chai
 * matchers are loaded (by any suite in the same run that connects to a network) they
 * send every number through BigInt, and a fractional one fails with "not an integer".
 */
export function expectClose(actual: number | undefined, expected: number, delta: number, what?: string): void {
  expect(actual, what).to.be.a("number");
  expect(Math.abs(actual! - expected), `${what ?? "value"} ${actual} should be ${expected} ± ${delta}`).to.be.at.most(delta);
}
