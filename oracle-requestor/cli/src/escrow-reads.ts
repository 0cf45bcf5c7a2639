/**
 * What the CLI adds to the shared escrow reads (`chain/escrow-reads.ts`): a model named
 * by id or name, and fee currencies (their amounts as text: @argus/escrow/format).
 */
import { type Address, zeroAddress } from "viem";
import { type EscrowReader, listModels, type ModelInfo, readToken } from "@argus/escrow/escrow-reads";
import type { Currency as Units } from "@argus/escrow/format";
import type { CliContext } from "./context.ts";

/** A model by registry id (`2`) or name (`mobilenetv2-12-int8`). */
export async function resolveModel(ctx: EscrowReader, ref: string): Promise<ModelInfo> {
  const models = await listModels(ctx);
  const found = /^[0-9]+$/.test(ref) ? models.find((model) => model.id === Number(ref)) : models.find((model) => model.name === ref);
  if (found) return found;
  const known = models.map((model) => `${model.id} ${model.name}`).join(", ");
  throw new ModelNotFoundError(
    `no model "${ref}" in the registry of ${ctx.escrow}; known: ${known || "none (register one with `argus models add`)"}`,
  );
}

export class ModelNotFoundError extends Error {
  override name = "ModelNotFoundError";
}

/** A fee currency: its token (address(0): the chain's native currency) and how to show its amounts. */
export interface Currency extends Units {
  token: Address;
}

/** The fee currency: the chain's native currency for address(0), else the ERC-20's symbol and decimals. */
export async function currencyOf(ctx: Pick<CliContext, "client" | "deployment">, token: Address): Promise<Currency> {
  if (token === zeroAddress)
    return { token, symbol: ctx.deployment.chain.nativeCurrency.symbol, decimals: ctx.deployment.chain.nativeCurrency.decimals };
  const { symbol, decimals } = await readToken(ctx, token);
  return { token, symbol, decimals };
}
