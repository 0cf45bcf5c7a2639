import { BaseError, ChainMismatchError, ContractFunctionRevertedError, InsufficientFundsError, UserRejectedRequestError } from "viem";
import { predictionEscrowAbi } from "@argus/escrow/abi";
import { encodeErrorResult } from "viem";
import { describe, expect, it } from "vitest";
import { describeError, IpfsUnavailableError } from "./errors.ts";

describe("describeError", () => {
  it("explains a signature or transaction the user declined", () => {
    const wrapped = new BaseError("Request failed", { cause: new UserRejectedRequestError(new Error("User denied")) });
    expect(describeError(wrapped)).toMatchObject({ title: "Rejected in the wallet", remedy: "retry" });
    expect(describeError({ code: 4001, message: "denied" }).title).toBe("Rejected in the wallet");
  });

  it("offers to switch when the wallet is on another chain", () => {
    const mismatch = new ChainMismatchError({ chain: { id: 31337, name: "Hardhat" } as never, currentChainId: 1 });
    expect(describeError(mismatch)).toMatchObject({ title: "Wrong network", remedy: "switch-network" });
  });

  it("reports insufficient funds", () => {
    const error = new BaseError("failed", { cause: new InsufficientFundsError() });
    expect(describeError(error).title).toBe("Insufficient funds");
  });

  it("names an unreachable IPFS endpoint and how to start it", () => {
    const problem = describeError(new IpfsUnavailableError("http://127.0.0.1:5001"));
    expect(problem.title).toBe("IPFS endpoint down");
    expect(problem.message).toMatch(/127\.0\.0\.1:5001.*npm run ipfs/);
  });

  it("turns the escrow's custom errors into sentences", () => {
    const data = encodeErrorResult({ abi: predictionEscrowAbi, errorName: "ModelNotActive", args: [3] });
    const revert = new ContractFunctionRevertedError({ abi: predictionEscrowAbi, data, functionName: "requestPrediction" });
    expect(describeError(new BaseError("call reverted", { cause: revert }))).toMatchObject({ title: "Model not available" });
  });

  it("says that a fee raised or a window lengthened since the quote charged nothing", () => {
    const reverted = (errorName: "FeeAboveMax" | "DeadlineTooLate", args: readonly [bigint, bigint] | readonly [number, number]) => {
      const data = encodeErrorResult({ abi: predictionEscrowAbi, errorName, args } as never);
      return new BaseError("call reverted", {
        cause: new ContractFunctionRevertedError({ abi: predictionEscrowAbi, data, functionName: "requestPrediction" }),
      });
    };
    expect(describeError(reverted("FeeAboveMax", [2n, 1n]))).toMatchObject({ title: "The fee rose" });
    expect(describeError(reverted("FeeAboveMax", [2n, 1n])).message).toMatch(/nothing was charged/);
    expect(describeError(reverted("DeadlineTooLate", [2, 1]))).toMatchObject({ title: "The response window grew" });
  });
});
