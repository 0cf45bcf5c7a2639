/** `quote`: what one request costs now, and in which currency. Browser-safe. */
import type { Address } from "viem";
import { predictionEscrowAbi } from "./abi.generated.ts";
import type { EscrowReader } from "./escrow-reads.ts";

export interface Quote {
  /** The fee token; address(0): the chain's native currency. */
  token: Address;
  /** The fee in the token's smallest unit: the model's fee plus the callback gas at its price. */
  fee: bigint;
}

/**
 * The fee of a request to `modelId` with `callbackGasLimit` gas for a consumer contract's
 * callback (0, the default, for none). Pay exactly this, and name it as the request's
 * `maxFee`: a price raised meanwhile then reverts instead of charging more.
 */
export async function quote(reader: EscrowReader, modelId: number, callbackGasLimit = 0): Promise<Quote> {
  const [token, fee] = await reader.client.readContract({
    address: reader.escrow,
    abi: predictionEscrowAbi,
    functionName: "quote",
    args: [modelId, callbackGasLimit],
  });
  return { token, fee };
}
